use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind};
use sluice_core::{Applicability, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD CONSTRAINT` with a `CHECK` or `FOREIGN KEY` that is not marked
    /// `NOT VALID`, on a table that existed before this migration.
    ///
    /// ## Why it is bad
    /// PostgreSQL checks every existing row before the constraint is added, while holding its
    /// lock: ACCESS EXCLUSIVE for a CHECK (no reads, no writes), SHARE ROW EXCLUSIVE on both the
    /// referencing and the referenced table for a FOREIGN KEY (no writes to either). On a large
    /// table the scan takes as long as reading the whole table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    ///     FOREIGN KEY (customer_id) REFERENCES customers (id);
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    ///     FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// -- in a separate transaction (ideally a later migration):
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
    /// ```
    /// `NOT VALID` adds the constraint at once and enforces it for new rows only; `VALIDATE
    /// CONSTRAINT` then checks the old rows under a SHARE UPDATE EXCLUSIVE lock, which lets reads
    /// and writes continue. The fix adds `NOT VALID` and, for a named constraint, the `VALIDATE`
    /// statement right after; it is marked unsafe because validating in the same transaction keeps
    /// the stronger lock held during the scan: move the `VALIDATE` to its own transaction.
    pub struct ConstraintWithoutNotValid {
        name: "constraint-without-not-valid",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Unsafe,
        scope: Statement,
    }
}

impl Rule for ConstraintWithoutNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddConstraint(c) = &a.kind else { continue };
            let table = name.display();
            if c.not_valid {
                continue;
            }
            let message = match &c.kind {
                ConstraintKind::Check { .. } => format!(
                    "adding this CHECK constraint scans every row of `{table}` under an ACCESS EXCLUSIVE \
                     lock: reads and writes wait for the whole scan"
                ),
                ConstraintKind::ForeignKey { target } => format!(
                    "adding this foreign key scans every row of `{table}` while holding SHARE ROW EXCLUSIVE \
                     locks on `{table}` and `{}`: writes to both wait for the whole scan",
                    target.table.display()
                ),
                _ => continue,
            };
            let d = out.report(o.stmt, c.span, message);
            let cname = c.name.as_ref().map(|n| {
                let written = n.span.slice(cx.text());
                if written.is_empty() {
                    n.name.clone()
                } else {
                    written.to_string()
                }
            });
            d.help = Some(match &cname {
                Some(n) => format!(
                    "add it `NOT VALID`, then run `ALTER TABLE {table} VALIDATE CONSTRAINT {n}` in a separate \
                     transaction: validation does not block reads or writes"
                ),
                None => "name the constraint and add it `NOT VALID`, then `VALIDATE CONSTRAINT` it in a \
                         separate transaction: validation does not block reads or writes"
                    .into(),
            });
            let mut edits = vec![Edit::insert(a.span.end, " NOT VALID")];
            // The VALIDATE goes after the statement's `;`. A last statement without one is
            // left with NOT VALID only: appending there would collide with the insertion above.
            let validate_after = o.stmt.terminator.map(|t| t.end);
            if let (Some(n), Some(at)) = (&cname, validate_after) {
                let table_text = name.span.slice(cx.text());
                let table_text = if table_text.is_empty() { table.as_str() } else { table_text };
                edits.push(Edit::insert(at, format!("\nALTER TABLE {table_text} VALIDATE CONSTRAINT {n};")));
            }
            d.fix = Some(Fix {
                description: if edits.len() > 1 {
                    "Add NOT VALID and validate the constraint in a following statement".into()
                } else {
                    "Add NOT VALID".into()
                },
                applicability: Applicability::Unsafe,
                edits,
            });
        }
    }
}
