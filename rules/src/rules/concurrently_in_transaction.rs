use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::framework::Framework;
use sluice_core::ir::{AlterActionKind, Op};
use sluice_core::{Applicability, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY` and
    /// `DETACH PARTITION CONCURRENTLY` that run inside a transaction block: after an explicit
    /// `BEGIN`, or in a file the migration tool wraps in a transaction
    /// (`assume_in_transaction = true`). `VACUUM`, which has the same restriction (a
    /// `VACUUM ANALYZE` after a backfill is the usual case), is flagged the same way; a plain
    /// `ANALYZE` runs anywhere and is not.
    ///
    /// ## Why it is bad
    /// PostgreSQL refuses these statements inside a transaction block
    /// ("cannot run inside a transaction block"). The migration passes review and fails at
    /// deploy time, after the statements before it have run.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    /// COMMIT;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
    /// ```
    /// in a migration file of its own that the tool runs without a transaction (for example
    /// golang-migrate or dbmate with `transaction:false`, goose `NO TRANSACTION`, sqlx
    /// `-- no-transaction`).
    pub struct ConcurrentlyInTransaction {
        name: "concurrently-in-transaction",
        dialects: [Postgres],
        category: Transaction,
        severity: Error,
        fix: Safe,
    }
}

impl Rule for ConcurrentlyInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let mut marker_offered = false;
        for o in cx.ops() {
            // In a DO block or function PostgreSQL refuses it whatever the transaction:
            // concurrently-in-function-or-do-block reports those.
            if !o.ctx.in_transaction || o.stmt.is_embedded_op(o.op) {
                continue;
            }
            let what = match o.op {
                Op::CreateIndex { concurrently: true, .. } => "CREATE INDEX CONCURRENTLY",
                Op::DropIndex { concurrently: true, .. } => "DROP INDEX CONCURRENTLY",
                Op::Reindex { concurrently: true, .. } => "REINDEX CONCURRENTLY",
                Op::AlterTable { actions, .. }
                    if actions
                        .iter()
                        .any(|a| matches!(a.kind, AlterActionKind::DetachPartition { concurrently: true, .. })) =>
                {
                    "DETACH PARTITION CONCURRENTLY"
                }
                Op::Vacuum { .. } => "VACUUM",
                _ => continue,
            };
            let keyword = if matches!(o.op, Op::Vacuum { .. }) { "vacuum" } else { "concurrently" };
            let span = cx.word_in(o.stmt, keyword).unwrap_or(o.stmt.span);
            let (why, help) = if o.ctx.explicit_transaction {
                (
                    "this one runs after an explicit BEGIN".to_string(),
                    "run it after the COMMIT, outside the transaction block",
                )
            } else {
                (cx.fcx.tool_transaction_reason(), cx.fcx.no_transaction_hint())
            };
            let d = out.report(
                o.stmt,
                span,
                format!("`{what}` cannot run inside a transaction block, and {why}: the deploy fails here"),
            );
            d.help = Some(help.into());
            // One marker serves every such statement of the file: offer it once.
            if !o.ctx.explicit_transaction && !marker_offered {
                d.fix = no_transaction_marker_fix(cx);
                marker_offered = d.fix.is_some();
            }
        }
    }
}

/// Marks the migration to run without the tool's transaction, for tools that read a marker from
/// the file itself (goose, sqlx, dbmate, Atlas; Flyway and Diesel keep it in another file). Safe
/// when the CONCURRENTLY statement is the file's only statement besides `SET`s; otherwise the
/// other statements lose their atomicity, so the fix needs `--unsafe-fixes`.
fn no_transaction_marker_fix(cx: &RuleContext<'_>) -> Option<Fix> {
    let text = cx.text();
    let edit = match cx.fcx.framework {
        Framework::Goose => Edit::insert(0, "-- +goose NO TRANSACTION\n"),
        Framework::Sqlx => Edit::insert(0, "-- no-transaction\n"),
        Framework::Atlas => Edit::insert(0, "-- atlas:txmode none\n\n"),
        Framework::Dbmate => {
            let mut offset = 0;
            let mut at = None;
            for line in text.split_inclusive('\n') {
                let trimmed = line.trim_end();
                if trimmed.trim_start().starts_with("-- migrate:up") {
                    at = Some(offset + trimmed.len());
                    break;
                }
                offset += line.len();
            }
            Edit::insert(at?, " transaction:false")
        }
        _ => return None,
    };
    // Statements that lose their atomicity once the file runs outside a transaction: everything
    // but SETs and the statements that need to run outside one anyway.
    let at_risk = cx
        .statements()
        .filter(|s| {
            !s.stmt.ops.iter().all(|op| {
                matches!(
                    op,
                    Op::Set { .. }
                        | Op::CreateIndex { concurrently: true, .. }
                        | Op::DropIndex { concurrently: true, .. }
                        | Op::Reindex { concurrently: true, .. }
                        | Op::Vacuum { .. }
                )
            })
        })
        .count();
    let applicability = if at_risk == 0 { Applicability::Safe } else { Applicability::Unsafe };
    Some(Fix {
        description: format!("Run this migration outside {}'s transaction", cx.fcx.framework),
        applicability,
        edits: vec![edit],
    })
}

#[cfg(test)]
mod tests {
    use crate::history::{lint_history, MigrationInput};
    use crate::{fix_text_with, LintConfig, PreparedHistory};
    use sluice_core::framework::{classify, Framework};

    fn fixed(fw: Framework, path: &str, text: &str, unsafe_fixes: bool) -> String {
        let config = LintConfig::default();
        let inputs = [MigrationInput {
            path: path.into(),
            bytes: text.as_bytes(),
            entry: classify(fw, path),
            sidecar: None,
            report: true,
            pending: true,
            config: &config,
        }];
        assert!(lint_history(&inputs, fw)[0]
            .as_ref()
            .unwrap()
            .diagnostics
            .iter()
            .any(|d| d.rule == "concurrently-in-transaction"));
        let h = PreparedHistory::new(&inputs, fw);
        let (out, _) = fix_text_with(text, unsafe_fixes, |t| h.lint_text(0, t));
        let after = h.lint_text(0, &out);
        let marked =
            ["NO TRANSACTION", "no-transaction", "transaction:false", "txmode none"].iter().any(|m| out.contains(m));
        assert_eq!(marked, !after.iter().any(|d| d.rule == "concurrently-in-transaction"), "{out}");
        out
    }

    #[test]
    fn marks_the_file_for_tools_that_read_a_marker() {
        let goose = fixed(
            Framework::Goose,
            "00002_idx.sql",
            "-- +goose Up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n-- +goose Down\nDROP INDEX CONCURRENTLY IF EXISTS i;\n",
            false,
        );
        assert!(goose.starts_with("-- +goose NO TRANSACTION\n-- +goose Up"), "{goose}");
        let dbmate = fixed(
            Framework::Dbmate,
            "20240101000000_idx.sql",
            "-- migrate:up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n",
            false,
        );
        assert!(dbmate.starts_with("-- migrate:up transaction:false\n"), "{dbmate}");
        let sqlx = fixed(
            Framework::Sqlx,
            "20240101000000_idx.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n",
            false,
        );
        assert!(sqlx.starts_with("-- no-transaction\n"), "{sqlx}");
    }

    #[test]
    fn other_statements_make_the_fix_unsafe() {
        let text = "-- +goose Up\nALTER TABLE t ADD COLUMN IF NOT EXISTS b int;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (b);\n";
        assert!(!fixed(Framework::Goose, "00003_b.sql", text, false).contains("NO TRANSACTION"));
        assert!(fixed(Framework::Goose, "00003_b.sql", text, true).starts_with("-- +goose NO TRANSACTION"));
    }
}
