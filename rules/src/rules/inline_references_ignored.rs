use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ColumnDef, Op, QualifiedName};
use sluice_core::online_ddl::Target;

declare_rule! {
    /// ## What it does
    /// Flags a column-level `REFERENCES other (col)` in `CREATE TABLE`, `ADD COLUMN`, `MODIFY`
    /// or `CHANGE` on servers that ignore it: MySQL before 9.0 and MariaDB before 10.5.
    ///
    /// ## Why it is bad
    /// These servers parse the inline `REFERENCES` clause and then drop it without an error or a
    /// warning: no foreign key exists. The schema reads as if the database enforced the
    /// relationship while orphaned rows pile up, and `ON DELETE CASCADE` written there never
    /// runs.
    ///
    /// ## Example
    /// ```sql
    /// CREATE TABLE `invoices` (
    ///   `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ///   `order_id` BIGINT UNSIGNED NOT NULL REFERENCES `orders` (`id`)
    /// ) ENGINE=InnoDB;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE TABLE `invoices` (
    ///   `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ///   `order_id` BIGINT UNSIGNED NOT NULL,
    ///   CONSTRAINT `fk_invoices_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`)
    /// ) ENGINE=InnoDB;
    /// ```
    pub struct InlineReferencesIgnored {
        name: "inline-references-ignored",
        dialects: [MySql],
        category: Correctness,
        severity: Error,
        fix: None,
    }
}

impl Rule for InlineReferencesIgnored {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.mysql_version;
        if Target::new(version).honours_inline_references() {
            return;
        }
        for o in cx.ops() {
            let (table, columns): (&QualifiedName, Vec<&ColumnDef>) = match o.op {
                Op::CreateTable { name, columns, .. } => (name, columns.iter().collect()),
                Op::AlterTable { name, actions, .. } => (
                    name,
                    actions
                        .iter()
                        .filter_map(|a| match &a.kind {
                            AlterActionKind::AddColumn { column, .. } => Some(column),
                            AlterActionKind::AlterColumnType { new_definition: Some(d), .. } => Some(&**d),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => continue,
            };
            for c in columns {
                let Some(target) = &c.references else { continue };
                let d = out.report(
                    o.stmt,
                    target.span,
                    format!(
                        "{version} parses this column-level REFERENCES and silently ignores it: no foreign key from `{}.{}` to `{}` is created",
                        table.display(),
                        c.name.name,
                        target.table.display()
                    ),
                );
                let referenced: Vec<&str> = target.columns.iter().map(|i| i.name.as_str()).collect();
                d.help = Some(format!(
                    "declare it as a table constraint: `FOREIGN KEY ({}) REFERENCES {} ({})`",
                    c.name.name,
                    target.table.display(),
                    referenced.join(", ")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, mysql};
    use sluice_core::MySqlVersion;

    fn count(sql: &str, version: MySqlVersion) -> usize {
        findings(sql, &mysql(version), "inline-references-ignored").len()
    }

    #[test]
    fn only_servers_that_ignore_inline_references() {
        let sql = "CREATE TABLE c (id INT, p INT REFERENCES p (id));";
        assert_eq!(count(sql, MySqlVersion::mysql(8, 4, 3)), 1);
        assert_eq!(count(sql, MySqlVersion::mariadb(10, 4, 0)), 1);
        assert_eq!(count(sql, MySqlVersion::mysql(9, 0, 0)), 0);
        assert_eq!(count(sql, MySqlVersion::mariadb(10, 5, 0)), 0);
    }
}
