use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Op;
use sluice_core::{Dialect, Label};

declare_rule! {
    /// ## What it does
    /// Flags `TRUNCATE` of a table that existed before this migration.
    ///
    /// ## Why it is bad
    /// Every row is deleted at once and no down migration can restore it. `TRUNCATE` also takes
    /// the strongest table lock (PostgreSQL ACCESS EXCLUSIVE; an exclusive metadata lock in
    /// MySQL), so it waits behind every open transaction on the table and blocks all traffic
    /// behind it. In MySQL it commits implicitly and cannot be rolled back. On PostgreSQL
    /// `TRUNCATE ... CASCADE` also empties every table that references it through a foreign
    /// key, which can reach far beyond the table named in the migration.
    ///
    /// ## Example
    /// ```sql
    /// TRUNCATE TABLE sessions CASCADE;
    /// ```
    ///
    /// ## Use instead
    /// Delete what must go in batches from a job outside the migration, or, when the data is
    /// truly disposable, say so with a suppression comment and leave out `CASCADE`:
    /// ```sql
    /// -- sluice:ignore truncate-table: cache table, rebuilt on start
    /// TRUNCATE TABLE page_cache;
    /// ```
    pub struct TruncateTable {
        name: "truncate-table",
        dialects: [Postgres, MySql],
        category: Destructive,
        severity: Error,
        fix: None,
    }
}

impl Rule for TruncateTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::Truncate { tables, cascade } = o.op else { continue };
            // A rollback's TRUNCATE is judged by `destructive-down-migration`.
            if compat::is_down(&o) {
                continue;
            }
            let cascade = *cascade && cx.dialect() == Dialect::Postgres;
            let cascade_span = if cascade {
                cx.file.statement_tokens(o.stmt).iter().rev().find(|t| t.is_word(cx.text(), "cascade")).map(|t| t.span)
            } else {
                None
            };
            for table in tables {
                if cx.is_new_table(table, o.index) {
                    continue;
                }
                let also = if cascade { ", and every table that references it through a foreign key" } else { "" };
                let d = out.report(
                    o.stmt,
                    table.span,
                    format!("`TRUNCATE` deletes every row of `{}`{also}", table.display()),
                );
                if let Some(span) = cascade_span {
                    d.labels.push(Label { span, message: "CASCADE empties the referencing tables too".into() });
                }
                d.help = Some(if cascade {
                    "delete the rows that must go in batches outside the migration, and never cascade blindly".into()
                } else {
                    "delete the rows that must go in batches outside the migration".into()
                });
            }
        }
    }
}
