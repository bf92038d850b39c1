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
            let (why, help) = if o.ctx.explicit_transaction {
                (
                    "this one runs after an explicit BEGIN".to_string(),
                    "run it after the COMMIT, outside the transaction block",
                )
            } else {
                (cx.fcx.tool_transaction_reason(), cx.fcx.no_transaction_hint())
            };
            let d = out.report(
                o.stmt,
                span,
                format!("`{what}` cannot run inside a transaction block, and {why}: the deploy fails here"),
            );
            d.help = Some(help.into());
        }
    }
}
