use super::existing_locks::{existing_locks, row_changes, scan_or_rewrite, ExistingLock};
use super::lock_held_during_later_statements::head_span;
use super::session_timeouts::timeouts_in_force;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags the first statement of a file whose run time grows with the size of a table that
    /// existed before the migration, when no `statement_timeout` was set earlier in the file: a
    /// table rewrite (`ALTER COLUMN TYPE`, a volatile default, `SET TABLESPACE`, `VACUUM FULL`,
    /// `CLUSTER`), a full scan or validation, an index build (`CONCURRENTLY` or not),
    /// `REINDEX`, or an `UPDATE` / `DELETE` without `WHERE`. It reports once per file, and
    /// counts the later ones. Any explicit value counts as a decision, `0` (no limit) included;
    /// `SET statement_timeout TO DEFAULT` and `RESET` do not.
    ///
    /// ## Why it is bad
    /// How long such a statement may run is then decided by whatever the session inherits, which
    /// differs between environments. With PostgreSQL's default (no limit), a rewrite that holds
    /// ACCESS EXCLUSIVE runs to the end however long the table makes it, and nothing stops the
    /// outage. With a limit set for the application's role or by the hosting platform (often
    /// seconds), the statement is cancelled midway: a rewrite or backfill is rolled back after
    /// blocking for that long, and `CREATE INDEX CONCURRENTLY` leaves an INVALID index behind
    /// that must be dropped before a retry. Either way the outcome is not the one the author
    /// tested.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    /// ```
    ///
    /// ## Use instead
    /// State the budget the operation needs, sized to the table:
    /// ```sql
    /// SET statement_timeout = '2h';  -- or 0: no limit, for work that does not block traffic
    /// CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    /// ```
    /// For a statement that blocks traffic (a rewrite, a scan under ACCESS EXCLUSIVE), a finite
    /// budget turns an unbounded outage into a rolled-back, retryable migration. For one that
    /// does not (`CONCURRENTLY`, `VALIDATE CONSTRAINT`), a generous budget or `0` keeps a
    /// short default from cancelling it. The default severity is `info`: the right value
    /// depends on the table and the platform, so this is a prompt to decide it.
    pub struct StatementTimeoutForLongOperation {
        name: "statement-timeout-for-long-operation",
        dialects: [Postgres],
        category: Locking,
        severity: Info,
        fix: None,
    }
}

impl Rule for StatementTimeoutForLongOperation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let timeouts = timeouts_in_force(cx);
        let mut first = None;
        let mut later = 0usize;
        for s in cx.statements() {
            if timeouts.get(s.index).is_some_and(|t| t.statement.is_some()) || s.ctx.statement_timeout_set {
                continue;
            }
            let Some(work) = scan_or_rewrite(cx, s.stmt, s.index).or_else(|| row_changes(cx, s.stmt, s.index, false))
            else {
                continue;
            };
            match first {
                None => first = Some((s, work)),
                Some(_) => later += 1,
            }
        }
        let Some((s, work)) = first else { return };
        let blocking =
            existing_locks(cx, s.stmt, s.index).into_iter().filter(ExistingLock::blocks_traffic).max_by_key(|l| l.mode);
        let more = match later {
            0 => String::new(),
            1 => "; 1 more long statement below runs without one too".to_string(),
            n => format!("; {n} more long statements below run without one too"),
        };
        let d = out.report(
            s.stmt,
            head_span(cx, s.stmt),
            format!(
                "this statement {work} with no `statement_timeout` set in the migration: the session's default \
                 decides whether it may run for hours or is cancelled midway{more}"
            ),
        );
        d.help = Some(match blocking {
            Some(lock) => format!(
                "set an explicit budget before it (`SET statement_timeout = '15min';`, sized to the table): it \
                 holds {} on {}, and a budget turns an unbounded block into a rolled-back, retryable migration",
                lock.mode,
                lock.describe()
            ),
            None => "it does not block reads or writes: set a generous budget or `SET statement_timeout = 0;` \
                     before it, so a short role or platform default cannot cancel it midway (CREATE INDEX \
                     CONCURRENTLY would leave an INVALID index behind)"
                .to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{messages, postgres};
    use sluice_core::PgVersion;

    const RULE: &str = "statement-timeout-for-long-operation";

    fn run(sql: &str) -> Vec<String> {
        messages(sql, &postgres(PgVersion::default()), RULE)
    }

    #[test]
    fn long_operations_without_a_budget_fire_once() {
        for sql in [
            "CREATE INDEX CONCURRENTLY i ON orders (a);",
            "CREATE INDEX i ON orders (a);",
            "ALTER TABLE orders ALTER COLUMN a TYPE bigint;",
            "ALTER TABLE orders VALIDATE CONSTRAINT c;",
            "VACUUM FULL orders;",
            "UPDATE orders SET a = 0;",
            "ALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0);",
        ] {
            assert_eq!(run(sql).len(), 1, "{sql}");
        }
        let found = run(
            "CREATE INDEX i ON orders (a);\nALTER TABLE orders ALTER COLUMN a TYPE bigint;\nUPDATE orders SET a = 0;\n",
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("builds an index") && found[0].contains("2 more long statements"), "{found:?}");
    }

    #[test]
    fn an_explicit_budget_or_cheap_work_stays_silent() {
        for sql in [
            "SET statement_timeout = '30min';\nCREATE INDEX i ON orders (a);",
            "SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY i ON orders (a);",
            "SELECT set_config('statement_timeout', '1h', false);\nALTER TABLE orders ALTER COLUMN a TYPE bigint;",
            "BEGIN;\nSET LOCAL statement_timeout = '10min';\nVACUUM FULL orders;\nCOMMIT;",
            "ALTER TABLE orders ADD COLUMN a int;",
            "ALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0) NOT VALID;",
            "UPDATE orders SET a = 0 WHERE id = 42;",
            "CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\nUPDATE t SET id = 1;",
        ] {
            assert!(run(sql).is_empty(), "{sql}");
        }
        // DEFAULT and RESET hand the decision back to the session.
        assert_eq!(
            run("SET statement_timeout = '1h';\nRESET statement_timeout;\nCREATE INDEX i ON orders (a);").len(),
            1
        );
    }
}
