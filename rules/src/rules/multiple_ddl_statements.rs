use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::lexer::TokenKind;
use sluice_core::{ColumnUnit, LineIndex};

declare_rule! {
    /// ## What it does
    /// Flags the second and every later DDL statement of a MySQL migration file, naming the
    /// earlier DDL statements by line.
    ///
    /// ## Why it is bad
    /// MySQL commits implicitly before and after every DDL statement, and a `BEGIN` around them
    /// changes nothing. When the third statement fails, the first two stay applied, the
    /// migration tool usually records the migration as failed (or not at all), and running it
    /// again fails on the objects that already exist. Someone then has to repair the schema by
    /// hand, in production, under pressure.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL, ALGORITHM=INSTANT;
    /// CREATE INDEX `idx_orders_note` ON `orders` (`note`);
    /// ```
    ///
    /// ## Use instead
    /// One DDL statement per migration file, or several clauses of one `ALTER TABLE` combined
    /// into a single statement:
    /// ```sql
    /// ALTER TABLE `orders`
    ///   ADD COLUMN `note` VARCHAR(255) NULL,
    ///   ADD INDEX `idx_orders_note` (`note`),
    ///   ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    /// When several statements must stay in one file, make each re-runnable
    /// (`CREATE TABLE IF NOT EXISTS`, `DROP ... IF EXISTS`).
    pub struct MultipleDdlStatements {
        name: "multiple-ddl-statements",
        dialects: [MySql],
        category: Transaction,
        severity: Warning,
        fix: None,
    }
}

impl Rule for MultipleDdlStatements {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let text = cx.text();
        let lines = LineIndex::new(text);
        let mut earlier: Vec<usize> = Vec::new();
        for s in cx.statements() {
            if !s.stmt.ops.iter().any(|op| op.is_ddl()) {
                continue;
            }
            let line = lines.line_col(text, s.stmt.span.start, ColumnUnit::Char).line + 1;
            if !earlier.is_empty() {
                // Point at the leading keywords (`ALTER TABLE`, `CREATE INDEX`, ...).
                let mut words = cx.code_tokens(s.stmt).take(2);
                let span = match (words.next(), words.next()) {
                    (Some(a), Some(b)) if b.kind == TokenKind::Word => a.span.cover(b.span),
                    (Some(a), _) => a.span,
                    _ => s.stmt.span,
                };
                let d = out.report(
                    s.stmt,
                    span,
                    format!(
                        "this DDL statement commits on its own: if it fails, {} on {} {} applied and re-running the migration breaks",
                        if earlier.len() == 1 { "the DDL statement" } else { "the DDL statements" },
                        describe_lines(&earlier),
                        if earlier.len() == 1 { "stays" } else { "stay" },
                    ),
                );
                d.help = Some(
                    "put each DDL statement in its own migration, merge clauses into one ALTER TABLE, or make every statement re-runnable".into(),
                );
            }
            earlier.push(line);
        }
    }
}

/// "line 3", "lines 3 and 7", "lines 3, 7 and 9", "lines 3, 7, 9, 12, 15 and 4 more".
fn describe_lines(lines: &[usize]) -> String {
    const SHOWN: usize = 5;
    let nums: Vec<String> = lines.iter().take(SHOWN).map(usize::to_string).collect();
    match (lines.len(), nums.split_last()) {
        (1, _) => format!("line {}", nums.concat()),
        (n, Some((last, rest))) if n <= SHOWN => format!("lines {} and {last}", rest.join(", ")),
        (n, _) => format!("lines {} and {} more", nums.join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_lines;

    #[test]
    fn lines_are_listed_readably() {
        assert_eq!(describe_lines(&[3]), "line 3");
        assert_eq!(describe_lines(&[3, 7]), "lines 3 and 7");
        assert_eq!(describe_lines(&[3, 7, 9]), "lines 3, 7 and 9");
        assert_eq!(describe_lines(&[1, 2, 3, 4, 5, 6, 7]), "lines 1, 2, 3, 4, 5 and 2 more");
    }
}
