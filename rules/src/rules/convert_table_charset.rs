use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;
use sluice_core::{Span, Statement};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... CONVERT TO CHARACTER SET` on a table that existed before this
    /// migration.
    ///
    /// ## Why it is bad
    /// Converting re-encodes every text column of every row. InnoDB cannot do it in place:
    /// MySQL copies the whole table and blocks writes to it until the copy is done. The
    /// conversion can also lengthen values (utf8mb3 to utf8mb4 takes up to four bytes per
    /// character), which may push indexed columns over the index key length limit.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `comments` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
    /// ```
    ///
    /// ## Use instead
    /// Run the conversion with an online schema change tool (gh-ost, pt-online-schema-change).
    /// To change only the default for columns added later, which does not touch existing rows,
    /// set the table default instead:
    /// ```sql
    /// ALTER TABLE `comments` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
    /// ```
    pub struct ConvertTableCharset {
        name: "convert-table-charset",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for ConvertTableCharset {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::ConvertCharset { charset } = &a.kind else { continue };
            report(out, o.stmt, a.span, &name.display(), charset);
        }
    }
}

fn report(out: &mut Reporter, stmt: &Statement, span: Span, table: &str, charset: &str) {
    let to = if charset.is_empty() { String::new() } else { format!(" to `{charset}`") };
    let d = out.report(
        stmt,
        span,
        format!("converting `{table}`{to} re-encodes every row: MySQL copies the table and blocks writes to it until the copy is done"),
    );
    d.help = Some("run the conversion with gh-ost or pt-online-schema-change".into());
}
