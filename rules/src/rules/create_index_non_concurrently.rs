use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Op;

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX` without `CONCURRENTLY` on a table that existed before this migration.
    ///
    /// ## Why it is bad
    /// A plain index build takes a SHARE lock on the table for the whole build: reads continue,
    /// but every INSERT, UPDATE and DELETE waits until the index is finished, which on a large
    /// table means minutes of failed writes.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
    /// ```
    /// `CONCURRENTLY` cannot run inside a transaction block, so the migration must run without
    /// one, and a failed build leaves an INVALID index behind that must be dropped before a retry.
    /// Indexes on tables created in the same migration are not flagged: those tables are empty.
    pub struct CreateIndexNonConcurrently {
        name: "create-index-non-concurrently",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
        scope: Statement,
    }
}

impl Rule for CreateIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::CreateIndex { table, concurrently: false, keyword_span, .. } = o.op else { continue };
            if cx.is_new_table(table, o.index) {
                continue;
            }
            let d = out.report(
                o.stmt,
                *keyword_span,
                format!("`CREATE INDEX` on `{}` blocks writes to the table for the whole build", table.display()),
            );
            d.help = Some("build it with `CREATE INDEX CONCURRENTLY`, outside a transaction block".into());
            d.fix = Some(o.add_concurrently_fix(keyword_span.end));
        }
    }
}
