use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Op;
use sluice_core::Span;

declare_rule! {
    /// ## What it does
    /// Flags `VACUUM FULL` and `CLUSTER` on tables that existed before this migration (or on the
    /// whole database when no table is named).
    ///
    /// ## Why it is bad
    /// Both write a complete new copy of the table and rebuild all its indexes while holding an
    /// ACCESS EXCLUSIVE lock: no query can read or write the table until the copy is finished,
    /// and the disk needs room for both copies. Without a table name they do this for every table
    /// in turn (`CLUSTER` for every table clustered before).
    ///
    /// ## Example
    /// ```sql
    /// VACUUM FULL orders;
    /// CLUSTER orders USING orders_created_at_idx;
    /// ```
    ///
    /// ## Use instead
    /// A plain `VACUUM` makes dead space reusable without blocking reads or writes. To give space
    /// back to the operating system or to reorder rows online, use an extension that rebuilds the
    /// table with only brief locks, such as pg_repack or pg_squeeze:
    /// ```sql
    /// VACUUM (ANALYZE) orders;
    /// ```
    pub struct VacuumFullOrCluster {
        name: "vacuum-full-or-cluster",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for VacuumFullOrCluster {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let first = cx.code_tokens(o.stmt).next().map_or(Span::default(), |t| t.span);
            let (span, what, target) = match o.op {
                Op::Vacuum { full: true, tables } => {
                    let old: Vec<_> = tables.iter().filter(|t| !cx.is_new_table(t, o.index)).collect();
                    if !tables.is_empty() && old.is_empty() {
                        continue;
                    }
                    let full = cx.word_in(o.stmt, "full").map_or(first, |f| first.cover(f));
                    let target = if old.is_empty() {
                        "every table of the database".to_string()
                    } else {
                        old.iter().map(|t| format!("`{}`", t.display())).collect::<Vec<_>>().join(", ")
                    };
                    (full, "VACUUM FULL", target)
                }
                Op::Cluster { table } => {
                    if table.as_ref().is_some_and(|t| cx.is_new_table(t, o.index)) {
                        continue;
                    }
                    let target = table.as_ref().map_or_else(
                        || "every previously clustered table".to_string(),
                        |t| format!("`{}`", t.display()),
                    );
                    (first, "CLUSTER", target)
                }
                _ => continue,
            };
            let d = out.report(
                o.stmt,
                span,
                format!(
                    "`{what}` rewrites {target} and its indexes under an ACCESS EXCLUSIVE lock, generating WAL \
                     proportional to their size: reads and writes wait for the whole copy"
                ),
            );
            d.help = Some(if what == "CLUSTER" {
                "reorder the table online with an extension such as pg_repack, or accept the physical order".into()
            } else {
                "use a plain `VACUUM`, which does not block reads or writes; to shrink the table online use an \
                 extension such as pg_repack"
                    .into()
            });
        }
    }
}
