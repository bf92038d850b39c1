//! What rules know about a file beyond a single statement: the target server, the transaction
//! state each statement runs in, the timeouts set so far, and the tables created earlier in the
//! same file (empty and invisible to other sessions, so lock rules must not fire on them).

use crate::ir::{Op, QualifiedName, TransactionOp};
use crate::parse::ParsedFile;
use crate::version::{MySqlVersion, PgVersion};
use crate::Dialect;
use std::collections::HashMap;

/// Settings that decide how a file is analysed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub dialect: Dialect,
    pub pg_version: PgVersion,
    pub mysql_version: MySqlVersion,
    /// The migration tool wraps every file in a transaction (sqlx, diesel, Flyway on PostgreSQL,
    /// golang-migrate with multi-statement mode, ...).
    pub assume_in_transaction: bool,
}

/// Transaction and session state in force when a statement runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatementContext {
    /// The statement runs inside a transaction block (explicit `BEGIN`, or the tool's wrapper).
    pub in_transaction: bool,
    /// The transaction was opened explicitly in this file (not only assumed).
    pub explicit_transaction: bool,
    /// A `SET lock_timeout` (PostgreSQL) ran earlier in the file with a non-zero value.
    pub lock_timeout_set: bool,
    /// A `SET statement_timeout` ran earlier with a non-zero value.
    pub statement_timeout_set: bool,
    /// A `SET [SESSION] lock_wait_timeout` (MySQL) ran earlier in the file.
    pub lock_wait_timeout_set: bool,
    /// `SET foreign_key_checks = 0` is in force (MySQL).
    pub foreign_key_checks_off: bool,
    /// An earlier statement of the same transaction took an ACCESS EXCLUSIVE-class lock on a
    /// table that existed before the file (index of that statement).
    pub holds_strong_lock_since: Option<usize>,
}

/// Per-file analysis shared by all rules.
#[derive(Clone, Debug)]
pub struct FileContext {
    pub settings: Settings,
    /// One entry per statement of the [`ParsedFile`], same order.
    pub statements: Vec<StatementContext>,
    /// Tables created in this file, with the index of the creating statement.
    pub created_tables: Vec<(QualifiedName, usize)>,
    /// `created_tables` indices by lower-cased table name, so lookups stay O(1) in large files.
    created_by_name: HashMap<String, Vec<usize>>,
    /// Index of a `BEGIN` that opened a transaction still open at the end of the file.
    pub unterminated_begin: Option<usize>,
}

fn is_nonzero_timeout(value: &str) -> bool {
    let v = value.trim().trim_matches('\'').trim();
    !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("default") || v.starts_with("0m") || v.starts_with("0s"))
}

impl FileContext {
    pub fn analyze(file: &ParsedFile, settings: &Settings) -> FileContext {
        let mut out = Vec::with_capacity(file.statements.len());
        let mut created: Vec<(QualifiedName, usize)> = Vec::new();
        let mut in_tx = settings.assume_in_transaction;
        let mut explicit = false;
        let mut open_begin = None;
        let mut state = StatementContext::default();
        for (i, stmt) in file.statements.iter().enumerate() {
            state.in_transaction = in_tx;
            state.explicit_transaction = explicit;
            if !in_tx {
                state.holds_strong_lock_since = None;
            }
            out.push(state.clone());
            for op in &stmt.ops {
                match op {
                    Op::Transaction(TransactionOp::Begin) => {
                        in_tx = true;
                        explicit = true;
                        open_begin = Some(i);
                    }
                    Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback) => {
                        in_tx = false;
                        explicit = false;
                        open_begin = None;
                    }
                    Op::Set { name, value, .. } => {
                        let name = name.to_ascii_lowercase();
                        let name = name.rsplit('.').next().unwrap_or(&name);
                        match name {
                            "lock_timeout" => state.lock_timeout_set = is_nonzero_timeout(value),
                            "statement_timeout" => state.statement_timeout_set = is_nonzero_timeout(value),
                            "lock_wait_timeout" => state.lock_wait_timeout_set = true,
                            "foreign_key_checks" => {
                                let v = value.trim().to_ascii_lowercase();
                                state.foreign_key_checks_off = v == "0" || v == "off" || v == "false";
                            }
                            _ => {}
                        }
                    }
                    Op::CreateTable { name, .. } => created.push((name.clone(), i)),
                    Op::RenameTable { from, to } if created.iter().any(|(n, _)| n.same_object(from)) => {
                        created.push((to.clone(), i));
                    }
                    _ => {}
                }
                // MySQL commits implicitly around every DDL statement.
                if settings.dialect == Dialect::MySql && op.is_ddl() {
                    in_tx = false;
                    explicit = false;
                    open_begin = None;
                }
            }
            if in_tx && state.holds_strong_lock_since.is_none() && takes_strong_lock(&stmt.ops, &created, i) {
                state.holds_strong_lock_since = Some(i);
            }
        }
        let mut created_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (name, _)) in created.iter().enumerate() {
            created_by_name.entry(name.name.to_ascii_lowercase()).or_default().push(i);
        }
        FileContext {
            settings: settings.clone(),
            statements: out,
            created_tables: created,
            created_by_name,
            unterminated_begin: open_begin,
        }
    }

    /// True when `name` was created by a statement before `stmt_index` in this file.
    pub fn created_before(&self, name: &QualifiedName, stmt_index: usize) -> bool {
        let Some(candidates) = self.created_by_name.get(&name.name.to_ascii_lowercase()) else { return false };
        candidates
            .iter()
            .filter_map(|&c| self.created_tables.get(c))
            .any(|(n, i)| *i < stmt_index && n.same_object(name))
    }

    /// Context of statement `i` (a default context when out of range).
    pub fn at(&self, i: usize) -> StatementContext {
        self.statements.get(i).cloned().unwrap_or_default()
    }
}

/// ALTER TABLE / DROP / TRUNCATE on a table that existed before this file.
fn takes_strong_lock(ops: &[Op], created: &[(QualifiedName, usize)], i: usize) -> bool {
    let pre_existing = |n: &QualifiedName| !created.iter().any(|(c, ci)| *ci < i && c.same_object(n));
    ops.iter().any(|op| match op {
        Op::AlterTable { name, .. } => pre_existing(name),
        Op::Truncate { tables, .. } => tables.iter().any(pre_existing),
        Op::RenameTable { from, .. } => pre_existing(from),
        _ => false,
    })
}
