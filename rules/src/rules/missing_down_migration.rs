use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Reports an up migration whose tool pairs it with a down file when the directory has none:
    /// a golang-migrate `N_x.up.sql` or a sqlx reversible `N_x.up.sql` without its `.down.sql`,
    /// a diesel migration directory with `up.sql` but no `down.sql`. Info by default: many teams
    /// deploy forward only and never run downs, and an absent down is not a hazard on its own;
    /// raise it with `[rules] missing-down-migration = "error"` where rollbacks are part of the
    /// release process.
    ///
    /// ## Why it is bad
    /// Where the release process relies on rolling back, the rollback of this release fails (or
    /// silently does nothing) exactly when it is needed.
    ///
    /// ## Example
    /// ```sql
    /// -- 20240101120000_add_nickname.up.sql, and no 20240101120000_add_nickname.down.sql
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    ///
    /// ## Use instead
    /// Add the down file, written as a non-destructive rollback:
    /// ```sql
    /// -- 20240101120000_add_nickname.down.sql
    /// ALTER TABLE users ALTER COLUMN nickname DROP NOT NULL;
    /// ```
    pub struct MissingDownMigration {
        name: "missing-down-migration",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Info,
        fix: None,
    }
}

impl Rule for MissingDownMigration {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        if !cx.fcx.missing_down {
            return;
        }
        let Some(first) = cx.file.statements.first() else { return };
        let d = out.report(
            first,
            first.span,
            "this up migration has no down file, though the migration tool pairs each up with a down",
        );
        d.help = Some("add the down file, written so that rolling back keeps the data".into());
    }
}
