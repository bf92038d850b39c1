use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, Op};

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY` and
    /// `DETACH PARTITION CONCURRENTLY` that run inside a transaction block: after an explicit
    /// `BEGIN`, or in a file the migration tool wraps in a transaction
    /// (`assume_in_transaction = true`).
    ///
    /// ## Why it is bad
    /// PostgreSQL refuses these statements inside a transaction block
    /// ("cannot run inside a transaction block"). The migration passes review and fails at
    /// deploy time, after the statements before it have run.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
    /// ```
    /// in a migration file of its own that the tool runs without a transaction (for example
    /// golang-migrate or dbmate with `transaction:false`, goose `NO TRANSACTION`, sqlx
    /// `-- no-transaction`).
    pub struct ConcurrentlyInTransaction {
        name: "concurrently-in-transaction",
        dialects: [Postgres],
        category: Transaction,
        severity: Error,
        fix: None,
    }
}

impl Rule for ConcurrentlyInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            if !o.ctx.in_transaction {
                continue;
            }
            let what = match o.op {
                Op::CreateIndex { concurrently: true, .. } => "CREATE INDEX CONCURRENTLY",
                Op::DropIndex { concurrently: true, .. } => "DROP INDEX CONCURRENTLY",
                Op::Reindex { concurrently: true, .. } => "REINDEX CONCURRENTLY",
                Op::AlterTable { actions, .. }
                    if actions
                        .iter()
                        .any(|a| matches!(a.kind, AlterActionKind::DetachPartition { concurrently: true, .. })) =>
                {
                    "DETACH PARTITION CONCURRENTLY"
                }
                _ => continue,
            };
            let span = cx.word_in(o.stmt, "concurrently").unwrap_or(o.stmt.span);
            let why = if o.ctx.explicit_transaction {
                "after an explicit BEGIN"
            } else {
                "and this file runs inside a transaction (assume_in_transaction)"
            };
            let d = out.report(o.stmt, span, format!("`{what}` cannot run inside a transaction block, {why}"));
            d.help = Some("move it to a migration that runs without a transaction".into());
        }
    }
}
