use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, GeneratedKind, Volatility};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD COLUMN` on a table that existed before this migration when the
    /// new column has a per-row expression default such as `DEFAULT (UUID())`, or is a `STORED`
    /// generated column.
    ///
    /// ## Why it is bad
    /// Adding a plain column is instant on MySQL 8.0 and MariaDB 10.3+, but an expression default
    /// rules that out: InnoDB rebuilds the whole table to compute a value for every existing row
    /// (and a nondeterministic function gives each replica its own values, so MySQL may refuse
    /// the statement as unsafe for replication). A `STORED` generated column is worse: it
    /// cannot be added in place at all, so MySQL copies the table with writes blocked.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `public_id` CHAR(36) NOT NULL DEFAULT (UUID());
    /// ALTER TABLE `orders` ADD COLUMN `total_cents` BIGINT AS (`amount` * 100) STORED;
    /// ```
    ///
    /// ## Use instead
    /// Add the column instantly without the expression, fill it in batches, then set the
    /// default; use a `VIRTUAL` generated column (instant) where a stored one is not required:
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `public_id` CHAR(36) NULL, ALGORITHM=INSTANT;
    /// -- backfill `public_id` in batches, then enforce NOT NULL in a later migration
    /// ALTER TABLE `orders` ADD COLUMN `total_cents` BIGINT AS (`amount` * 100) VIRTUAL, ALGORITHM=INSTANT;
    /// ```
    pub struct AddColumnExpressionDefault {
        name: "add-column-expression-default",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AddColumnExpressionDefault {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddColumn { column, .. } = &a.kind else { continue };
            let t = name.display();
            let c = &column.name.name;
            if let Some((GeneratedKind::Stored, expr)) = &column.generated {
                let d = out.report(
                    o.stmt,
                    expr.span,
                    format!(
                        "STORED generated column `{c}` must be computed for every existing row: MySQL copies `{t}` and blocks writes to it for the whole copy"
                    ),
                );
                d.help = Some(
                    "make it VIRTUAL (added instantly, computed on read), or add it with gh-ost or pt-online-schema-change".into(),
                );
            } else if let Some(default) = column.default.as_ref().filter(|e| e.volatility == Volatility::Volatile) {
                let d = out.report(
                    o.stmt,
                    default.span,
                    format!(
                        "default `{}` is evaluated for every existing row: adding `{c}` cannot be instant and rebuilds `{t}`",
                        default.text
                    ),
                );
                d.help = Some(
                    "add the column without the expression default, backfill it in batches, then set the default in a later migration".into(),
                );
            }
        }
    }
}
