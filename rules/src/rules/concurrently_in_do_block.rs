use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, Op};
use sluice_core::lexer::tokenize;
use sluice_core::parse::EmbeddedKind;
use sluice_core::{Dialect, Span};

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`,
    /// `DETACH PARTITION CONCURRENTLY` and `VACUUM` written inside a `DO` block or a function or
    /// procedure body, whether as a plain statement or as `EXECUTE 'literal'`.
    ///
    /// ## Why it is bad
    /// PostgreSQL runs these statements only at the top level. From a `DO` block or a function
    /// it refuses them ("cannot be executed from a function"; "cannot run inside a
    /// subtransaction" in a block with an `EXCEPTION` clause, "cannot run inside a transaction
    /// block" after `BEGIN`), whatever the migration tool does with transactions. A `DO` block
    /// fails when the migration is deployed; a function fails each time it is called.
    ///
    /// ## Example
    /// ```sql
    /// DO $$
    /// BEGIN
    ///   IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'orders_created_at_idx') THEN
    ///     CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    ///   END IF;
    /// END
    /// $$;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
    /// ```
    /// as a top-level statement, in a migration the tool runs without a transaction.
    /// `IF NOT EXISTS` / `IF EXISTS` make index builds and drops conditional without a `DO`
    /// block.
    pub struct ConcurrentlyInFunctionOrDoBlock {
        name: "concurrently-in-function-or-do-block",
        dialects: [Postgres],
        category: Transaction,
        severity: Error,
        fix: None,
    }
}

/// The statement name PostgreSQL uses in its error when `op` runs concurrently.
fn concurrent_statement(op: &Op) -> Option<&'static str> {
    match op {
        Op::CreateIndex { concurrently: true, .. } => Some("CREATE INDEX CONCURRENTLY"),
        Op::DropIndex { concurrently: true, .. } => Some("DROP INDEX CONCURRENTLY"),
        Op::Reindex { concurrently: true, .. } => Some("REINDEX CONCURRENTLY"),
        Op::Vacuum { .. } => Some("VACUUM"),
        Op::AlterTable { actions, .. }
            if actions
                .iter()
                .any(|a| matches!(a.kind, AlterActionKind::DetachPartition { concurrently: true, .. })) =>
        {
            Some("DETACH PARTITION CONCURRENTLY")
        }
        _ => None,
    }
}

/// The `CONCURRENTLY` keyword inside `span`, or `span`.
fn keyword(text: &str, span: Span) -> Span {
    let inner = span.slice(text);
    tokenize(inner, Dialect::Postgres)
        .into_iter()
        .find(|t| t.is_word(inner, "concurrently") || t.is_word(inner, "vacuum"))
        .map_or(span, |t| t.span.shifted(span.start))
}

impl Rule for ConcurrentlyInFunctionOrDoBlock {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for s in cx.statements() {
            let stmt = s.stmt;
            for body in &stmt.embedded {
                for inner in &body.statements {
                    let ops = stmt.ops.get(inner.ops.clone()).unwrap_or(&[]);
                    let Some(what) = ops.iter().find_map(concurrent_statement) else { continue };
                    // The innermost function body holding the statement, if any: it runs when called.
                    let function = stmt
                        .embedded
                        .iter()
                        .filter(|e| e.kind == EmbeddedKind::FunctionBody)
                        .rfind(|e| e.span.start <= inner.span.start && inner.span.end <= e.span.end);
                    let place = match function {
                        Some(f) => format!("the body of `{}`", f.function.as_deref().unwrap_or("a function")),
                        None => "a DO block".to_string(),
                    };
                    let d = out.report(
                        stmt,
                        keyword(cx.text(), inner.span),
                        format!("`{what}` fails in {place}: PostgreSQL runs it only as a top-level statement"),
                    );
                    d.help = Some(
                        "run it as a top-level statement in a migration without a transaction (`IF NOT EXISTS` / \
                         `IF EXISTS` make index builds and drops conditional)"
                            .into(),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, postgres};
    use sluice_core::PgVersion;

    fn run(sql: &str) -> Vec<(String, String)> {
        findings(sql, &postgres(PgVersion::default()), "concurrently-in-function-or-do-block")
            .into_iter()
            .map(|d| (d.span.slice(sql).to_string(), d.message))
            .collect()
    }

    #[test]
    fn flags_each_concurrent_statement_in_bodies() {
        let sql = "DO $$ BEGIN\n  EXECUTE 'DROP INDEX CONCURRENTLY i';\n  REINDEX INDEX CONCURRENTLY j;\nEND $$;\n\
                   CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN ALTER TABLE t DETACH PARTITION t1 CONCURRENTLY; END $$;";
        let found = run(sql);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().all(|(span, _)| span == "CONCURRENTLY"));
        assert!(found[0].1.starts_with("`DROP INDEX CONCURRENTLY` fails in a DO block"));
        assert!(found[1].1.starts_with("`REINDEX CONCURRENTLY` fails in a DO block"));
        assert!(found[2].1.starts_with("`DETACH PARTITION CONCURRENTLY` fails in the body of `p`"));
    }

    #[test]
    fn vacuum_in_a_body_is_flagged_at_its_keyword() {
        let found = run("DO $$ BEGIN ANALYZE t; VACUUM t; END $$;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "VACUUM");
        assert!(found[0].1.starts_with("`VACUUM` fails in a DO block"), "{}", found[0].1);
    }

    #[test]
    fn reported_once_inside_a_transaction() {
        let sql = "BEGIN;\nDO $$ BEGIN CREATE INDEX CONCURRENTLY i ON t (a); END $$;\nCOMMIT;";
        let config = postgres(PgVersion::default());
        assert_eq!(run(sql).len(), 1);
        assert!(findings(sql, &config, "concurrently-in-transaction").is_empty());
    }

    #[test]
    fn top_level_and_plain_statements_are_not_flagged() {
        let sql = "CREATE INDEX CONCURRENTLY i ON t (a);\nDO $$ BEGIN CREATE INDEX j ON t (a); \
                   RAISE NOTICE 'CREATE INDEX CONCURRENTLY k ON t (a)'; END $$;";
        assert!(run(sql).is_empty(), "{:?}", run(sql));
    }
}
