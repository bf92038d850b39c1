use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;
use sluice_core::Label;

declare_rule! {
    /// ## What it does
    /// Flags a rename done as add + drop: the change set adds a column to a table and drops
    /// another column of the same table that exists on the base schema, with a compatible type
    /// (in one file, in either order, or in two new migrations of the same change set), with or
    /// without an `UPDATE` copying the values across. The finding points at the drop, with a label
    /// at the add when it is in the same file. In a migration marked `-- sluice:phase contract`
    /// the finding is info.
    ///
    /// ## Why it is bad
    /// It is a rename in all but name, and it breaks the same way: the application version still
    /// running during the deploy reads and writes the dropped column, and fails from the moment
    /// the drop commits. Rows that old code writes between the copy and the drop are lost too.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN email_address text;
    /// UPDATE users SET email_address = email;
    /// ALTER TABLE users DROP COLUMN email;
    /// ```
    ///
    /// ## Use instead
    /// Expand and contract: add the new column and let the application write both; backfill;
    /// switch reads to the new column; and drop the old one in a later migration marked
    /// `-- sluice:phase contract`, once no running code uses it:
    /// ```sql
    /// ALTER TABLE users ADD COLUMN email_address text;
    /// ```
    pub struct RenameByAddAndDrop {
        name: "rename-by-add-and-drop",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Error,
        fix: None,
    }
}

impl Rule for RenameByAddAndDrop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for (o, table, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::DropColumn { name: col, .. } = &a.kind else { continue };
            if compat::is_down(&o) {
                continue;
            }
            let Some(twin) = compat::disguised_rename(cx, o.index, table, &col.name) else { continue };
            let where_added = match &twin.file {
                Some(file) => format!(" by `{file}`"),
                None => String::new(),
            };
            let d = out.report(
                o.stmt,
                col.span,
                format!(
                    "dropping `{}.{}` while the change set adds `{}`{where_added} is a rename: the running \
                     application still reads and writes `{}`",
                    table.display(),
                    col.name,
                    twin.name,
                    col.name
                ),
            );
            if let Some(span) = twin.add_span {
                d.labels.push(Label { span, message: format!("`{}` added here", twin.name) });
            }
            if let Some(span) = twin.copy_span {
                d.labels
                    .push(Label { span, message: "values copied here; rows old code writes later are lost".into() });
            }
            d.help = Some(format!(
                "ship the new column first and let the application write both; drop `{}` in a later migration \
                 marked `-- sluice:phase contract` once no running code uses it",
                col.name
            ));
            compat::apply_contract_phase(d, contract);
        }
    }
}
