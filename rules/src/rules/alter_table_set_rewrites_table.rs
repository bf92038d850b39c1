use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... SET TABLESPACE`, `SET LOGGED` and `SET UNLOGGED` on a table that
    /// existed before this migration.
    ///
    /// ## Why it is bad
    /// Each of them copies the whole table (and, for `SET TABLESPACE`, it is the table's data
    /// files that move) while holding an ACCESS EXCLUSIVE lock: no query can read or write the
    /// table until the copy is done. `SET LOGGED`, and `SET TABLESPACE` whenever `wal_level` is
    /// above `minimal` (streaming replicas or archiving), also write the full copy to the WAL,
    /// which every replica then replays.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events SET TABLESPACE fast_ssd;
    /// ALTER TABLE import_batches SET LOGGED;
    /// ```
    ///
    /// ## Use instead
    /// Run these in a maintenance window, or move the data online: create the new table in the
    /// target tablespace (or with the target persistence), copy the rows in batches while keeping
    /// both in sync, then swap the names in one short transaction. Extensions such as pg_repack
    /// can also move a table to another tablespace with only brief locks.
    /// ```sql
    /// CREATE TABLE events_new (LIKE events INCLUDING ALL) TABLESPACE fast_ssd;
    /// ```
    pub struct AlterTableSetRewritesTable {
        name: "alter-table-set-rewrites-table",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AlterTableSetRewritesTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let what = match a.kind {
                AlterActionKind::SetTablespace => "SET TABLESPACE",
                AlterActionKind::SetLogged { logged: true } => "SET LOGGED",
                AlterActionKind::SetLogged { logged: false } => "SET UNLOGGED",
                _ => continue,
            };
            let d = out.report(
                o.stmt,
                a.span,
                format!(
                    "`{what}` copies all of `{}` under an ACCESS EXCLUSIVE lock{}: reads and writes wait for the \
                     whole copy",
                    name.display(),
                    // An unlogged copy is not written to the WAL.
                    if what == "SET UNLOGGED" { "" } else { ", generating WAL proportional to the table size" }
                ),
            );
            d.help = Some(
                "run it in a maintenance window, or copy the data online into a new table and swap the names".into(),
            );
        }
    }
}
