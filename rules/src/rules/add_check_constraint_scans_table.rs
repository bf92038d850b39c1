use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};
use sluice_core::online_ddl::Target;
use sluice_core::Span;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD CHECK` (and `ADD COLUMN ... CHECK (...)`) on a table that
    /// existed before this migration. On MySQL before 8.0.16, which parses CHECK constraints and
    /// ignores them, it flags the constraint on any table as never enforced.
    ///
    /// ## Why it is bad
    /// MySQL 8.0.16+ and MariaDB 10.2+ validate every existing row when a CHECK constraint is
    /// added, and InnoDB cannot do that in place: the table is copied with writes blocked for the
    /// whole copy. On older MySQL the statement succeeds but the constraint does nothing, so the
    /// data it was meant to guard is not guarded.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD CONSTRAINT `chk_orders_amount` CHECK (`amount` >= 0);
    /// ```
    ///
    /// ## Use instead
    /// Validate in the application or with a trigger, or add the constraint with an online
    /// schema change tool (gh-ost, pt-online-schema-change) that copies the table without
    /// blocking writes. When a blocking copy is acceptable, say so:
    /// ```sql
    /// ALTER TABLE `orders` ADD CONSTRAINT `chk_orders_amount` CHECK (`amount` >= 0), ALGORITHM=COPY;
    /// ```
    /// (`algorithm-copy-or-blocking-lock` will then ask for a suppression comment.)
    pub struct AddCheckConstraintScansTable {
        name: "add-check-constraint-scans-table",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AddCheckConstraintScansTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.mysql_version;
        let enforced = Target::new(version).enforces_check_constraints();
        for (o, name, actions) in cx.alter_tables() {
            if enforced && cx.is_new_table(name, o.index) {
                continue;
            }
            for a in actions {
                let (span, label): (Span, String) = match &a.kind {
                    AlterActionKind::AddConstraint(c) if matches!(c.kind, ConstraintKind::Check { .. }) => (
                        a.span,
                        c.name.as_ref().map_or_else(
                            || "a CHECK constraint".to_string(),
                            |n| format!("CHECK constraint `{}`", n.name),
                        ),
                    ),
                    AlterActionKind::AddColumn { column, .. } => match &column.check {
                        Some(check) => (check.span, format!("a CHECK constraint on new column `{}`", column.name.name)),
                        None => continue,
                    },
                    _ => continue,
                };
                let t = name.display();
                let (message, help) = if enforced {
                    (
                        format!("adding {label} copies `{t}` to validate every row, blocking writes to it for the whole copy"),
                        "add it with gh-ost or pt-online-schema-change, or write `ALGORITHM=COPY` explicitly if blocking writes is acceptable",
                    )
                } else {
                    (
                        format!(
                            "{version} parses CHECK constraints and ignores them: {label} on `{t}` is never enforced"
                        ),
                        "enforce the rule in the application or with a trigger, or upgrade to MySQL 8.0.16+",
                    )
                };
                out.report(o.stmt, span, message).help = Some(help.into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{self, mysql};
    use sluice_core::MySqlVersion;

    fn messages(sql: &str, version: MySqlVersion) -> Vec<String> {
        test_util::messages(sql, &mysql(version), "add-check-constraint-scans-table")
    }

    #[test]
    fn old_mysql_ignores_check_constraints_even_on_new_tables() {
        let sql = "CREATE TABLE t (a INT);\nALTER TABLE t ADD CONSTRAINT chk_a CHECK (a > 0);";
        let old = messages(sql, MySqlVersion::mysql(8, 0, 15));
        assert_eq!(old.len(), 1, "{old:?}");
        assert!(old[0].contains("ignores them") && old[0].contains("never enforced"), "{old:?}");
        // Enforcing servers only care about existing tables.
        assert!(messages(sql, MySqlVersion::mysql(8, 0, 16)).is_empty());
        assert!(messages(sql, MySqlVersion::mariadb(10, 11, 0)).is_empty());
        let existing = messages("ALTER TABLE t ADD CHECK (a > 0);", MySqlVersion::mariadb(10, 11, 0));
        assert!(existing.len() == 1 && existing[0].contains("copies `t`"), "{existing:?}");
    }
}
