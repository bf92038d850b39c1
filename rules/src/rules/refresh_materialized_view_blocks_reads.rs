use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{ObjectKind, Op};
use sluice_core::{Applicability, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` on a materialized view that
    /// existed before this migration, and `REFRESH ... WITH NO DATA`, which leaves such a view
    /// unreadable. A view created earlier in the same migration (or in one not applied yet) has
    /// no readers and is left alone.
    ///
    /// ## Why it is bad
    /// A plain refresh runs the view's whole query again and swaps the result in while holding
    /// an ACCESS EXCLUSIVE lock on the view: every query that reads it waits until the query
    /// finishes, which for the views worth materializing is often minutes. `WITH NO DATA` is
    /// quick, but afterwards every query on the view fails ("has not been populated") until
    /// something refreshes it.
    ///
    /// ## Example
    /// ```sql
    /// REFRESH MATERIALIZED VIEW order_totals;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;
    /// ```
    /// `CONCURRENTLY` holds only an EXCLUSIVE lock, so reads continue; it needs a unique index
    /// on the view that covers every row (plain column names, no `WHERE`) and a view that is
    /// already populated, and it does more work when most rows change. The fix inserts
    /// `CONCURRENTLY` and needs `--unsafe-fixes`, because the refresh fails without that index.
    pub struct RefreshMaterializedViewBlocksReads {
        name: "refresh-materialized-view-blocks-reads",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Unsafe,
        scope: Statement,
    }
}

impl Rule for RefreshMaterializedViewBlocksReads {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::RefreshMaterializedView { name, concurrently: false, with_data } = o.op else { continue };
            let created = cx.fcx.catalog_before(o.index).object(ObjectKind::MaterializedView, name).map(|origin| {
                let origin = cx.fcx.origin(origin);
                origin.file.is_none() || origin.pending
            });
            if created == Some(true) {
                continue;
            }
            if !with_data {
                let d = out.report(
                    o.stmt,
                    name.span,
                    format!(
                        "`WITH NO DATA` leaves `{}` unpopulated: every query on it fails until it is refreshed again",
                        name.display()
                    ),
                );
                d.help = Some("refresh it with data in the same migration, or drop the view if nothing reads it".into());
                continue;
            }
            let d = out.report(
                o.stmt,
                name.span,
                format!(
                    "refreshing `{}` without `CONCURRENTLY` re-runs its query under an ACCESS EXCLUSIVE lock: \
                     every read of the view waits until the refresh finishes",
                    name.display()
                ),
            );
            d.help = Some(format!(
                "write `REFRESH MATERIALIZED VIEW CONCURRENTLY {}` (it needs a unique index on the view)",
                name.display()
            ));
            // Embedded statements (function bodies, DO blocks) get no fix.
            if let Some(view) = cx.word_before(o.stmt, name.span.start, "view") {
                d.fix = Some(Fix {
                    description: "Refresh concurrently".into(),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::insert(view.span.end, " CONCURRENTLY")],
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, postgres};
    use sluice_core::PgVersion;

    fn count(sql: &str) -> usize {
        findings(sql, &postgres(PgVersion::new(16, 0)), "refresh-materialized-view-blocks-reads").len()
    }

    #[test]
    fn only_a_plain_refresh_of_an_existing_view_fires() {
        assert_eq!(count("REFRESH MATERIALIZED VIEW totals;"), 1);
        assert_eq!(count("REFRESH MATERIALIZED VIEW CONCURRENTLY totals;"), 0);
        assert_eq!(count("REFRESH MATERIALIZED VIEW totals WITH NO DATA;"), 1);
        assert_eq!(count("REFRESH MATERIALIZED VIEW totals WITH NO DATA;\nREFRESH MATERIALIZED VIEW CONCURRENTLY totals;"), 1);
        assert_eq!(count("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS a WITH NO DATA;\nREFRESH MATERIALIZED VIEW totals;"), 0);
    }

    #[test]
    fn lock_rules_see_the_refresh() {
        let config = postgres(PgVersion::new(16, 0));
        // A plain refresh needs ACCESS EXCLUSIVE; a concurrent one blocks no traffic of the view.
        assert_eq!(findings("REFRESH MATERIALIZED VIEW totals;", &config, "ddl-without-lock-timeout").len(), 1);
        let high = "SET lock_timeout = '1min';\nREFRESH MATERIALIZED VIEW CONCURRENTLY totals;";
        assert!(findings(high, &config, "lock-timeout-too-high").is_empty());
        assert_eq!(findings("SET lock_timeout = '1min';\nREFRESH MATERIALIZED VIEW totals;", &config, "lock-timeout-too-high").len(), 1);
    }
}
