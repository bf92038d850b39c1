use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{ObjectKind, Op, QualifiedName};
use sluice_core::{Applicability, Edit, Fix};

declare_rule! {
    /// ## What it does
    /// Flags a MySQL migration whose DDL on an existing table runs without a
    /// `SET SESSION lock_wait_timeout = ...` earlier in the file. Reported once per file, at the
    /// first such statement.
    ///
    /// ## Why it is bad
    /// Every `ALTER TABLE`, `CREATE INDEX`, `RENAME TABLE`, `DROP` or `TRUNCATE`, the instant and
    /// `LOCK=NONE` ones included, needs an exclusive metadata lock on the table at least for a
    /// moment. While any open transaction has touched the table (even with a plain `SELECT`),
    /// the DDL waits, and its queued request makes every new query on the table wait behind it
    /// ("Waiting for table metadata lock"). `lock_wait_timeout` bounds that wait, and its
    /// default is 31,536,000 seconds: one year. `innodb_lock_wait_timeout` only covers row
    /// locks and does not help.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL, ALGORITHM=INSTANT;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// SET SESSION lock_wait_timeout = 5;
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL, ALGORITHM=INSTANT;
    /// ```
    /// and retry the migration when it times out, rather than letting it stall the application.
    pub struct MissingLockWaitTimeout {
        name: "missing-lock-wait-timeout",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: Safe,
    }
}

/// The tables whose metadata lock this DDL operation needs (empty when it is not table DDL).
fn ddl_table(op: &Op) -> Vec<&QualifiedName> {
    match op {
        Op::AlterTable { name, .. } => vec![name],
        Op::CreateIndex { table, .. } => vec![table],
        Op::DropIndex { table: Some(t), .. } => vec![t],
        Op::RenameTable { from, .. } => vec![from],
        Op::Drop { kind: ObjectKind::Table, names, .. } => names.iter().collect(),
        Op::Truncate { tables, .. } => tables.iter().collect(),
        _ => Vec::new(),
    }
}

impl Rule for MissingLockWaitTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            if o.ctx.lock_wait_timeout_set {
                continue;
            }
            let Some(table) = ddl_table(o.op).into_iter().find(|t| !cx.is_new_table(t, o.index)) else { continue };
            let d = out.report(
                o.stmt,
                table.span,
                format!(
                    "DDL on `{}` with no `lock_wait_timeout` set: if a transaction holds the table, this waits up to a year for its metadata lock while every later query on `{}` queues behind it",
                    table.display(),
                    table.display()
                ),
            );
            d.help = Some(
                "start the migration with `SET SESSION lock_wait_timeout = 5;` and retry it if it times out".into(),
            );
            if let Some(first) = cx.file.statements.first() {
                d.fix = Some(Fix {
                    description: "Set lock_wait_timeout at the start of the file".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::insert(first.span.start, "SET SESSION lock_wait_timeout = 5;\n")],
                });
            }
            // Once per file: one SET at the top covers every statement.
            return;
        }
    }
}
