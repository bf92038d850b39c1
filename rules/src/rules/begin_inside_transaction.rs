use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Op, TransactionOp};
use sluice_core::Label;

declare_rule! {
    /// ## What it does
    /// Flags `BEGIN` / `START TRANSACTION` while a transaction is already open: after an
    /// earlier `BEGIN` that was not committed, or anywhere in a file that the migration tool
    /// runs inside its own transaction (`assume_in_transaction = true`).
    ///
    /// ## Why it is bad
    /// PostgreSQL has no nested transactions: the second `BEGIN` only prints a warning and is
    /// ignored. The first `COMMIT` that follows then commits the outer transaction early, the
    /// statements after it run one by one without a transaction, and the final `COMMIT` of the
    /// tool finds nothing to commit. A failure in the second half can no longer roll back the
    /// first.
    ///
    /// ## Example
    /// ```sql
    /// -- The tool already wraps this file in a transaction.
    /// BEGIN;
    /// ALTER TABLE orders ADD COLUMN note text;
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// Leave transaction control to the tool:
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    /// or, in a file that manages its own transaction, commit before opening the next one (a
    /// `SAVEPOINT` gives a nested rollback point).
    pub struct BeginInsideTransaction {
        name: "begin-inside-transaction",
        dialects: [Postgres],
        category: Transaction,
        severity: Warning,
        fix: None,
    }
}

impl Rule for BeginInsideTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        // The BEGIN that opened the transaction in force, if it is in this file.
        let mut open: Option<usize> = None;
        for s in cx.statements() {
            for op in &s.stmt.ops {
                match op {
                    Op::Transaction(TransactionOp::Begin) => {
                        if s.ctx.in_transaction {
                            let outer = open.and_then(|i| cx.file.statements.get(i));
                            let verb =
                                if s.stmt.text(cx.text()).get(..5).is_some_and(|w| w.eq_ignore_ascii_case("start")) {
                                    "START TRANSACTION"
                                } else {
                                    "BEGIN"
                                };
                            let message = if outer.is_some() {
                                format!(
                                    "`{verb}` inside an open transaction is ignored: the next `COMMIT` ends the outer \
                                     transaction early"
                                )
                            } else {
                                format!(
                                    "`{verb}` is ignored: {} and the next `COMMIT` ends that transaction early",
                                    cx.fcx.tool_transaction_reason()
                                )
                            };
                            let d = out.report(s.stmt, s.stmt.span, message);
                            if let Some(outer) = outer {
                                d.labels.push(Label { span: outer.span, message: "transaction opened here".into() });
                                d.help = Some(
                                    "commit the first transaction before opening another, or use a SAVEPOINT".into(),
                                );
                            } else {
                                d.help =
                                    Some("remove the BEGIN/COMMIT pair and let the tool manage the transaction".into());
                            }
                        } else {
                            open = Some(s.index);
                        }
                    }
                    Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback) => open = None,
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{lint_text, LintConfig};
    use sluice_core::Settings;

    fn rules_fired(sql: &str, assume_in_transaction: bool) -> Vec<&'static str> {
        let settings = Settings { assume_in_transaction, ..Settings::default() };
        let config = LintConfig { settings, ..LintConfig::default() };
        lint_text(sql, &config)
            .into_iter()
            .map(|d| d.rule)
            .filter(|r| *r == "begin-inside-transaction" || *r == "unterminated-transaction")
            .collect()
    }

    #[test]
    fn begin_in_a_file_the_tool_wraps() {
        let sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n";
        assert_eq!(rules_fired(sql, true), ["begin-inside-transaction"]);
        assert!(rules_fired(sql, false).is_empty());
    }

    #[test]
    fn the_tool_commits_a_begin_left_open() {
        let sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n";
        assert_eq!(rules_fired(sql, false), ["unterminated-transaction"]);
        assert_eq!(rules_fired(sql, true), ["begin-inside-transaction"]);
    }
}
