use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind, QualifiedName};

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
        fix: None,
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
                        let proven =
                            pg12 && checks.iter().any(|k| k.validated && k.table.same_object(name) && k.column == col);
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
