use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... DROP PRIMARY KEY` on a table that existed before this migration,
    /// unless the same statement adds a new primary key.
    ///
    /// ## Why it is bad
    /// InnoDB clusters rows by the primary key. Dropping it without a replacement cannot run in
    /// place: MySQL copies the table onto a hidden row id and blocks writes for the whole copy.
    /// Afterwards the table has no primary key: row-based replication must scan the table for
    /// every replicated update or delete, and tools that need a key (gh-ost,
    /// pt-online-schema-change, Group Replication, many CDC pipelines) refuse the table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `order_items` DROP PRIMARY KEY;
    /// ```
    ///
    /// ## Use instead
    /// Replace the key in one statement, which InnoDB rebuilds in place without blocking writes:
    /// ```sql
    /// ALTER TABLE `order_items` DROP PRIMARY KEY, ADD PRIMARY KEY (`order_id`, `line_no`),
    ///   ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    pub struct DropPrimaryKey {
        name: "drop-primary-key",
        dialects: [MySql],
        category: Locking,
        severity: Error,
        fix: None,
        scope: Statement,
    }
}

impl Rule for DropPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, actions) in cx.alter_tables_of_existing() {
            let replaced = actions
                .iter()
                .any(|a| matches!(&a.kind, AlterActionKind::AddConstraint(c) if c.kind == ConstraintKind::PrimaryKey));
            if replaced {
                continue;
            }
            for a in actions.iter().filter(|a| a.kind == AlterActionKind::DropPrimaryKey) {
                let d = out.report(
                    o.stmt,
                    a.span,
                    format!(
                        "dropping the primary key of `{}` copies the table with writes blocked, and leaves it without a key for replication and online schema change tools",
                        name.display()
                    ),
                );
                d.help = Some("drop and add the new primary key in the same ALTER TABLE, which runs in place".into());
            }
        }
    }
}
