use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD PRIMARY KEY` and `ADD UNIQUE` without `USING INDEX`, on a table
    /// that existed before this migration.
    ///
    /// ## Why it is bad
    /// The constraint's unique index is built inside the `ALTER TABLE`, under an ACCESS EXCLUSIVE
    /// lock: reads and writes on the table wait for the whole index build. A primary key on
    /// nullable columns also scans the table to set them NOT NULL.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    /// ```
    ///
    /// ## Use instead
    /// Build the index first without blocking writes, then attach it, which is instant:
    /// ```sql
    /// CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    /// ```
    /// The same works for `PRIMARY KEY USING INDEX` (make the columns NOT NULL first).
    pub struct UniqueConstraintBuildsIndex {
        name: "unique-constraint-builds-index",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for UniqueConstraintBuildsIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddConstraint(c) = &a.kind else { continue };
            let table = name.display();
            let kind = match c.kind {
                ConstraintKind::PrimaryKey => "PRIMARY KEY",
                ConstraintKind::Unique => "UNIQUE",
                _ => continue,
            };
            if c.using_index.is_some() {
                continue;
            }
            let cols = c.columns.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
            let d = out.report(
                o.stmt,
                c.span,
                format!(
                    "adding `{kind}` on `{table}` ({cols}) builds its unique index under an ACCESS EXCLUSIVE \
                     lock: reads and writes wait for the whole build"
                ),
            );
            // PostgreSQL's own default names when the constraint has none.
            let index = match (&c.name, &c.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ConstraintKind::PrimaryKey) => format!("{}_pkey", name.name),
                (None, _) => format!(
                    "{}_{}_key",
                    name.name,
                    c.columns.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("_")
                ),
            };
            d.help = Some(format!(
                "run `CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({cols})` first, then \
                 `ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index}`"
            ));
        }
    }
}
