use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Op, QualifiedName};

declare_rule! {
    /// ## What it does
    /// Flags `DROP INDEX` without `CONCURRENTLY` for an index of a table that existed before this
    /// migration.
    ///
    /// ## Why it is bad
    /// A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the table the index belongs to.
    /// The drop itself is quick, but the lock request has to wait for every running query on the
    /// table, and while it waits every new query (plain SELECTs included) queues behind it.
    ///
    /// ## Example
    /// ```sql
    /// DROP INDEX orders_status_idx;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
    /// ```
    /// `DROP INDEX CONCURRENTLY` waits for conflicting transactions without blocking others. It
    /// cannot run inside a transaction block, drops one index per statement and does not accept
    /// `CASCADE`. Indexes created in this migration on a table it also created are not flagged.
    pub struct DropIndexNonConcurrently {
        name: "drop-index-non-concurrently",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
    }
}

/// True when `index` was created earlier in this file on a table the file also created.
fn index_on_new_table(cx: &RuleContext<'_>, index: &QualifiedName, before: usize) -> bool {
    cx.ops_before(before).any(|o| match o.op {
        Op::CreateIndex { name: Some(n), table, .. } => {
            n.name.eq_ignore_ascii_case(&index.name) && cx.is_new_table(table, o.index)
        }
        _ => false,
    })
}

impl Rule for DropIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::DropIndex { names, concurrently: false, cascade, keyword_span, .. } = o.op else { continue };
            if names.is_empty() || names.iter().all(|n| index_on_new_table(cx, n, o.index)) {
                continue;
            }
            let list = names.iter().map(|n| format!("`{}`", n.display())).collect::<Vec<_>>().join(", ");
            let d = out.report(
                o.stmt,
                *keyword_span,
                format!(
                    "`DROP INDEX` of {list} takes an ACCESS EXCLUSIVE lock on the indexed table: \
                     reads and writes on it wait until the drop is done"
                ),
            );
            d.help = Some(if names.len() > 1 {
                "drop each index with its own `DROP INDEX CONCURRENTLY` statement, outside a transaction block".into()
            } else if *cascade {
                "`DROP INDEX CONCURRENTLY` does not accept CASCADE: drop the dependent objects first, then \
                 drop the index concurrently outside a transaction block"
                    .into()
            } else {
                "use `DROP INDEX CONCURRENTLY`, outside a transaction block".into()
            });
            if names.len() == 1 && !*cascade {
                d.fix = Some(o.add_concurrently_fix(keyword_span.end));
            }
        }
    }
}
