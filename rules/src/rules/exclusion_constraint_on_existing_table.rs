use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD EXCLUDE` (an exclusion constraint) on a table that existed
    /// before this migration.
    ///
    /// ## Why it is bad
    /// The constraint's index is built and every existing row is checked against it while the
    /// `ALTER TABLE` holds an ACCESS EXCLUSIVE lock, so reads and writes on the table wait for the
    /// whole build. Unlike CHECK and FOREIGN KEY, an exclusion constraint has no `NOT VALID`
    /// form, and unlike UNIQUE it cannot be attached to an index built concurrently: there is no
    /// online way to add it.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    ///     EXCLUDE USING gist (room_id WITH =, during WITH &&);
    /// ```
    ///
    /// ## Use instead
    /// Add it when the table is created, or plan a maintenance window for a large table. To
    /// enforce the rule for new rows without a long lock, a trigger that checks overlaps
    /// (with suitable row locking) can stand in until the constraint can be added:
    /// ```sql
    /// -- during a maintenance window, with a bound on the lock wait:
    /// SET lock_timeout = '5s';
    /// ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    ///     EXCLUDE USING gist (room_id WITH =, during WITH &&);
    /// ```
    pub struct ExclusionConstraintOnExistingTable {
        name: "exclusion-constraint-on-existing-table",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for ExclusionConstraintOnExistingTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddConstraint(c) = &a.kind else { continue };
            if c.kind != ConstraintKind::Exclusion {
                continue;
            }
            let d = out.report(
                o.stmt,
                c.span,
                format!(
                    "adding an exclusion constraint to `{}` builds its index and checks every row under an \
                     ACCESS EXCLUSIVE lock: reads and writes wait, and there is no online alternative",
                    name.display()
                ),
            );
            d.help = Some(
                "declare it when the table is created, or run it in a maintenance window with a \
                 `lock_timeout`"
                    .into(),
            );
        }
    }
}
