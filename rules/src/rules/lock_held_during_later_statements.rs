use super::existing_locks::{data_proportional_work, existing_locks, ExistingLock};
use super::session_timeouts::timeouts_in_force;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Op, TransactionOp};
use sluice_core::{Label, Span, Statement};

declare_rule! {
    /// ## What it does
    /// Inside a transaction block, once a statement has taken a lock that blocks the traffic of a
    /// table that existed before the migration (SHARE or stronger: writes wait; ACCESS EXCLUSIVE:
    /// reads wait too), flags each later statement of the same transaction that can take long
    /// while that lock is still held:
    ///
    /// * work that grows with the data of an existing table: a rewrite, a full scan or
    ///   validation, an index build, `REINDEX`, `VACUUM FULL`, `CLUSTER` (as the lock model
    ///   describes them), or an `UPDATE`, `DELETE`, `MERGE` or `COPY` on an existing table;
    /// * a wait for a traffic-blocking lock on another existing table while no `lock_timeout`
    ///   bounds that wait.
    ///
    /// A later statement is not flagged when it takes the same lock (or a stronger one) on the
    /// same table itself: the table would be blocked for its duration anyway, and the rules
    /// about that statement speak for it. Cheap statements (metadata changes, `INSERT`s, anything
    /// on tables created in the same file) are not flagged. The finding is labelled with the
    /// statement that took the lock.
    ///
    /// ## Why it is bad
    /// PostgreSQL releases table locks only at `COMMIT` or `ROLLBACK`. A brief
    /// `ALTER TABLE ... ADD COLUMN` takes an ACCESS EXCLUSIVE lock for milliseconds of work, but
    /// if the same transaction then backfills the column or builds an index, every query on the
    /// table waits for the backfill or the build too. Files that a migration tool runs in one
    /// transaction (`assume_in_transaction`) make this easy to miss.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD COLUMN region text;
    /// UPDATE orders SET region = 'eu' WHERE region IS NULL;
    /// CREATE INDEX orders_region_idx ON orders (region);
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// Commit right after the statement that takes the lock, and do the long work in later
    /// transactions (or later migrations), each with the weakest lock it can use:
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD COLUMN region text;
    /// COMMIT;
    /// -- batches, each committed on its own
    /// UPDATE orders SET region = 'eu' WHERE id BETWEEN 1 AND 10000 AND region IS NULL;
    /// CREATE INDEX CONCURRENTLY orders_region_idx ON orders (region);
    /// ```
    pub struct LockHeldDuringLaterStatements {
        name: "lock-held-during-later-statements",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

/// A traffic-blocking lock the open transaction holds.
struct Held {
    lock: ExistingLock,
    /// The statement that took it (the strongest mode, the first time).
    stmt: usize,
}

impl Rule for LockHeldDuringLaterStatements {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let timeouts = timeouts_in_force(cx);
        let mut held: Vec<Held> = Vec::new();
        for s in cx.statements() {
            if !s.ctx.in_transaction {
                held.clear();
                continue;
            }
            let locks = existing_locks(cx, s.stmt, s.index);
            if !held.is_empty() {
                check_statement(cx, out, s.stmt, s.index, &locks, &held, &timeouts);
            }
            for lock in locks.into_iter().filter(ExistingLock::blocks_traffic) {
                match held.iter_mut().find(|h| h.lock.same_relation(&lock)) {
                    Some(h) if lock.mode > h.lock.mode => *h = Held { lock, stmt: s.index },
                    Some(_) => {}
                    None => held.push(Held { lock, stmt: s.index }),
                }
            }
            if s.stmt.ops.iter().any(|o| matches!(o, Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback)))
            {
                held.clear();
            }
        }
    }
}

fn check_statement(
    cx: &RuleContext<'_>,
    out: &mut Reporter,
    stmt: &Statement,
    index: usize,
    locks: &[ExistingLock],
    held: &[Held],
    timeouts: &[super::session_timeouts::Timeouts],
) {
    // The held locks this statement prolongs: those it does not take (as strongly) itself.
    let prolonged = held
        .iter()
        .filter(|h| {
            let own = locks.iter().filter(|l| l.same_relation(&h.lock)).map(|l| l.mode).max();
            own.is_none_or(|m| m < h.lock.mode)
        })
        .max_by(|a, b| a.lock.mode.cmp(&b.lock.mode).then(b.stmt.cmp(&a.stmt)));
    let Some(h) = prolonged else { return };
    let Some(taker) = cx.file.statements.get(h.stmt) else { return };
    let line = line_of(cx, taker.span.start);
    let held_desc = format!("the {} lock on {} taken on line {line}", h.lock.mode, h.lock.describe());

    let message = if let Some(work) = data_proportional_work(cx, stmt, index) {
        format!(
            "this statement {work} while the transaction still holds {held_desc}: {} waits until COMMIT, \
             for as long as this runs",
            h.lock.blocked_traffic()
        )
    } else {
        let bounded = timeouts.get(index).and_then(|t| t.lock).is_some_and(|t| !t.value.is_unlimited());
        let other = locks
            .iter()
            .filter(|l| l.blocks_traffic() && l.table().is_some())
            .find(|l| !held.iter().any(|h| h.lock.same_relation(l)));
        match other {
            Some(other) if !bounded => format!(
                "this statement waits, with no `lock_timeout`, for {} on {} while the transaction still holds \
                 {held_desc}: {} waits for as long as {} is busy",
                other.mode,
                other.describe(),
                h.lock.blocked_traffic(),
                other.describe()
            ),
            _ => return,
        }
    };
    let d = out.report(stmt, head_span(cx, stmt), message);
    d.labels.push(Label {
        span: head_span(cx, taker),
        message: format!("{} on {} taken here, held until COMMIT", h.lock.mode, h.lock.describe()),
    });
    d.help = Some(if cx.fcx.settings.assume_in_transaction && !explicit_begin_before(cx, index) {
        format!(
            "the migration tool runs this file in one transaction: move this statement to a later migration, so \
             the lock taken on line {line} is released first"
        )
    } else {
        format!(
            "commit right after the statement on line {line} and run this one in a later transaction (or \
             migration), so the lock is released first"
        )
    });
}

/// True when an explicit `BEGIN` opened the transaction statement `index` runs in.
fn explicit_begin_before(cx: &RuleContext<'_>, index: usize) -> bool {
    cx.fcx.statements.get(index).is_some_and(|c| c.explicit_transaction)
}

fn line_of(cx: &RuleContext<'_>, at: usize) -> usize {
    cx.text().get(..at).unwrap_or("").matches('\n').count() + 1
}

/// The statement up to the name of the table it works on (`UPDATE orders`,
/// `CREATE INDEX i ON orders`), or its first two words.
pub(crate) fn head_span(cx: &RuleContext<'_>, stmt: &Statement) -> Span {
    let table = stmt.ops.first().and_then(|op| match op {
        Op::Truncate { tables, .. } => tables.first(),
        Op::Vacuum { tables, .. } => tables.first(),
        Op::LockTable { tables, .. } => tables.first(),
        Op::Reindex { target, .. } => target.as_ref(),
        op => op.target_table(),
    });
    match table {
        Some(t) if !t.span.is_empty() && t.span.start >= stmt.span.start && t.span.end <= stmt.span.end => {
            Span::new(stmt.span.start, t.span.end)
        }
        _ => {
            let words: Vec<_> = cx.code_tokens(stmt).take(2).collect();
            match (words.first(), words.last()) {
                (Some(a), Some(b)) => a.span.cover(b.span),
                _ => stmt.span,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, messages, postgres};
    use crate::LintConfig;
    use sluice_core::{PgVersion, Settings};

    const RULE: &str = "lock-held-during-later-statements";

    fn run(sql: &str) -> Vec<String> {
        messages(sql, &postgres(PgVersion::default()), RULE)
    }

    fn wrapped() -> LintConfig {
        LintConfig {
            settings: Settings { assume_in_transaction: true, ..Settings::default() },
            ..LintConfig::default()
        }
    }

    #[test]
    fn long_work_after_a_strong_lock_fires() {
        for later in [
            "UPDATE orders SET region = 'eu' WHERE region IS NULL",
            "CREATE INDEX i ON orders (region)",
            "ALTER TABLE orders VALIDATE CONSTRAINT c",
            "UPDATE customers SET x = 1",
            "CREATE INDEX i ON customers (x)",
            "DELETE FROM customers WHERE created_at < now() - interval '1 year'",
        ] {
            let sql = format!("BEGIN;\nALTER TABLE orders ADD COLUMN region text;\n{later};\nCOMMIT;\n");
            let found = run(&sql);
            assert_eq!(found.len(), 1, "{sql}");
            assert!(found[0].contains("ACCESS EXCLUSIVE lock on `orders` taken on line 2"), "{found:?}");
        }
        let found = run("BEGIN;\nCREATE INDEX i ON orders (a);\nUPDATE orders SET a = 1;\nCOMMIT;\n");
        assert!(found[0].contains("every write to `orders` waits until COMMIT"), "{found:?}");
    }

    #[test]
    fn waiting_for_another_table_without_lock_timeout_fires() {
        let sql = "BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE customers ADD COLUMN b int;\nCOMMIT;\n";
        let found = run(sql);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("for as long as `customers` is busy"), "{found:?}");
        let bounded = format!("SET lock_timeout = '2s';\n{sql}");
        assert!(run(&bounded).is_empty());
    }

    #[test]
    fn cheap_or_self_locking_statements_stay_silent() {
        for later in [
            // Same table, same or stronger lock: blocked for its own duration anyway.
            "ALTER TABLE orders ADD COLUMN b int",
            "ALTER TABLE orders ALTER COLUMN a SET NOT NULL",
            // Cheap work.
            "INSERT INTO audit_log (what) VALUES ('added a')",
            "SELECT count(*) FROM customers",
            "COMMENT ON COLUMN orders.a IS 'x'",
            // New tables.
            "CREATE TABLE t (id int)",
        ] {
            let sql = format!("BEGIN;\nALTER TABLE orders ADD COLUMN a int;\n{later};\nCOMMIT;\n");
            assert!(run(&sql).is_empty(), "{sql}");
        }
        // Work on a table created in this file.
        assert!(run("BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nCREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\nINSERT INTO t SELECT 1;\nUPDATE t SET id = 2;\nCOMMIT;\n").is_empty());
        // Locks that do not block traffic are not held against later statements.
        assert!(
            run("BEGIN;\nALTER TABLE orders VALIDATE CONSTRAINT c;\nUPDATE customers SET x = 1;\nCOMMIT;\n").is_empty()
        );
    }

    #[test]
    fn transactions_end_at_commit_and_autocommit_releases_each_lock() {
        assert!(run("BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\nUPDATE orders SET a = 1;\n").is_empty());
        assert!(run("ALTER TABLE orders ADD COLUMN a int;\nUPDATE orders SET a = 1;\n").is_empty());
        let sql = "ALTER TABLE orders ADD COLUMN a int;\nUPDATE orders SET a = 1;\n";
        let found = findings(sql, &wrapped(), RULE);
        assert_eq!(found.len(), 1);
        assert!(found[0].help.as_deref().is_some_and(|h| h.contains("one transaction")), "{:?}", found[0].help);
        assert_eq!(found[0].labels[0].span.slice(sql), "ALTER TABLE orders");
        assert_eq!(found[0].span.slice(sql), "UPDATE orders");
        let sql = "ALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\nUPDATE orders SET a = 1;\n";
        assert!(findings(sql, &wrapped(), RULE).is_empty());
    }

    #[test]
    fn the_strongest_held_lock_is_named() {
        let sql = "BEGIN;\nCREATE INDEX i ON orders (a);\nALTER TABLE orders ADD COLUMN b int;\nUPDATE customers SET x = 1;\nCOMMIT;\n";
        let found = run(sql);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("ACCESS EXCLUSIVE lock on `orders` taken on line 3"), "{found:?}");
    }
}
