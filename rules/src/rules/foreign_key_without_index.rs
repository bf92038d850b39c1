use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind, Ident, Op, QualifiedName};
use sluice_core::Span;

declare_rule! {
    /// ## What it does
    /// Flags a foreign key whose referencing columns are not the leading columns of any index on
    /// the referencing table, anywhere in the migration history (an index created by a later
    /// migration counts; a primary key or unique constraint counts; a partial or expression index
    /// does not). Tables that no migration of the history creates are left alone: their existing
    /// indexes are not known.
    ///
    /// ## Why it is bad
    /// PostgreSQL does not index the referencing side of a foreign key by itself. Every `DELETE`
    /// or key `UPDATE` on the referenced table then scans the whole referencing table to check for
    /// rows that still point at it, while holding row locks, and `ON DELETE CASCADE` turns one
    /// delete into a sequential scan. Joins along the key scan too. On a large table this shows up
    /// as slow deletes that block each other, long after the migration shipped.
    ///
    /// ## Example
    /// ```sql
    /// CREATE TABLE orders (
    ///     id bigint PRIMARY KEY,
    ///     customer_id bigint NOT NULL REFERENCES customers (id)
    /// );
    /// ```
    ///
    /// ## Use instead
    /// Index the referencing columns (concurrently when the table already holds data):
    /// ```sql
    /// CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    /// ```
    pub struct ForeignKeyWithoutIndex {
        name: "foreign-key-without-index",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for ForeignKeyWithoutIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let end = cx.fcx.history_end();
        for o in cx.ops() {
            let mut keys: Vec<(&QualifiedName, Vec<&Ident>, &QualifiedName, Span)> = Vec::new();
            match o.op {
                Op::CreateTable { name, columns, constraints, .. } => {
                    for c in columns {
                        if let Some(r) = &c.references {
                            keys.push((name, vec![&c.name], &r.table, r.span));
                        }
                    }
                    for c in constraints {
                        if let ConstraintKind::ForeignKey { target } = &c.kind {
                            keys.push((name, c.columns.iter().collect(), &target.table, c.span));
                        }
                    }
                }
                Op::AlterTable { name, actions, .. } => {
                    for a in actions {
                        match &a.kind {
                            AlterActionKind::AddConstraint(c) => {
                                if let ConstraintKind::ForeignKey { target } = &c.kind {
                                    keys.push((name, c.columns.iter().collect(), &target.table, c.span));
                                }
                            }
                            AlterActionKind::AddColumn { column, .. } => {
                                if let Some(r) = &column.references {
                                    keys.push((name, vec![&column.name], &r.table, r.span));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            for (table, cols, target, span) in keys {
                if cols.is_empty() {
                    continue;
                }
                let names: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
                // The table, or one of the columns, is gone by the end of the history: nothing to
                // index. A table the history never creates may have indexes it does not show.
                let Some(t) = end.table(table).filter(|t| !t.stub) else { continue };
                if names.iter().any(|n| t.column(n).is_none() && t.columns_known) {
                    continue;
                }
                if end.has_index_covering(table, &names) {
                    continue;
                }
                let list = names.join(", ");
                let d = out.report(
                    o.stmt,
                    span,
                    format!(
                        "no index on `{}` ({list}) serves this foreign key to `{}`: every delete or key update \
                         on `{}` scans `{}`",
                        table.display(),
                        target.display(),
                        target.display(),
                        table.display()
                    ),
                );
                let idx = format!("{}_{}_idx", table.name, names.join("_"));
                d.help = Some(format!(
                    "add `CREATE INDEX CONCURRENTLY {idx} ON {} ({list});` (in this or a later migration)",
                    table.display()
                ));
            }
        }
    }
}
