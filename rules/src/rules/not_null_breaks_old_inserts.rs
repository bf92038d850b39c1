use super::compat;
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::catalog::Column;
use sluice_core::ir::{AlterAction, AlterActionKind, Op, QualifiedName, TransactionOp};
use sluice_core::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags changes to a column that exists on the base schema after which an `INSERT` that
    /// leaves the column out fails: `SET NOT NULL` (or a MySQL `MODIFY`/`CHANGE` to `NOT NULL`) on
    /// a column without a default, and `DROP DEFAULT` on a `NOT NULL` column. Columns the change
    /// set adds, identity and generated columns are not flagged, nor is a change that a later
    /// statement of the same PostgreSQL transaction undoes (a type change that drops the default,
    /// alters the type and sets the default again). In a migration marked
    /// `-- sluice:phase contract` the finding is info.
    ///
    /// ## Why it is bad
    /// The application version still running during the deploy may insert rows without the
    /// column (it predates it, or relies on the default). From the moment the migration commits
    /// those inserts fail with a not-null violation.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
    /// ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
    /// ```
    ///
    /// ## Use instead
    /// Give the column a default first, or ship code that always writes it and make the change in
    /// a later migration marked `-- sluice:phase contract`:
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN currency SET DEFAULT 'EUR';
    /// ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
    /// ```
    pub struct NotNullBreaksOldInserts {
        name: "not-null-breaks-old-inserts",
        dialects: [Postgres, MySql],
        category: Compatibility,
        severity: Warning,
        fix: None,
    }
}

/// The column fills itself on insert (identity, generated), so leaving it out stays valid.
fn fills_itself(c: &Column) -> bool {
    c.identity || c.generated
}

/// The same `ALTER TABLE` gives `column` a default.
fn sets_default(actions: &[AlterAction], column: &str) -> bool {
    actions.iter().any(|a| matches!(&a.kind, AlterActionKind::SetDefault { column: c, .. } if c.eq_mysql(column)))
}

/// True when, before the PostgreSQL transaction of statement `index` commits, a later statement
/// lets inserts leave `column` out again (gives it a default, drops NOT NULL, or drops it): other
/// sessions never see the state in between, as when a type change drops the default, alters the
/// type and sets the default again.
fn restored_in_transaction(cx: &RuleContext<'_>, index: usize, table: &QualifiedName, column: &str) -> bool {
    let insertable = |c: Option<&Column>| c.is_none_or(|c| !c.not_null || c.default.is_some() || fills_itself(c));
    if cx.dialect() != Dialect::Postgres {
        return false;
    }
    let mut later = cx.all_statements().skip_while(|s| s.index < index);
    if !later.next().is_some_and(|s| s.index == index && s.ctx.in_transaction) {
        return false;
    }
    for s in later {
        if insertable(cx.fcx.catalog_before(s.index).column(table, column)) {
            return true;
        }
        let ends = s.stmt.ops.iter().any(|o| matches!(o, Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback)));
        if !s.ctx.in_transaction || ends {
            return false;
        }
    }
    insertable(cx.fcx.catalog_after().column(table, column))
}

impl Rule for NotNullBreaksOldInserts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = compat::contract_phase(cx);
        for (o, table, actions) in cx.alter_tables_of_existing() {
            if compat::is_down(&o) {
                continue;
            }
            let catalog = cx.fcx.catalog_before(o.index);
            for a in actions {
                let (column, message, help) = match &a.kind {
                    AlterActionKind::SetNotNull { column } => {
                        let old = catalog.column(table, &column.name);
                        if old.is_some_and(|c| c.not_null || c.default.is_some() || fills_itself(c))
                            || sets_default(actions, &column.name)
                        {
                            continue;
                        }
                        (
                            column,
                            format!(
                                "`{}.{}` becomes NOT NULL without a default: inserts of the running application \
                                 that leave it out fail",
                                table.display(),
                                column.name
                            ),
                            "give the column a default first, or make it NOT NULL in a later contract migration \
                             once every running release writes it",
                        )
                    }
                    AlterActionKind::DropDefault { column } => {
                        let Some(old) = catalog.column(table, &column.name) else { continue };
                        if !old.not_null || old.default.is_none() || fills_itself(old) {
                            continue;
                        }
                        (
                            column,
                            format!(
                                "dropping the default of NOT NULL column `{}.{}` makes inserts of the running \
                                 application that leave it out fail",
                                table.display(),
                                column.name
                            ),
                            "keep the default until every running release writes the column, then drop it in a \
                             contract migration",
                        )
                    }
                    AlterActionKind::AlterColumnType { column, new_definition: Some(def), .. } => {
                        let Some(old) = catalog.column(table, &column.name) else { continue };
                        if !def.not_null || old.not_null || def.default.is_some() || def.identity || fills_itself(old) {
                            continue;
                        }
                        (
                            column,
                            format!(
                                "`{}.{}` becomes NOT NULL without a default: inserts of the running application \
                                 that leave it out fail",
                                table.display(),
                                column.name
                            ),
                            "restate the column with a DEFAULT, or make it NOT NULL in a later contract migration \
                             once every running release writes it",
                        )
                    }
                    _ => continue,
                };
                if !compat::column_on_base(cx, o.index, table, &column.name)
                    || restored_in_transaction(cx, o.index, table, &column.name)
                {
                    continue;
                }
                let d = out.report(o.stmt, a.span, message);
                d.help = Some(help.into());
                compat::apply_contract_phase(d, contract);
            }
        }
    }
}
