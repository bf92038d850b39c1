use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL` on a table that existed before
    /// this migration.
    ///
    /// ## Why it is bad
    /// The change itself is instant, but from now on the column may hold NULL. Code written
    /// when it could not (the running application version, reports, downstream consumers,
    /// non-nullable fields in generated models) can crash or compute wrong results on the first
    /// NULL. Putting the constraint back later means scanning the table, and fails once NULLs
    /// exist.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN shipping_address_id DROP NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// Make every reader handle NULL first, then relax the column, and say so:
    /// ```sql
    /// -- sluice:ignore drop-not-null: readers handle NULL since release 42
    /// ALTER TABLE orders ALTER COLUMN shipping_address_id DROP NOT NULL;
    /// ```
    pub struct DropNotNull {
        name: "drop-not-null",
        dialects: [Postgres],
        category: Compatibility,
        severity: Info,
        fix: None,
        scope: Statement,
    }
}

impl Rule for DropNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::DropNotNull { column } = &a.kind else { continue };
            let d = out.report(
                o.stmt,
                a.span,
                format!(
                    "`{}.{}` may hold NULL from now on; code that assumes it never does can break",
                    name.display(),
                    column.name
                ),
            );
            d.help = Some("make sure every reader handles NULL in this column before relaxing it".into());
        }
    }
}
