use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ObjectKind, Op, QualifiedName};
use sluice_core::{Span, Statement};

declare_rule! {
    /// ## What it does
    /// Flags renaming a table that exists on the base schema (not created by this file or by
    /// another new migration of the change set): `ALTER TABLE a RENAME TO b` and MySQL
    /// `RENAME TABLE a TO b`. In a migration marked `-- sluice:phase contract` the finding is info. A rename is not flagged when the same file puts a table
    /// or view back under the old name (a bridging view), nor the renames of a table swap
    /// (`RENAME TABLE t TO t_old, t_new TO t`).
    ///
    /// ## Why it is bad
    /// The rename itself is a quick metadata change, but the application version still running
    /// during the deploy queries the old name, and every one of those queries fails from the
    /// moment the migration commits until the new code runs everywhere.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders RENAME TO purchase_orders;
    /// ```
    ///
    /// ## Use instead
    /// Keep the old name working during the deploy: rename and leave a simple view under the
    /// old name in the same transaction (simple views are updatable), then drop the view once
    /// no code uses it:
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders RENAME TO purchase_orders;
    /// CREATE VIEW orders AS SELECT * FROM purchase_orders;
    /// COMMIT;
    /// ```
    /// Or expand and contract: create the new table, write to both, backfill, switch reads,
    /// and drop the old table in a later migration.
    pub struct RenameTable {
        name: "rename-table",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Error,
        fix: None,
    }
}

/// Whether a rename is part of a pattern that keeps every name the application uses working:
/// something is put back under the old name later in the file (a bridging view, or the first
/// half of a table swap), or the new name was freed by an earlier rename (the second half of a
/// swap, which moves a shadow table into place).
fn keeps_names_working(cx: &RuleContext<'_>, position: usize, from: &QualifiedName, to: &QualifiedName) -> bool {
    cx.ops().enumerate().any(|(p, o)| match o.op {
        Op::RenameTable { from: f, to: t } => {
            (p > position && t.same_object(from)) || (p < position && f.same_object(to))
        }
        Op::CreateTable { name, .. } if p > position => name.same_object(from),
        Op::Create { kind: ObjectKind::View, name: Some(name), .. } if p > position => name.same_object(from),
        _ => false,
    })
}

fn report(out: &mut Reporter, stmt: &Statement, from: &QualifiedName, to: &QualifiedName, contract: Option<Span>) {
    let d = out.report(
        stmt,
        from.span.cover(to.span),
        format!(
            "renaming table `{}` to `{}` breaks the running application, which still queries the old name",
            from.display(),
            to.display()
        ),
    );
    d.help = Some(
        "keep the old name working during the deploy (a view under the old name), or expand and contract \
         with a new table"
            .into(),
    );
    compat::apply_contract_phase(d, contract);
}

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for (position, o) in cx.ops().enumerate() {
            match o.op {
                Op::RenameTable { from, to }
                    if !cx.is_new_table(from, o.index) && !keeps_names_working(cx, position, from, to) =>
                {
                    report(out, o.stmt, from, to, contract)
                }
                // MySQL `ALTER TABLE a RENAME TO b` may come with other clauses.
                Op::AlterTable { name, actions, .. } if !cx.is_new_table(name, o.index) => {
                    for a in actions {
                        if let AlterActionKind::RenameTable { to } = &a.kind {
                            if !keeps_names_working(cx, position, name, to) {
                                report(out, o.stmt, name, to, contract);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
