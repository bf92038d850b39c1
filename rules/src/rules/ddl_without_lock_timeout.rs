use super::session_timeouts::timeouts_in_force;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ObjectKind, Op, QualifiedName, TransactionOp};
use sluice_core::{Applicability, Edit, Fix, Span};

declare_rule! {
    /// ## What it does
    /// Flags the first statement of a file that needs a strong lock on a table that existed
    /// before the migration (`ALTER TABLE`, `CREATE INDEX` or `DROP INDEX` without
    /// `CONCURRENTLY`, `TRUNCATE`, `DROP TABLE`, renames, `REINDEX`, `VACUUM FULL`, `CLUSTER`,
    /// `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`, `LOCK TABLE`) when no
    /// `SET lock_timeout` ran before it. It reports once per file.
    ///
    /// ## Why it is bad
    /// A lock request waits for every transaction that holds a conflicting lock, for example a
    /// long report still reading the table. While it waits in the queue, every later request that
    /// conflicts with it waits behind it: for an ACCESS EXCLUSIVE request that is every query on
    /// the table, plain SELECTs included. `lock_timeout` is 0 (wait forever) by default, so one
    /// slow query turns a migration that takes milliseconds into an outage.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// SET lock_timeout = '5s';
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    /// and retry the migration when it times out. The fix inserts the `SET` at the top of the
    /// file (after an opening `BEGIN`, so it applies inside the transaction), with the budget of
    /// `lock-timeout-too-high` (5s unless configured). `SELECT set_config('lock_timeout', ...)`
    /// counts as setting it; `0`, `DEFAULT` and `RESET` do not. A value above the budget is
    /// reported by `lock-timeout-too-high`.
    pub struct DdlWithoutLockTimeout {
        name: "ddl-without-lock-timeout",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
    }
}

/// The lock a statement needs on a pre-existing table, and that table (when known).
fn strong_lock<'a>(cx: &RuleContext<'a>, op: &'a Op, at: usize) -> Option<(String, Option<&'a QualifiedName>)> {
    const AEL: &str = "an ACCESS EXCLUSIVE";
    const SHARE: &str = "a SHARE";
    let old = |n: &QualifiedName| !cx.is_new_table(n, at);
    let first_old = |names: &'a [QualifiedName]| names.iter().find(|n| old(n));
    let any_or_all = |names: &'a [QualifiedName]| -> Option<Option<&'a QualifiedName>> {
        if names.is_empty() {
            Some(None)
        } else {
            first_old(names).map(Some)
        }
    };
    let lock = match op {
        Op::AlterTable { name, actions, .. } if old(name) => {
            // VALIDATE CONSTRAINT only takes SHARE UPDATE EXCLUSIVE: ordinary traffic does not queue behind it.
            let weak = actions.iter().all(|a| matches!(a.kind, AlterActionKind::ValidateConstraint { .. }));
            (!weak).then_some((AEL, Some(name)))
        }
        Op::CreateIndex { table, concurrently: false, .. } if old(table) => Some((SHARE, Some(table))),
        Op::DropIndex { concurrently: false, names, .. } => names.first().map(|_| (AEL, None)),
        Op::Truncate { tables, .. } => first_old(tables).map(|t| (AEL, Some(t))),
        Op::Drop { kind: ObjectKind::Table, names, .. } => first_old(names).map(|t| (AEL, Some(t))),
        Op::RenameTable { from, .. } if old(from) => Some((AEL, Some(from))),
        Op::Reindex { concurrently: false, target, .. } => match target {
            Some(t) if !old(t) => None,
            t => Some((SHARE, t.as_ref())),
        },
        Op::Vacuum { full: true, tables } => any_or_all(tables).map(|t| (AEL, t)),
        Op::RefreshMaterializedView { name, concurrently: false, .. } => Some((AEL, Some(name))),
        Op::Cluster { table } => match table {
            Some(t) if !old(t) => None,
            t => Some((AEL, t.as_ref())),
        },
        Op::LockTable { tables, mode } => {
            let m = mode.trim().to_ascii_uppercase();
            return match m.as_str() {
                "" | "ACCESS EXCLUSIVE" => first_old(tables).map(|t| (AEL.to_string(), Some(t))),
                "EXCLUSIVE" => first_old(tables).map(|t| ("an EXCLUSIVE".to_string(), Some(t))),
                "SHARE" | "SHARE ROW EXCLUSIVE" => first_old(tables).map(|t| (format!("a {m}"), Some(t))),
                _ => None,
            };
        }
        _ => None,
    };
    lock.map(|(l, t)| (l.to_string(), t))
}

impl Rule for DdlWithoutLockTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let timeouts = timeouts_in_force(cx);
        let mut flagged: Option<(usize, String, Option<&QualifiedName>)> = None;
        let mut later = 0usize;
        for o in cx.ops() {
            let set_by_call = timeouts.get(o.index).and_then(|t| t.lock).is_some_and(|t| !t.value.is_unlimited());
            if o.ctx.lock_timeout_set || set_by_call {
                continue;
            }
            let Some((lock, table)) = strong_lock(cx, o.op, o.index) else { continue };
            match flagged {
                None => flagged = Some((o.index, lock, table)),
                Some((i, ..)) if i != o.index => later += 1,
                Some(_) => {}
            }
        }
        let Some((index, lock, table)) = flagged else { return };
        let Some(stmt) = cx.file.statements.get(index) else { return };

        // Point at the statement up to the table name (`ALTER TABLE orders`), or its first words.
        let span = match table {
            Some(t) if t.span.start >= stmt.span.start && t.span.end <= stmt.span.end && !t.span.is_empty() => {
                Span::new(stmt.span.start, t.span.end)
            }
            _ => {
                let words: Vec<_> = cx.code_tokens(stmt).take(2).collect();
                match (words.first(), words.last()) {
                    (Some(a), Some(b)) => a.span.cover(b.span),
                    _ => stmt.span,
                }
            }
        };
        let index_name = stmt.ops.iter().find_map(|op| match op {
            Op::DropIndex { names, .. } => names.first().map(|n| format!("the table of `{}`", n.display())),
            _ => None,
        });
        let target = match table {
            Some(t) => format!("`{}`", t.display()),
            None => index_name.unwrap_or_else(|| "the table".to_string()),
        };
        let more = match later {
            0 => String::new(),
            1 => "; 1 more statement below also waits for a strong lock".to_string(),
            n => format!("; {n} more statements below also wait for strong locks"),
        };
        let d = out.report(
            stmt,
            span,
            format!("no `lock_timeout` is set before this statement, which waits for {lock} lock on {target}{more}"),
        );
        let queue = if lock.contains("ACCESS EXCLUSIVE") {
            format!("every later query on {target}, plain SELECTs included, queues behind it")
        } else {
            format!("every later write to {target} queues behind it")
        };
        let budget = cx.fcx.settings.rule_options.lock_timeout_max;
        let set = format!("SET lock_timeout = '{budget}';");
        d.help = Some(format!(
            "put `{set}` before it and retry on timeout: while this lock request waits behind \
             a long-running transaction, {queue}"
        ));

        // Insert at the top of the file, after an opening BEGIN; right before the statement when an
        // earlier SET lock_timeout (to 0) would override it.
        let resets = cx.ops_before(index).any(|o| {
            matches!(o.op, Op::Set { name, .. } if name.rsplit('.').next().is_some_and(|n| n.eq_ignore_ascii_case("lock_timeout")))
        });
        let first = cx.file.statements.first();
        let edit = match first {
            _ if resets => Edit::insert(stmt.span.start, format!("{set}\n")),
            Some(f) if f.ops.iter().any(|op| matches!(op, Op::Transaction(TransactionOp::Begin))) => match f.terminator
            {
                Some(t) => Edit::insert(t.end, format!("\n{set}")),
                None => Edit::insert(f.span.end, format!(";\n{set}")),
            },
            Some(f) => Edit::insert(f.span.start, format!("{set}\n")),
            None => Edit::insert(stmt.span.start, format!("{set}\n")),
        };
        d.fix = Some(Fix {
            description: "Set lock_timeout at the start of the migration".into(),
            applicability: Applicability::Safe,
            edits: vec![edit],
        });
    }
}
