use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Op, TransactionOp};
use sluice_core::lexer::TokenKind;
use sluice_core::{Label, PgVersion, Span};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TYPE ... ADD VALUE` inside a transaction block when the new value is used
    /// by a later statement of the same transaction, and on PostgreSQL before 12 flags any
    /// `ADD VALUE` inside a transaction block.
    ///
    /// ## Why it is bad
    /// Before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` cannot run inside a transaction block
    /// at all. Since 12 it can, but the new value cannot be used until the transaction
    /// commits: an `INSERT`, `UPDATE`, default or check that mentions it fails with
    /// "unsafe use of new value", and the whole migration rolls back at deploy time.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TYPE order_status ADD VALUE 'refunded';
    /// UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// Add the value in its own transaction (or migration) and use it afterwards:
    /// ```sql
    /// ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
    /// -- in a later transaction or migration:
    /// UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;
    /// ```
    pub struct EnumValueAddedInTransaction {
        name: "enum-value-added-in-transaction",
        dialects: [Postgres],
        category: Transaction,
        severity: Error,
        fix: None,
    }
}

/// The new value as a SQL string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl Rule for EnumValueAddedInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let old_server = cx.fcx.settings.pg_version < PgVersion::new(12, 0);
        let statements: Vec<_> = cx.statements().collect();
        for (pos, s) in statements.iter().enumerate() {
            for op in &s.stmt.ops {
                let Op::AlterEnumAddValue { type_name, value, .. } = op else { continue };
                if !s.ctx.in_transaction {
                    continue;
                }
                let lit = literal(value);
                let tokens = cx.file.statement_tokens(s.stmt);
                let value_span = tokens
                    .iter()
                    .rev()
                    .find(|t| t.kind == TokenKind::String && t.text(cx.text()) == lit)
                    .map_or(s.stmt.span, |t| t.span);
                if old_server {
                    let d = out.report(
                        s.stmt,
                        value_span,
                        format!(
                            "`ALTER TYPE {} ADD VALUE` cannot run inside a transaction block before PostgreSQL 12",
                            type_name.display()
                        ),
                    );
                    d.help = Some("run it in a migration without a transaction".into());
                    continue;
                }
                // Later statements of the same transaction that mention the value.
                let mut uses: Vec<Span> = Vec::new();
                for later in &statements[pos + 1..] {
                    if !later.ctx.in_transaction {
                        break;
                    }
                    uses.extend(
                        cx.file
                            .statement_tokens(later.stmt)
                            .iter()
                            .filter(|t| t.kind == TokenKind::String && t.text(cx.text()) == lit)
                            .map(|t| t.span),
                    );
                    let ends = later
                        .stmt
                        .ops
                        .iter()
                        .any(|o| matches!(o, Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback)));
                    if ends {
                        break;
                    }
                }
                let Some(first) = uses.first() else { continue };
                let line = cx.text().get(..first.start).unwrap_or("").matches('\n').count() + 1;
                let d = out.report(
                    s.stmt,
                    value_span,
                    format!(
                        "new value {lit} of `{}` is used on line {line} before the transaction commits: PostgreSQL \
                         rejects that with `unsafe use of new value`",
                        type_name.display()
                    ),
                );
                for span in uses {
                    d.labels.push(Label { span, message: "used before the ADD VALUE is committed".into() });
                }
                d.help = Some("commit after adding the value, and use it in a later transaction or migration".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{self, postgres};
    use sluice_core::PgVersion;

    fn messages(sql: &str, pg: PgVersion) -> Vec<String> {
        test_util::messages(sql, &postgres(pg), "enum-value-added-in-transaction")
    }

    const UNUSED: &str = "BEGIN;\nALTER TYPE order_status ADD VALUE 'on_hold';\nCOMMIT;\n";

    #[test]
    fn before_12_any_add_value_in_a_transaction_block_fails() {
        let found = messages(UNUSED, PgVersion::new(11, 0));
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("before PostgreSQL 12"), "{found:?}");
        assert!(messages(UNUSED, PgVersion::new(12, 0)).is_empty());
    }
}
