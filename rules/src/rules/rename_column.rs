use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... RENAME COLUMN` of a column that exists on the base schema (not
    /// added by this file or by another new migration of the change set), and the MySQL
    /// `CHANGE [COLUMN] old new ...` form when the new name differs from the old one. In a
    /// migration marked `-- sluice:phase contract` the finding is info.
    ///
    /// ## Why it is bad
    /// The rename is instant, but the application version still running during the deploy
    /// keeps using the old name: every query that mentions it fails from the moment the
    /// migration commits until the new code runs everywhere. Rolling the code back does not
    /// help either, because the old code no longer matches the schema.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users RENAME COLUMN email TO email_address;
    /// ```
    ///
    /// ## Use instead
    /// Expand and contract: add the new column, have the code write both, backfill the new
    /// column, switch reads to it, and drop the old column in a later migration:
    /// ```sql
    /// ALTER TABLE users ADD COLUMN email_address text;
    /// -- deploy dual writes, backfill in batches, switch reads, then later:
    /// -- ALTER TABLE users DROP COLUMN email;
    /// ```
    /// When the table is only read, a view that exposes the old name can bridge the deploy.
    pub struct RenameColumn {
        name: "rename-column",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Error,
        fix: None,
    }
}

impl Rule for RenameColumn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for (o, name, a) in cx.alters_of_existing_tables() {
            let (from, to) = match &a.kind {
                AlterActionKind::RenameColumn { from, to } => (from, to),
                AlterActionKind::AlterColumnType { column, rename_to: Some(to), .. } if !column.eq_mysql(&to.name) => {
                    (column, to)
                }
                _ => continue,
            };
            // Running code cannot use a column the change set itself adds.
            if !compat::column_on_base(cx, o.index, name, &from.name) {
                continue;
            }
            let d = out.report(
                o.stmt,
                from.span.cover(to.span),
                format!(
                    "renaming column `{}` of `{}` to `{}` breaks the running application, which still uses the old name",
                    from.name,
                    name.display(),
                    to.name
                ),
            );
            d.help = Some(
                "add the new column, write both, backfill, switch reads, and drop the old column in a later \
                 migration (or bridge the deploy with a view)"
                    .into(),
            );
            compat::apply_contract_phase(d, contract);
        }
    }
}
