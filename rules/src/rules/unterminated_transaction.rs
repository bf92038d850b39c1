use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a `BEGIN` / `START TRANSACTION` that no `COMMIT` or `ROLLBACK` closes before the
    /// end of the file. Files the migration tool wraps in its own transaction
    /// (`assume_in_transaction = true`) are not flagged: the tool commits at the end.
    ///
    /// ## Why it is bad
    /// What happens next depends on the tool. psql and most drivers roll the open transaction
    /// back when the connection closes, so everything the migration did is silently undone
    /// while the tool reports success. A tool that keeps the connection open (or runs the next
    /// file on it) keeps every lock the migration took, blocking the tables until someone
    /// notices.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD COLUMN note text;
    /// COMMIT;
    /// ```
    pub struct UnterminatedTransaction {
        name: "unterminated-transaction",
        dialects: [Postgres],
        category: Transaction,
        severity: Error,
        fix: None,
    }
}

impl Rule for UnterminatedTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        // When the tool wraps the file in its own transaction, its final COMMIT closes this one.
        let Some(i) = cx.fcx.unterminated_begin else { return };
        if cx.fcx.at(i).tool_transaction {
            return;
        }
        let Some(stmt) = cx.file.statements.get(i) else { return };
        let d = out.report(
            stmt,
            stmt.span,
            "this transaction is never committed: it is still open when the file ends, so the migration is rolled \
             back or keeps its locks",
        );
        d.help = Some("end the file with `COMMIT;`".into());
    }
}
