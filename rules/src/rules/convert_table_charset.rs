use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, Op, QualifiedName};
use sluice_core::lexer::{ident_value, TokenKind};
use sluice_core::{Dialect, Span, Statement, StatementStatus};

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
        for o in cx.ops() {
            let Op::AlterTable { name, actions, .. } = o.op else { continue };
            if cx.is_new_table(name, o.index) {
                continue;
            }
            for a in actions {
                let AlterActionKind::ConvertCharset { charset } = &a.kind else { continue };
                report(out, o.stmt, a.span, &name.display(), Some(charset));
            }
        }
        // `sqlparser` rejects `CONVERT TO CHARACTER SET`, which MySQL accepts: recognise the
        // statement from its tokens when it did not parse.
        for (index, stmt) in cx.file.statements.iter().enumerate() {
            if !matches!(stmt.status, StatementStatus::SyntaxError(_)) {
                continue;
            }
            let Some((table, span)) = convert_clause(cx, stmt) else { continue };
            if !cx.is_new_table(&table, index) {
                report(out, stmt, span, &table.display(), None);
            }
        }
    }
}

fn report(out: &mut Reporter, stmt: &Statement, span: Span, table: &str, charset: Option<&str>) {
    let to = charset.map_or_else(String::new, |c| format!(" to `{c}`"));
    let d = out.report(
        stmt,
        span,
        format!("converting `{table}`{to} re-encodes every row: MySQL copies the table and blocks writes to it until the copy is done"),
    );
    d.help = Some("run the conversion with gh-ost or pt-online-schema-change".into());
}

/// `ALTER TABLE <name> ... CONVERT TO CHARACTER SET|CHARSET ...` read from tokens: the table and
/// the span from `CONVERT` to the character set name.
fn convert_clause(cx: &RuleContext<'_>, stmt: &Statement) -> Option<(QualifiedName, Span)> {
    let text = cx.text();
    let toks: Vec<_> = cx.file.statement_tokens(stmt).iter().filter(|t| !t.is_comment()).copied().collect();
    if !(toks.first()?.is_word(text, "alter") && toks.get(1)?.is_word(text, "table")) {
        return None;
    }
    // The table name: `t`, `s`.`t` (possibly after IGNORE / IF EXISTS, not handled: rare).
    let first = toks.get(2)?;
    if !matches!(first.kind, TokenKind::Word | TokenKind::QuotedIdent) {
        return None;
    }
    let mut table = QualifiedName { schema: None, name: ident_value(first, text, Dialect::MySql), span: first.span };
    if let (Some(dot), Some(second)) = (toks.get(3), toks.get(4)) {
        if dot.is_punct(text, '.') && matches!(second.kind, TokenKind::Word | TokenKind::QuotedIdent) {
            table = QualifiedName {
                schema: Some(table.name),
                name: ident_value(second, text, Dialect::MySql),
                span: first.span.cover(second.span),
            };
        }
    }
    let at = toks.windows(2).position(|w| w[0].is_word(text, "convert") && w[1].is_word(text, "to"))?;
    // CONVERT TO CHARACTER SET x / CONVERT TO CHARSET x: end the span at the charset name.
    let rest = toks.get(at + 2..)?;
    let name_at = if rest.first()?.is_word(text, "charset") { 1 } else { 2 };
    let end = rest.get(name_at).or(rest.last())?;
    Some((table, toks.get(at)?.span.cover(end.span)))
}
