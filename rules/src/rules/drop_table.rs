use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{ObjectKind, Op};
use sluice_core::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `DROP TABLE` of a table that exists on the base schema (tables created earlier in
    /// the same file or by another new migration of the change set, and MySQL `DROP TEMPORARY
    /// TABLE`, are not flagged). In a migration marked `-- sluice:phase contract` the finding is
    /// info; in a down migration `destructive-down-migration` reports it instead.
    ///
    /// ## Why it is bad
    /// Every row is gone the moment the migration commits, and no down migration can bring it
    /// back. The application version still serving traffic during the deploy keeps querying the
    /// table and fails on every request that touches it. On PostgreSQL `CASCADE` also drops the
    /// views and foreign keys that depend on it.
    ///
    /// ## Example
    /// ```sql
    /// DROP TABLE legacy_invoices;
    /// ```
    ///
    /// ## Use instead
    /// Contract in steps: deploy code that no longer reads or writes the table, keep a backup,
    /// then drop it in a later migration marked as a contract step:
    /// ```sql
    /// -- sluice:phase contract: unused since release 42, archived to s3://backups/legacy_invoices
    /// DROP TABLE IF EXISTS legacy_invoices;
    /// ```
    pub struct DropTable {
        name: "drop-table",
        dialects: [Postgres, MySql],
        category: Destructive,
        severity: Error,
        fix: None,
    }
}

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for o in cx.ops() {
            let Op::Drop { kind: ObjectKind::Table, names, cascade, .. } = o.op else { continue };
            if compat::is_down(&o) {
                continue;
            }
            // MySQL `DROP TEMPORARY TABLE` only drops a table of this session.
            if cx.code_tokens(o.stmt).nth(1).is_some_and(|t| t.is_word(cx.text(), "temporary")) {
                continue;
            }
            for name in names {
                if cx.is_new_table(name, o.index) {
                    continue;
                }
                let also = if *cascade && cx.dialect() == Dialect::Postgres {
                    ", and `CASCADE` also drops every view and foreign key that depends on it"
                } else {
                    ""
                };
                let d = out.report(
                    o.stmt,
                    name.span,
                    format!(
                        "dropping table `{}` deletes all its rows and breaks code that still queries it{also}",
                        name.display()
                    ),
                );
                d.help = Some(
                    "stop using the table in the application first and keep a backup, then drop it in a later \
                     migration marked `-- sluice:phase contract`"
                        .into(),
                );
                compat::apply_contract_phase(d, contract);
            }
        }
    }
}
