use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD FOREIGN KEY` on a table that existed before this migration
    /// when `SET foreign_key_checks = 0` has not run earlier in the file.
    ///
    /// ## Why it is bad
    /// With foreign key checks on, InnoDB cannot add a foreign key in place: MySQL copies the
    /// whole child table to validate every row, blocking writes to it for the whole copy, and
    /// holds a metadata lock on the parent table too, so writes to both tables stall.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders`
    ///   ADD CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`);
    /// ```
    ///
    /// ## Use instead
    /// Check for orphans first, then add the key in place with checks off for this session:
    /// ```sql
    /// SELECT COUNT(*) FROM `orders` o LEFT JOIN `customers` c ON c.`id` = o.`customer_id`
    ///   WHERE o.`customer_id` IS NOT NULL AND c.`id` IS NULL;
    /// SET SESSION foreign_key_checks = 0;
    /// ALTER TABLE `orders`
    ///   ADD CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`),
    ///   ALGORITHM=INPLACE, LOCK=NONE;
    /// SET SESSION foreign_key_checks = 1;
    /// ```
    /// With checks off the existing rows are not validated, which is why the orphan query
    /// comes first.
    pub struct AddForeignKeyCopiesTable {
        name: "add-foreign-key-copies-table",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AddForeignKeyCopiesTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            if o.ctx.foreign_key_checks_off {
                continue;
            }
            let AlterActionKind::AddConstraint(c) = &a.kind else { continue };
            let ConstraintKind::ForeignKey { target } = &c.kind else { continue };
            let d = out.report(
                o.stmt,
                a.span,
                format!(
                    "adding a foreign key with foreign_key_checks on copies `{}` to validate every row, blocking writes to it (and stalling writes to `{}`) for the whole copy",
                    name.display(),
                    target.table.display()
                ),
            );
            d.help = Some(
                "check for orphan rows, then `SET SESSION foreign_key_checks = 0;` before the ALTER so it runs in place, and set it back to 1 after".into(),
            );
        }
    }
}
