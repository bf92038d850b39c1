use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::catalog::CatalogConstraintKind;
use sluice_core::ir::{AlterActionKind, ConstraintKind, QualifiedName};
use sluice_core::{Applicability, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` on a table that existed before this
    /// migration.
    ///
    /// ## Why it is bad
    /// PostgreSQL takes an ACCESS EXCLUSIVE lock and reads every row to prove the column holds
    /// no NULL. Nothing can read or write the table until the scan is over, which on a large
    /// table means an outage of the same length.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// On PostgreSQL 12 and later, prove it with a constraint first, then the scan is skipped:
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    /// -- in a separate transaction: scans without blocking reads or writes
    /// ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
    /// -- no scan: the validated constraint already proves it
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    /// ```
    /// The rule stays silent when an earlier statement of the same file added (or validated) such
    /// a `CHECK (col IS NOT NULL)` constraint on the table, and the target is PostgreSQL 12 or
    /// later. Before PostgreSQL 12 the scan cannot be avoided: run it when traffic is low, with a
    /// `lock_timeout`. PostgreSQL 18 also accepts `ADD CONSTRAINT ... NOT NULL col NOT VALID`.
    pub struct SetNotNullScansTable {
        name: "set-not-null-scans-table",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
    }
}

/// A `CHECK (col IS NOT NULL)` seen earlier in the file.
struct NotNullCheck {
    table: QualifiedName,
    name: Option<String>,
    column: String,
    validated: bool,
}

/// Lower case, without whitespace, double quotes or enclosing parentheses.
fn squash(s: &str) -> String {
    let mut t: String = s.chars().filter(|c| !c.is_whitespace() && *c != '"').collect::<String>().to_lowercase();
    while t.starts_with('(') && t.ends_with(')') {
        t = t[1..t.len() - 1].to_string();
    }
    t
}

/// The column of an `col IS NOT NULL` expression.
fn is_not_null_column(expr: &str) -> Option<String> {
    let t = squash(expr);
    let col = t.strip_suffix("isnotnull")?;
    let col = col.trim_matches(|c| c == '(' || c == ')');
    (!col.is_empty()).then(|| col.to_string())
}

impl Rule for SetNotNullScansTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let pg12 = cx.fcx.settings.pg_version.at_least(12);
        let mut checks: Vec<NotNullCheck> = Vec::new();
        for (o, name, actions) in cx.alter_tables() {
            let new_table = cx.is_new_table(name, o.index);
            let table = name.display();
            let mut found: Vec<NotNullCheck> = Vec::new();
            for a in actions {
                match &a.kind {
                    AlterActionKind::AddConstraint(c) => {
                        if let ConstraintKind::Check { expr } = &c.kind {
                            if let Some(column) = is_not_null_column(&expr.text) {
                                found.push(NotNullCheck {
                                    table: name.clone(),
                                    name: c.name.as_ref().map(|n| n.name.clone()),
                                    column,
                                    validated: !c.not_valid,
                                });
                            }
                        }
                    }
                    AlterActionKind::ValidateConstraint { name: cn } => {
                        for k in checks.iter_mut().filter(|k| k.table.same_object(name)) {
                            if k.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&cn.name)) {
                                k.validated = true;
                            }
                        }
                    }
                    AlterActionKind::SetNotNull { column } if !new_table => {
                        let col = column.name.to_lowercase();
                        let known = cx.fcx.catalog_before(o.index).column(name, &column.name);
                        // Already NOT NULL: PostgreSQL returns without scanning.
                        if known.is_some_and(|c| c.not_null) {
                            continue;
                        }
                        let proven = pg12
                            && (checks.iter().any(|k| k.validated && k.table.same_object(name) && k.column == col)
                                || cx
                                    .fcx
                                    .catalog_before(o.index)
                                    .table(name)
                                    .is_some_and(|t| t.has_validated_not_null_check(&column.name)));
                        if proven {
                            continue;
                        }
                        let d = out.report(
                            o.stmt,
                            column.span,
                            format!(
                                "`SET NOT NULL` on `{table}.{}` scans the whole table under an ACCESS EXCLUSIVE \
                                 lock: reads and writes wait until every row is checked",
                                column.name
                            ),
                        );
                        let c = column.span.slice(cx.text());
                        let c = if c.is_empty() { column.name.as_str() } else { c };
                        if pg12 && actions.len() == 1 && !o.ctx.in_transaction {
                            let written = name.span.slice(cx.text());
                            let written = if written.is_empty() { table.as_str() } else { written };
                            // An unvalidated check that already states the column is NOT NULL only
                            // needs validating; otherwise add one.
                            let pending = checks
                                .iter()
                                .filter(|k| !k.validated && k.table.same_object(name) && k.column == col)
                                .find_map(|k| k.name.clone())
                                .or_else(|| {
                                    cx.fcx.catalog_before(o.index).table(name).and_then(|t| {
                                        t.constraints.iter().find_map(|c| match &c.kind {
                                            CatalogConstraintKind::Check { not_null_of: Some(n), .. }
                                                if !c.validated && n.eq_ignore_ascii_case(&column.name) =>
                                            {
                                                c.name.clone()
                                            }
                                            _ => None,
                                        })
                                    })
                                });
                            d.fix = Some(match pending {
                                Some(existing) => Fix {
                                    description: format!("Validate `{existing}` first"),
                                    applicability: Applicability::Safe,
                                    edits: vec![Edit::insert(
                                        o.stmt.span.start,
                                        format!("ALTER TABLE {written} VALIDATE CONSTRAINT {existing};\n"),
                                    )],
                                },
                                None => check_sequence_fix(cx, o.stmt, written, &column.name),
                            });
                        }
                        d.help = Some(if pg12 {
                            format!(
                                "first add `CHECK ({c} IS NOT NULL) NOT VALID` and `VALIDATE` it in a separate \
                                 transaction; `SET NOT NULL` then skips the scan, and the check can be dropped"
                            )
                        } else {
                            format!(
                                "before PostgreSQL 12 (target: {}) the scan cannot be skipped: run this when \
                                 traffic is low and with a short `lock_timeout`",
                                cx.fcx.settings.pg_version
                            )
                        });
                    }
                    _ => {}
                }
            }
            checks.extend(found);
        }
    }
}

/// Replaces `ALTER TABLE t ALTER COLUMN c SET NOT NULL` with the sequence that proves the column
/// has no NULLs under a SHARE UPDATE EXCLUSIVE lock first. Each statement runs on its own (the file
/// is not in a transaction), so only `VALIDATE` scans, without blocking reads or writes.
fn check_sequence_fix(cx: &RuleContext<'_>, stmt: &sluice_core::Statement, table: &str, column: &str) -> Fix {
    let ident = |s: &str| {
        if s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            s.to_string()
        } else {
            format!("\"{}\"", s.replace('"', "\"\""))
        }
    };
    let col = ident(column);
    let base: String = format!("{}_{}", table.rsplit('.').next().unwrap_or(table).trim_matches('"'), column)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(50)
        .collect();
    let constraint = format!("{base}_not_null");
    let original = stmt.text(cx.text());
    let replacement = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({col} IS NOT NULL) NOT VALID;\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};\n\
         {original};\n\
         ALTER TABLE {table} DROP CONSTRAINT {constraint}"
    );
    Fix {
        description: "Prove NOT NULL with a validated CHECK constraint first".into(),
        applicability: Applicability::Safe,
        edits: vec![Edit::replace(stmt.span, replacement)],
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::after_history;

    fn findings(earlier: &str, later: &str) -> usize {
        after_history(earlier, later, "set-not-null-scans-table").len()
    }

    #[test]
    fn a_check_validated_by_an_earlier_migration_proves_the_column() {
        let table = "CREATE TABLE users (id int, email text);";
        let set = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;";
        assert_eq!(findings(table, set), 1);
        let proven = format!(
            "{table} ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID; \
             ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;"
        );
        assert_eq!(findings(&proven, set), 0);
        let unvalidated =
            format!("{table} ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;");
        assert_eq!(findings(&unvalidated, set), 1);
        let already = "CREATE TABLE users (id int, email text NOT NULL);";
        assert_eq!(findings(already, set), 0, "already NOT NULL: no scan");
    }
}
