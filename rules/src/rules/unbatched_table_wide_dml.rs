use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{DmlKind, Op};
use sluice_core::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `UPDATE` and `DELETE` without a `WHERE` clause (and, on MySQL, without a `LIMIT`)
    /// on a table that existed before this migration.
    ///
    /// ## Why it is bad
    /// The statement touches every row of the table in one transaction. It holds a row lock on
    /// each of them until it commits, so application writes to the table wait for the whole
    /// run; it produces a burst of WAL (PostgreSQL) or binlog (MySQL) as large as the table,
    /// which replicas then replay with growing lag; on PostgreSQL an `UPDATE` also leaves a
    /// dead copy of every row behind for vacuum. On a large table the migration runs for
    /// minutes or hours, and a failure rolls all of it back.
    ///
    /// ## Example
    /// ```sql
    /// UPDATE users SET marketing_opt_in = false;
    /// ```
    ///
    /// ## Use instead
    /// Backfill in batches outside the migration (a job or script that commits after each
    /// batch), keyed by the primary key:
    /// ```sql
    /// UPDATE users SET marketing_opt_in = false
    /// WHERE id >= 1 AND id < 10001 AND marketing_opt_in IS NULL;
    /// -- ...repeated for the next id range, committing in between
    /// ```
    /// `sluice backfill --table users --set "marketing_opt_in = false" --batch 10000
    /// --max-lag-seconds 2` runs such batches, resumes where a stopped run ended and pauses while
    /// replicas lag (docs/backfill.md).
    pub struct UnbatchedTableWideDml {
        name: "unbatched-table-wide-dml",
        dialects: [Postgres, MySql],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for UnbatchedTableWideDml {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::Dml { kind, table: Some(table), has_where: false, has_limit: false } = o.op else { continue };
            let (verb, effect, help) = match kind {
                DmlKind::Update => (
                    "UPDATE",
                    "updates",
                    "backfill in batches keyed by the primary key from a job outside the migration, committing after \
                     each batch: `sluice backfill` does this and pauses while replicas lag",
                ),
                DmlKind::Delete => (
                    "DELETE",
                    "deletes",
                    "delete in batches keyed by the primary key from a job outside the migration, committing after \
                     each batch and pausing while replicas lag",
                ),
                _ => continue,
            };
            if cx.is_new_table(table, o.index) {
                continue;
            }
            let log = if cx.dialect() == Dialect::MySql { "binlog" } else { "WAL" };
            // From the UPDATE/DELETE keyword (after any WITH clause) to the table name.
            let span = cx
                .file
                .statement_tokens(o.stmt)
                .iter()
                .rev()
                .find(|t| t.span.end <= table.span.start && t.is_word(cx.text(), verb))
                .map_or(table.span, |t| t.span.cover(table.span));
            let d = out.report(
                o.stmt,
                span,
                format!(
                    "`{verb}` without `WHERE` {effect} every row of `{}` in one transaction: it locks them all until \
                     commit and generates {log} proportional to the table size, which replicas replay behind it",
                    table.display()
                ),
            );
            d.help = Some(help.into());
        }
    }
}
