use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, DmlKind, Op};
use sluice_core::Label;

declare_rule! {
    /// ## What it does
    /// With `[rules.mixed-contract-migration] require-contract-in-own-file = true`, flags the
    /// statements of a migration marked `-- sluice:phase contract` that are not contract steps:
    /// anything that creates or adds (tables, columns, indexes, constraints, other objects) next
    /// to the drops, renames and tightenings a contract migration is for. Without the option the
    /// rule reports nothing.
    ///
    /// ## Why it is bad
    /// A contract migration is deployed only after every release that used the old shape is gone,
    /// and its compatibility findings are info. An expand step in the same file waits for that
    /// moment too, although the new code needs it first, and it hides among statements nobody
    /// reviews for compatibility any more.
    ///
    /// ## Example
    /// ```sql
    /// -- sluice:phase contract
    /// ALTER TABLE users DROP COLUMN legacy_login;
    /// ALTER TABLE users ADD COLUMN login_provider text;
    /// ```
    ///
    /// ## Use instead
    /// Ship the expand step in its own, earlier migration; keep the contract file to contract
    /// steps:
    /// ```sql
    /// -- sluice:phase contract
    /// ALTER TABLE users DROP COLUMN legacy_login;
    /// ```
    pub struct MixedContractMigration {
        name: "mixed-contract-migration",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Warning,
        fix: None,
    }
}

/// An `ALTER TABLE` clause that only removes, renames or tightens.
fn contract_action(kind: &AlterActionKind) -> bool {
    use AlterActionKind as K;
    matches!(
        kind,
        K::DropColumn { .. }
            | K::RenameColumn { .. }
            | K::AlterColumnType { .. }
            | K::DropDefault { .. }
            | K::SetDefault { .. }
            | K::SetNotNull { .. }
            | K::DropNotNull { .. }
            | K::ValidateConstraint { .. }
            | K::DropConstraint { .. }
            | K::RenameConstraint { .. }
            | K::DropPrimaryKey
            | K::DropIndex { .. }
            | K::RenameIndex { .. }
            | K::RenameTable { .. }
            | K::Algorithm(_)
            | K::Lock(_)
    )
}

/// A statement a contract migration may hold: contract steps and session scaffolding.
fn contract_op(op: &Op) -> bool {
    match op {
        Op::AlterTable { actions, .. } => actions.iter().all(|a| contract_action(&a.kind)),
        Op::Drop { .. } | Op::RenameTable { .. } | Op::Truncate { .. } | Op::Transaction(_) | Op::Set { .. } => true,
        Op::Dml { kind, .. } => matches!(kind, DmlKind::Delete | DmlKind::Update | DmlKind::Select),
        _ => false,
    }
}

impl Rule for MixedContractMigration {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        if !cx.fcx.settings.rule_options.require_contract_in_own_file {
            return;
        }
        let Some(marker) = compat::contract_phase(cx) else { return };
        for s in cx.statements() {
            if s.stmt.ops.iter().all(contract_op) {
                continue;
            }
            let d = out.report(
                s.stmt,
                s.stmt.span,
                "this statement expands the schema in a migration marked `-- sluice:phase contract`, which must \
                 hold only contract steps",
            );
            d.labels.push(Label { span: marker, message: "marked as a contract migration here".into() });
            d.help = Some("move it to its own migration, deployed before the code that needs it".into());
        }
    }
}
