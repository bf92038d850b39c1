use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Op;

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY` when the target server is
    /// PostgreSQL 14.0 to 14.3.
    ///
    /// ## Why it is bad
    /// These releases have a bug, fixed in 14.4, by which an index built or rebuilt concurrently
    /// can silently miss rows that were updated during the build. Queries that use the index then
    /// return wrong results, and a unique index may fail to enforce uniqueness. Nothing reports
    /// an error.
    ///
    /// ## Example
    /// ```sql
    /// -- pg_version = "14.2"
    /// CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
    /// ```
    ///
    /// ## Use instead
    /// Upgrade the server to 14.4 or later before building indexes concurrently. Indexes already
    /// built concurrently on 14.0 to 14.3 should be checked (`pg_amcheck --heapallindexed`) and
    /// rebuilt after the upgrade:
    /// ```sql
    /// -- after upgrading to 14.4+
    /// REINDEX INDEX CONCURRENTLY orders_status_idx;
    /// ```
    /// The rule needs the minor release: set `pg_version = "14.2"`; a bare `"14"` means the latest
    /// 14.x, which has the fix.
    pub struct CreateIndexConcurrentlyPg14Bug {
        name: "create-index-concurrently-pg14-bug",
        dialects: [Postgres],
        category: Correctness,
        severity: Error,
        fix: None,
        scope: Statement,
    }
}

impl Rule for CreateIndexConcurrentlyPg14Bug {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.pg_version;
        if version.major != 14 || version.minor > 3 {
            return;
        }
        for o in cx.ops() {
            let what = match o.op {
                // An index on a table created in this file sees no concurrent updates.
                Op::CreateIndex { concurrently: true, table, .. } if !cx.is_new_table(table, o.index) => {
                    "CREATE INDEX CONCURRENTLY"
                }
                Op::Reindex { concurrently: true, .. } => "REINDEX CONCURRENTLY",
                _ => continue,
            };
            let span = cx.word_in(o.stmt, "concurrently").unwrap_or(o.stmt.span);
            let d = out.report(
                o.stmt,
                span,
                format!(
                    "`{what}` on PostgreSQL {version} can build an index that silently misses rows updated \
                     during the build"
                ),
            );
            d.help = Some(
                "upgrade to PostgreSQL 14.4 or later first (or set pg_version to the real minor release); check \
                 indexes built concurrently on 14.0-14.3 with `pg_amcheck --heapallindexed` and rebuild them"
                    .into(),
            );
        }
    }
}
