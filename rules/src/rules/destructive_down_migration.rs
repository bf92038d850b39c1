use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, DmlKind, ObjectKind, Op};

declare_rule! {
    /// ## What it does
    /// Flags a down migration (a `.down.sql`/`down.sql` file, Flyway `U__`, goose
    /// `-- +goose Down`, dbmate `-- migrate:down`) that destroys data: `DROP TABLE`,
    /// `ALTER TABLE ... DROP COLUMN`, `TRUNCATE` or `DELETE`. It replaces `drop-table`,
    /// `drop-column` and `truncate-table` in down sections, so each statement gets one finding.
    ///
    /// ## Why it is bad
    /// A rollback runs when a release went wrong, under pressure, after the up migration has been
    /// live: the columns and tables it added have been filled by real traffic since. Dropping them
    /// throws that data away for good, and a second roll forward finds them empty. Rollback
    /// disables, it does not destroy.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:down
    /// ALTER TABLE users DROP COLUMN email_verified_at;
    /// ```
    ///
    /// ## Use instead
    /// Leave the data in place and make the old code able to run next to it: make the new column
    /// nullable (or give it a default) so the previous release can insert without it, and stop
    /// writing it. Remove it later with a forward migration, once it is certain it is not needed:
    /// ```sql
    /// -- migrate:down
    /// ALTER TABLE users ALTER COLUMN email_verified_at DROP NOT NULL;
    /// ```
    pub struct DestructiveDownMigration {
        name: "destructive-down-migration",
        dialects: [Postgres, MySql],
        category: Destructive,
        severity: Error,
        fix: None,
    }
}

const PREFIX: &str = "rollback disables, it does not destroy:";

impl Rule for DestructiveDownMigration {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops().filter(compat::is_down) {
            match o.op {
                Op::Drop { kind: ObjectKind::Table, names, .. } => {
                    if cx.code_tokens(o.stmt).nth(1).is_some_and(|t| t.is_word(cx.text(), "temporary")) {
                        continue;
                    }
                    for name in names {
                        let d = out.report(
                            o.stmt,
                            name.span,
                            format!(
                                "{PREFIX} dropping table `{}` in a down migration deletes every row written since \
                                 the up migration ran",
                                name.display()
                            ),
                        );
                        d.help = Some(
                            "leave the table in place; the previous release simply does not use it. Drop it later \
                             with a forward migration"
                                .into(),
                        );
                    }
                }
                Op::AlterTable { name, actions, .. } => {
                    for a in actions {
                        let AlterActionKind::DropColumn { name: col, .. } = &a.kind else { continue };
                        let d = out.report(
                            o.stmt,
                            col.span,
                            format!(
                                "{PREFIX} dropping column `{}` of `{}` in a down migration deletes the values \
                                 written since the up migration ran",
                                col.name,
                                name.display()
                            ),
                        );
                        d.help = Some(
                            "leave the column: make it nullable (or give it a default) so the previous release can \
                             insert without it, and stop writing it; drop it later with a forward migration"
                                .into(),
                        );
                    }
                }
                Op::Truncate { tables, .. } => {
                    for table in tables {
                        let d = out.report(
                            o.stmt,
                            table.span,
                            format!("{PREFIX} `TRUNCATE` in a down migration empties `{}`", table.display()),
                        );
                        d.help = Some(
                            "keep the rows; if the previous release must not see them, filter them in the \
                             application or remove them later with a forward migration"
                                .into(),
                        );
                    }
                }
                Op::Dml { kind: DmlKind::Delete, table, .. } => {
                    let what =
                        table.as_ref().map_or_else(|| "rows".to_string(), |t| format!("rows of `{}`", t.display()));
                    let span = table.as_ref().map_or(o.stmt.span, |t| t.span);
                    let d = out.report(
                        o.stmt,
                        span,
                        format!("{PREFIX} `DELETE` in a down migration removes {what} that may have been written since the up migration ran"),
                    );
                    d.help = Some(
                        "keep the rows; if the previous release must not see them, filter them in the \
                         application or remove them later with a forward migration"
                            .into(),
                    );
                }
                _ => {}
            }
        }
    }
}
