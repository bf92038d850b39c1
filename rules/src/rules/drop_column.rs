use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... DROP COLUMN` of a column that exists on the base schema: not added
    /// by this file or by another new migration of the change set (`--changed-since`). In a
    /// migration marked `-- sluice:phase contract` the finding is info.
    ///
    /// ## Why it is bad
    /// The data is gone, and a down migration cannot bring it back. The application version
    /// still running during the deploy reads and writes the column by name: every query that
    /// mentions it fails from the moment the migration commits until the new code is everywhere.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users DROP COLUMN legacy_login;
    /// ```
    ///
    /// ## Use instead
    /// Contract in steps: deploy code that no longer reads or writes the column, then drop it in
    /// a later migration marked as a contract step:
    /// ```sql
    /// -- sluice:phase contract
    /// ALTER TABLE users DROP COLUMN IF EXISTS legacy_login;
    /// ```
    pub struct DropColumn {
        name: "drop-column",
        dialects: [Postgres, MySql],
        category: Destructive,
        severity: Error,
        fix: None,
    }
}

impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::DropColumn { name: col, .. } = &a.kind else { continue };
            // Rollbacks are judged by `destructive-down-migration`, disguised renames by
            // `rename-by-add-and-drop`; a column the change set adds is unknown to running code.
            if compat::is_down(&o)
                || !compat::column_on_base(cx, o.index, name, &col.name)
                || compat::disguised_rename(cx, o.index, name, &col.name).is_some()
            {
                continue;
            }
            let d = out.report(
                o.stmt,
                col.span,
                format!(
                    "dropping column `{}` of `{}` destroys its data and breaks code that still reads it",
                    col.name,
                    name.display()
                ),
            );
            d.help = Some(
                "stop using the column in the application first, then drop it in a later migration marked \
                 `-- sluice:phase contract`"
                    .into(),
            );
            compat::apply_contract_phase(d, contract);
        }
    }
}
