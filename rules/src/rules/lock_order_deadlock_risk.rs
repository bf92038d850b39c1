use super::existing_locks::{existing_locks, ExistingLock};
use super::lock_held_during_later_statements::head_span;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::catalog::CatalogConstraintKind;
use sluice_core::ir::{Op, QualifiedName, TransactionOp};
use sluice_core::pg_locks::LockMode;
use sluice_core::{Label, Statement};

declare_rule! {
    /// ## What it does
    /// Inside one transaction block, flags two lock patterns on tables that existed before the
    /// migration that can deadlock with the application:
    ///
    /// * a lock upgrade: the transaction holds a lock that blocks writes but not reads (SHARE,
    ///   SHARE ROW EXCLUSIVE or EXCLUSIVE, e.g. from `CREATE INDEX` or `ADD FOREIGN KEY`) and a
    ///   later statement needs ACCESS EXCLUSIVE on the same table;
    /// * a second ACCESS EXCLUSIVE table: the transaction holds ACCESS EXCLUSIVE on one table and
    ///   a later statement takes ACCESS EXCLUSIVE on another table linked to it by a foreign key
    ///   (in either direction, known from the migration history or from the file itself).
    ///
    /// It is deliberately narrow. Tables without a known foreign key between them are not
    /// paired: the application may still use them together, but the linter cannot know it, and
    /// a migration that changes several tables in one transaction is common and usually fine
    /// with a short `lock_timeout`. Inserts and updates of a referencing table lock the
    /// referenced table too (to check the key), which is what makes linked tables the likely
    /// deadlock. Locks that only block writes, such as the SHARE ROW EXCLUSIVE that
    /// `ADD FOREIGN KEY` takes on both of its tables, are not counted; objects being dropped are
    /// not counted (they are no longer used); and `LOCK TABLE` statements at the start of the
    /// transaction, before any other statement takes a lock, are the recommended remedy and are
    /// never flagged. Taking a table again with a lock the transaction already holds is free and
    /// not flagged.
    ///
    /// ## Why it is bad
    /// A deadlock needs two transactions that each wait for a lock the other holds. Application
    /// transactions hold their locks until they commit too: one that read `orders` and now wants
    /// to write it waits for a migration's SHARE lock, while the migration's upgrade to ACCESS
    /// EXCLUSIVE waits for that read. Likewise a migration holding `orders` and waiting for
    /// `customers` deadlocks with a request that holds `customers` and waits for `orders`.
    /// PostgreSQL detects the cycle after `deadlock_timeout` (1 s by default) and aborts one of
    /// the two: either the deploy fails, or a user's request does, after both have blocked the
    /// tables for that long.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX orders_region_idx ON orders (region);
    /// ALTER TABLE orders ADD COLUMN note text;  -- upgrade from SHARE to ACCESS EXCLUSIVE
    /// ALTER TABLE customers ADD COLUMN tier text;  -- a second ACCESS EXCLUSIVE table
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// Change one table per transaction, or take every lock the transaction needs at its start,
    /// strongest first, in the order the application uses the tables:
    /// ```sql
    /// BEGIN;
    /// SET LOCAL lock_timeout = '5s';
    /// LOCK TABLE orders, customers IN ACCESS EXCLUSIVE MODE;
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ALTER TABLE customers ADD COLUMN tier text;
    /// COMMIT;
    /// ```
    pub struct LockOrderDeadlockRisk {
        name: "lock-order-deadlock-risk",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

struct Held {
    lock: ExistingLock,
    stmt: usize,
}

/// True when `new` on a table held in `held` mode is an upgrade that can deadlock with a reader
/// about to write: the held mode already blocks writes but still admits reads, and the new one
/// blocks reads.
fn is_deadlock_prone_upgrade(held: LockMode, new: LockMode) -> bool {
    held.blocks_writes() && !held.blocks_reads() && new.blocks_reads()
}

/// Locks on objects this statement drops do not count: the application no longer uses them.
fn counted_locks(cx: &RuleContext<'_>, stmt: &Statement, index: usize) -> Vec<ExistingLock> {
    let dropped: Vec<_> = stmt
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Drop { names, .. } => Some(names),
            _ => None,
        })
        .flatten()
        .collect();
    existing_locks(cx, stmt, index)
        .into_iter()
        .filter(|l| l.table().is_some())
        .filter(|l| !l.table().is_some_and(|t| dropped.iter().any(|d| d.same_object(t))))
        .collect()
}

impl Rule for LockOrderDeadlockRisk {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let mut held: Vec<Held> = Vec::new();
        // Still in the transaction's opening run of LOCK TABLE statements.
        let mut prologue = true;
        for s in cx.statements() {
            if !s.ctx.in_transaction {
                held.clear();
                prologue = true;
                continue;
            }
            let locks = counted_locks(cx, s.stmt, s.index);
            let is_lock_table = s.stmt.ops.iter().all(|op| matches!(op, Op::LockTable { .. }));
            if !locks.is_empty() && !is_lock_table {
                prologue = false;
            }
            if !prologue {
                report(cx, out, s.stmt, s.index, &locks, &held);
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
                prologue = true;
            }
        }
    }
}

/// True when a foreign key of `a` references `b` or one of `b` references `a`, in the schema
/// before statement `index` (the migration history and the earlier statements of the file).
fn linked_by_foreign_key(cx: &RuleContext<'_>, index: usize, a: &QualifiedName, b: &QualifiedName) -> bool {
    let catalog = cx.fcx.catalog_before(index);
    let references = |from: &QualifiedName, to: &QualifiedName| {
        catalog.table(from).is_some_and(|t| {
            t.constraints.iter().any(|c| match &c.kind {
                CatalogConstraintKind::ForeignKey { target, .. } => target.same_object(to),
                _ => false,
            })
        })
    };
    references(a, b) || references(b, a)
}

fn report(
    cx: &RuleContext<'_>,
    out: &mut Reporter,
    stmt: &Statement,
    index: usize,
    locks: &[ExistingLock],
    held: &[Held],
) {
    let line_of = |i: usize| {
        let at = cx.file.statements.get(i).map_or(0, |s| s.span.start);
        cx.text().get(..at).unwrap_or("").matches('\n').count() + 1
    };
    let label = |h: &Held, what: String| {
        cx.file.statements.get(h.stmt).map(|taker| Label { span: head_span(cx, taker), message: what })
    };
    for lock in locks {
        let same = held.iter().find(|h| h.lock.same_relation(lock));
        if let Some(h) = same {
            if !is_deadlock_prone_upgrade(h.lock.mode, lock.mode) {
                continue;
            }
            let table = lock.describe();
            let d = out.report(
                stmt,
                head_span(cx, stmt),
                format!(
                    "this statement upgrades the transaction's {} lock on {table} (line {}) to {}: a session that \
                     has read {table} and now waits to write it blocks this upgrade while it waits for this \
                     transaction, a deadlock that PostgreSQL ends by aborting one of the two",
                    h.lock.mode,
                    line_of(h.stmt),
                    lock.mode
                ),
            );
            d.labels.extend(label(h, format!("{} on {table} taken here", h.lock.mode)));
            d.help = Some(format!(
                "take the strongest lock first: run this statement before the one on line {}, or start the \
                 transaction with `LOCK TABLE {} IN {} MODE`",
                line_of(h.stmt),
                lock.table().map_or_else(|| table.clone(), |t| t.display()),
                lock.mode
            ));
            return;
        }
        if lock.mode != LockMode::AccessExclusive {
            continue;
        }
        let linked = |h: &&Held| match (h.lock.table(), lock.table()) {
            (Some(a), Some(b)) => linked_by_foreign_key(cx, index, a, b),
            _ => false,
        };
        let Some(first) = held.iter().filter(|h| h.lock.mode == LockMode::AccessExclusive).find(linked) else {
            continue;
        };
        let (a, b) = (first.lock.describe(), lock.describe());
        let d = out.report(
            stmt,
            head_span(cx, stmt),
            format!(
                "this statement takes ACCESS EXCLUSIVE on {b} while the transaction holds ACCESS EXCLUSIVE on {a} \
                 (line {}), and a foreign key links them: a transaction that writes {b} and then {a} (or checks \
                 the key) deadlocks with this migration, and PostgreSQL aborts one of the two",
                line_of(first.stmt)
            ),
        );
        d.labels.extend(label(first, format!("ACCESS EXCLUSIVE on {a} taken here, held until COMMIT")));
        let names: Vec<String> = [&first.lock, lock].iter().filter_map(|l| l.table()).map(|t| t.display()).collect();
        d.help = Some(format!(
            "change these tables in separate transactions, or lock them all at the start of the transaction in the \
             order the application uses them: `LOCK TABLE {} IN ACCESS EXCLUSIVE MODE`",
            names.join(", ")
        ));
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::is_deadlock_prone_upgrade;
    use crate::rules::test_util::{findings, messages, postgres};
    use sluice_core::pg_locks::LockMode::*;
    use sluice_core::PgVersion;

    const RULE: &str = "lock-order-deadlock-risk";

    fn run(sql: &str) -> Vec<String> {
        messages(sql, &postgres(PgVersion::default()), RULE)
    }

    #[test]
    fn upgrades_that_can_deadlock() {
        assert!(is_deadlock_prone_upgrade(Share, AccessExclusive));
        assert!(is_deadlock_prone_upgrade(ShareRowExclusive, AccessExclusive));
        assert!(is_deadlock_prone_upgrade(Exclusive, AccessExclusive));
        assert!(!is_deadlock_prone_upgrade(ShareUpdateExclusive, AccessExclusive));
        assert!(!is_deadlock_prone_upgrade(Share, ShareRowExclusive));
        assert!(!is_deadlock_prone_upgrade(AccessExclusive, AccessExclusive));
    }

    #[test]
    fn lock_upgrade_fires() {
        let found = run("BEGIN;\nCREATE INDEX i ON orders (a);\nALTER TABLE orders ADD COLUMN b int;\nCOMMIT;\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("upgrades the transaction's SHARE lock on `orders` (line 2) to ACCESS EXCLUSIVE"));
        let found =
            run("BEGIN;\nALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\n\
             ALTER TABLE customers ADD COLUMN tier text;\nCOMMIT;\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("SHARE ROW EXCLUSIVE lock on `customers`"), "{found:?}");
    }

    #[test]
    fn two_linked_access_exclusive_tables_fire_once_per_statement() {
        let sql = "ALTER TABLE orders ADD CONSTRAINT o_fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\n\
                   ALTER TABLE invoices ADD CONSTRAINT i_fk FOREIGN KEY (o) REFERENCES orders (id) NOT VALID;\n\
                   BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE customers ADD COLUMN b int;\n\
                   ALTER TABLE invoices ADD COLUMN c int;\nALTER TABLE orders ADD COLUMN d int;\n\
                   ALTER TABLE products ADD COLUMN e int;\nCOMMIT;\n";
        let found = findings(sql, &postgres(PgVersion::default()), RULE);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|d| d.labels[0].span.slice(sql) == "ALTER TABLE orders"));
        assert_eq!(found[1].span.slice(sql), "ALTER TABLE invoices");
    }

    #[test]
    fn deliberate_or_harmless_patterns_stay_silent() {
        for sql in [
            // Strongest first on the same table.
            "BEGIN;\nALTER TABLE orders ADD COLUMN b int;\nCREATE INDEX i ON orders (b);\nCOMMIT;\n",
            // Foreign keys lock both tables in SHARE ROW EXCLUSIVE.
            "BEGIN;\nALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\n\
             ALTER TABLE invoices ADD CONSTRAINT fk2 FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\nCOMMIT;\n",
            // Locks taken up front.
            "BEGIN;\nLOCK TABLE orders, customers IN ACCESS EXCLUSIVE MODE;\nALTER TABLE orders ADD COLUMN a int;\n\
             ALTER TABLE customers ADD COLUMN b int;\nCOMMIT;\n",
            "BEGIN;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nLOCK TABLE customers IN ACCESS EXCLUSIVE MODE;\n\
             ALTER TABLE customers ADD COLUMN b int;\nALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\n",
            // Dropped tables are no longer used.
            "BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nDROP TABLE legacy_orders;\nCOMMIT;\n",
            // Separate transactions, autocommit, new tables.
            "BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\nBEGIN;\nALTER TABLE customers ADD COLUMN b int;\nCOMMIT;\n",
            "ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE customers ADD COLUMN b int;\n",
            // No known foreign key between the tables.
            "BEGIN;\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE products ADD COLUMN b int;\nCOMMIT;\n",
            // Views dropped and recreated are not counted.
            "ALTER TABLE orders ADD CONSTRAINT o_fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;\n\
             BEGIN;\nDROP VIEW customers;\nALTER TABLE orders ADD COLUMN a int;\nCOMMIT;\n",
            "BEGIN;\nCREATE TABLE t (id int);\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n",
        ] {
            assert!(run(sql).is_empty(), "{sql}");
        }
    }
}
