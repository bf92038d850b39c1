use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Algorithm, AlterActionKind, LockClause, Op};
use sluice_core::lexer::TokenKind;
use sluice_core::Span;

declare_rule! {
    /// ## What it does
    /// Flags an explicit `ALGORITHM=COPY`, `LOCK=SHARED` or `LOCK=EXCLUSIVE` in `ALTER TABLE` or
    /// `CREATE INDEX` on a table that existed before this migration.
    ///
    /// ## Why it is bad
    /// `ALGORITHM=COPY` makes the server build a new copy of the table row by row while writes to
    /// it wait; `LOCK=SHARED` blocks every write and `LOCK=EXCLUSIVE` blocks reads and writes for
    /// the whole operation, even when InnoDB could have run it online. On a large table that is
    /// minutes to hours of failed requests.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD INDEX `idx_orders_created_at` (`created_at`), ALGORITHM=COPY;
    /// CREATE INDEX `idx_orders_status` ON `orders` (`status`) LOCK=EXCLUSIVE;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// ALTER TABLE `orders` ADD INDEX `idx_orders_created_at` (`created_at`), ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    /// With `ALGORITHM=INPLACE, LOCK=NONE` (or `ALGORITHM=INSTANT`) the server refuses the
    /// statement at once when it cannot honour it, instead of blocking. A change that really needs
    /// a copy belongs in an online schema change tool such as gh-ost or pt-online-schema-change.
    pub struct AlgorithmCopyOrBlockingLock {
        name: "algorithm-copy-or-blocking-lock",
        dialects: [MySql],
        category: Locking,
        severity: Error,
        fix: None,
    }
}

/// An explicit clause: where it is written, and its `ALGORITHM=` or `LOCK=` value.
type Clause = (Span, Option<Algorithm>, Option<LockClause>);

impl Rule for AlgorithmCopyOrBlockingLock {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let (table, clauses): (_, Vec<Clause>) = match o.op {
                Op::AlterTable { name, actions, .. } => (
                    name,
                    actions
                        .iter()
                        .filter_map(|a| match a.kind {
                            AlterActionKind::Algorithm(x) => Some((a.span, Some(x), None)),
                            AlterActionKind::Lock(x) => Some((a.span, None, Some(x))),
                            _ => None,
                        })
                        .collect(),
                ),
                Op::CreateIndex { table, algorithm, lock, .. } => {
                    let tokens = cx.file.statement_tokens(o.stmt);
                    // The IR keeps the values, not where they were written: find the keywords.
                    let find = |kw: &str| {
                        let at = tokens.iter().position(|t| t.is_word(cx.text(), kw))?;
                        // `LOCK = SHARED`: from the keyword to the value.
                        let value = tokens.get(at + 1..)?.iter().find(|t| t.kind == TokenKind::Word);
                        let start = tokens.get(at)?.span;
                        Some(value.map_or(start, |v| start.cover(v.span)))
                    };
                    let mut v = Vec::new();
                    if algorithm.is_some() {
                        v.push((find("algorithm").unwrap_or(o.stmt.span), *algorithm, None));
                    }
                    if lock.is_some() {
                        v.push((find("lock").unwrap_or(o.stmt.span), None, *lock));
                    }
                    (table, v)
                }
                _ => continue,
            };
            if clauses.is_empty() || cx.is_new_table(table, o.index) {
                continue;
            }
            let t = table.display();
            for (span, algorithm, lock) in clauses {
                let message = match (algorithm, lock) {
                    (Some(Algorithm::Copy), _) => format!(
                        "`ALGORITHM=COPY` rebuilds `{t}` as a full copy and blocks writes to it until the copy is done"
                    ),
                    (_, Some(LockClause::Shared)) => {
                        format!("`LOCK=SHARED` blocks every write to `{t}` for the whole operation")
                    }
                    (_, Some(LockClause::Exclusive)) => {
                        format!("`LOCK=EXCLUSIVE` blocks all reads and writes on `{t}` for the whole operation")
                    }
                    _ => continue,
                };
                let d = out.report(o.stmt, span, message);
                d.help = Some(
                    "request `ALGORITHM=INPLACE, LOCK=NONE` or `ALGORITHM=INSTANT` so the server refuses instead of blocking; run changes that need a copy with gh-ost or pt-online-schema-change".into(),
                );
            }
        }
    }
}
