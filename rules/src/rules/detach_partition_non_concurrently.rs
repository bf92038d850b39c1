use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` on a partitioned table
    /// that existed before this migration.
    ///
    /// ## Why it is bad
    /// A plain detach takes an ACCESS EXCLUSIVE lock on the parent table: every query on any
    /// partition through the parent waits for it, and the lock request itself queues behind
    /// every running query on the table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events DETACH PARTITION events_2023_01;
    /// ```
    ///
    /// ## Use instead
    /// On PostgreSQL 14 and later:
    /// ```sql
    /// ALTER TABLE events DETACH PARTITION events_2023_01 CONCURRENTLY;
    /// ```
    /// It only takes a SHARE UPDATE EXCLUSIVE lock on the parent. It cannot run inside a
    /// transaction block and is refused when the table has a default partition; if it is
    /// interrupted, finish it with `DETACH PARTITION ... FINALIZE`.
    pub struct DetachPartitionNonConcurrently {
        name: "detach-partition-non-concurrently",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
        scope: Statement,
    }
}

impl Rule for DetachPartitionNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.pg_version;
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::DetachPartition { partition, concurrently: false } = &a.kind else { continue };
            let d = out.report(
                o.stmt,
                a.span,
                format!(
                    "detaching `{}` takes an ACCESS EXCLUSIVE lock on `{}`: all reads and writes of the \
                     partitioned table wait",
                    partition.display(),
                    name.display()
                ),
            );
            if version.at_least(14) {
                d.help = Some("use `DETACH PARTITION ... CONCURRENTLY`, outside a transaction block".into());
                d.fix = Some(o.add_concurrently_fix(a.span.end));
            } else {
                d.help = Some(format!(
                    "`DETACH PARTITION ... CONCURRENTLY` needs PostgreSQL 14 (target: {version}): run the detach \
                     when traffic is low, with a short `lock_timeout`"
                ));
            }
        }
    }
}
