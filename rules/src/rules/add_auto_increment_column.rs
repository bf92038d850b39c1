use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD COLUMN ... AUTO_INCREMENT` on a table that existed before this
    /// migration.
    ///
    /// ## Why it is bad
    /// Every existing row needs its own number, so the column cannot be added instantly: InnoDB
    /// rebuilds the whole table, and this is one of the few in-place operations that does not
    /// permit concurrent writes. Inserts, updates and deletes on the table wait until the
    /// rebuild is done.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `audit_log` ADD COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;
    /// ```
    ///
    /// ## Use instead
    /// Add the column with an online schema change tool (gh-ost, pt-online-schema-change), or,
    /// when the table is small or a maintenance window is acceptable, state the lock explicitly
    /// so the cost is visible in review:
    /// ```sql
    /// ALTER TABLE `audit_log` ADD COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST,
    ///   ALGORITHM=INPLACE, LOCK=SHARED;
    /// ```
    pub struct AddAutoIncrementColumn {
        name: "add-auto-increment-column",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AddAutoIncrementColumn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddColumn { column, .. } = &a.kind else { continue };
            if !column.identity {
                continue;
            }
            let d = out.report(
                o.stmt,
                column.name.span,
                format!(
                    "adding AUTO_INCREMENT column `{}` rebuilds `{}` to number every row, and writes to it are blocked until the rebuild ends",
                    column.name.name,
                    name.display()
                ),
            );
            d.help = Some("add it with gh-ost or pt-online-schema-change, or in a maintenance window".into());
        }
    }
}
