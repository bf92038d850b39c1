//! What rules know about a file beyond a single statement: the target server, the transaction
//! state each statement runs in, the timeouts set so far, and the tables created earlier in the
//! same file (empty and invisible to other sessions, so lock rules must not fire on them).

use crate::catalog::{Catalog, Origin};
use crate::framework::{Direction, FileLayout, Framework, FrameworkSetting, TxMode};
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
    /// Options of individual rules (`[rules.<name>]` tables in `sluice.toml`).
    pub rule_options: crate::config::RuleOptions,
    /// The migration tool whose conventions decide file order, up/down sections and
    /// transaction mode.
    pub framework: FrameworkSetting,
}

/// Transaction and session state in force when a statement runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatementContext {
    /// The statement runs inside a transaction block (explicit `BEGIN`, or the tool's wrapper).
    pub in_transaction: bool,
    /// The transaction was opened explicitly in this file (not only assumed).
    pub explicit_transaction: bool,
    /// The migration tool wraps this statement's section in its own transaction.
    pub tool_transaction: bool,
    /// Whether the statement is in the up or the down (rollback) part of the migration.
    pub direction: Direction,
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
    /// The migration tool the file belongs to.
    pub framework: Framework,
    /// The schema before each statement (`catalogs[i]`), and after the last one.
    catalogs: Vec<Catalog>,
    /// The schema at the end of the whole migration history, when the file was linted as part of
    /// one (every later migration replayed too).
    history_end: Option<Catalog>,
    /// The tool pairs this up migration with a down file (`.down.sql`, `down.sql`) and the
    /// directory has none.
    pub missing_down: bool,
}

/// What a file is linted against: the schema the earlier migrations produced, the tool's
/// conventions and the file's sections.
#[derive(Clone, Debug, Default)]
pub struct History<'a> {
    /// The schema before this file; `None` for an empty schema.
    pub before: Option<&'a Catalog>,
    /// The schema after every migration of the history, this one included.
    pub end: Option<&'a Catalog>,
    pub framework: Framework,
    /// The file's up/down sections and transaction modes; `None` for one up section whose
    /// transaction mode comes from the settings.
    pub layout: Option<&'a FileLayout>,
    /// The file is not applied yet where the migration runs (true for the file being linted);
    /// objects it creates are new and empty.
    pub pending: bool,
    /// The tool pairs this up migration with a down file and the directory has none.
    pub missing_down: bool,
}

fn is_nonzero_timeout(value: &str) -> bool {
    let v = value.trim().trim_matches('\'').trim();
    !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("default") || v.starts_with("0m") || v.starts_with("0s"))
}

impl FileContext {
    /// Analyses a file on its own: an empty schema before it, one up section.
    pub fn analyze(file: &ParsedFile, settings: &Settings) -> FileContext {
        FileContext::analyze_in(file, settings, &History { pending: true, ..History::default() })
    }

    /// Analyses a file as one migration of a history.
    pub fn analyze_in(file: &ParsedFile, settings: &Settings, history: &History<'_>) -> FileContext {
        let mut out = Vec::with_capacity(file.statements.len());
        let mut created: Vec<(QualifiedName, usize)> = Vec::new();
        let mut catalog = history.before.cloned().unwrap_or_else(|| Catalog::new(settings.dialect));
        let mut catalogs = Vec::with_capacity(file.statements.len() + 1);
        let origin = Origin { file: None, pending: history.pending };
        let mut in_tx = settings.assume_in_transaction;
        let mut explicit = false;
        let mut open_begin = None;
        let mut state = StatementContext::default();
        let mut section: Option<usize> = None;
        for (i, stmt) in file.statements.iter().enumerate() {
            if let Some(layout) = history.layout {
                let at = layout.sections.partition_point(|s| s.span.start <= stmt.span.start).saturating_sub(1);
                if section != Some(at) {
                    section = Some(at);
                    let (direction, tx) =
                        layout.sections.get(at).map_or((Direction::Up, TxMode::Setting), |s| (s.direction, s.tx));
                    state.direction = direction;
                    state.tool_transaction = match tx {
                        TxMode::Transaction => true,
                        TxMode::NoTransaction => false,
                        TxMode::Setting => settings.assume_in_transaction,
                    };
                    in_tx = state.tool_transaction;
                    explicit = false;
                    state.holds_strong_lock_since = None;
                }
            } else if i == 0 {
                state.tool_transaction = settings.assume_in_transaction;
            }
            state.in_transaction = in_tx;
            state.explicit_transaction = explicit;
            if !in_tx {
                state.holds_strong_lock_since = None;
            }
            out.push(state.clone());
            catalogs.push(catalog.clone());
            // Function bodies run when the function is called, not now.
            for op in stmt.ops_run_now() {
                catalog.apply(op, &origin);
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
            if in_tx
                && state.holds_strong_lock_since.is_none()
                && takes_strong_lock(stmt.ops_run_now(), &created, i, catalogs.last())
            {
                state.holds_strong_lock_since = Some(i);
            }
        }
        catalogs.push(catalog);
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
            framework: history.framework,
            catalogs,
            history_end: history.end.cloned(),
            missing_down: history.missing_down,
        }
    }

    /// The schema just before statement `i` (after the last statement for `i` past the end).
    pub fn catalog_before(&self, i: usize) -> &Catalog {
        let last = self.catalogs.len().saturating_sub(1);
        // `catalogs` always holds at least the state after the file.
        &self.catalogs[i.min(last)]
    }

    /// The schema after this file.
    pub fn catalog_after(&self) -> &Catalog {
        self.catalog_before(usize::MAX)
    }

    /// The schema at the end of the migration history (this file's end state when the file was
    /// linted on its own).
    pub fn history_end(&self) -> &Catalog {
        self.history_end.as_ref().unwrap_or_else(|| self.catalog_after())
    }

    /// How to run this file's statements outside the tool's transaction, in the tool's terms.
    pub fn no_transaction_hint(&self) -> &'static str {
        match self.framework {
            Framework::Plain => "move it to a migration that runs without a transaction (assume_in_transaction is set)",
            Framework::Flyway => "move it to its own migration with `executeInTransaction=false` in its `.sql.conf`",
            Framework::GolangMigrate => {
                "move it to a migration file of its own: a file of several statements runs as one transaction"
            }
            Framework::Goose => "move it to a migration with `-- +goose NO TRANSACTION`",
            Framework::Sqlx => "move it to a migration whose first line is `-- no-transaction`",
            Framework::Diesel => "move it to a migration with `run_in_transaction = false` in its metadata.toml",
            Framework::Dbmate => "move it to a migration whose `-- migrate:up` line says `transaction:false`",
            Framework::Prisma => {
                "move it to a migration of its own: Prisma runs migration.sql as one multi-statement transaction"
            }
            Framework::Atlas => "move it to a migration file starting with `-- atlas:txmode none`",
        }
    }

    /// Why the statement runs in a transaction it did not open itself, in the tool's terms.
    pub fn tool_transaction_reason(&self) -> String {
        match self.framework {
            Framework::Plain => "the migration tool runs this file in a transaction (assume_in_transaction)".into(),
            f => format!("{} runs this migration in a transaction", tool_name(f)),
        }
    }

    /// True when `name` was created by a statement before `stmt_index` in this file.
    /// Also true when the table comes from a migration that is not applied yet (the change set
    /// being linted).
    pub fn created_before(&self, name: &QualifiedName, stmt_index: usize) -> bool {
        if self.catalog_before(stmt_index).table(name).is_some_and(|t| t.origin.pending) {
            return true;
        }
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

/// The tool's name as its documentation writes it.
fn tool_name(f: Framework) -> &'static str {
    match f {
        Framework::Plain => "the migration tool",
        Framework::Flyway => "Flyway",
        Framework::GolangMigrate => "golang-migrate",
        Framework::Goose => "goose",
        Framework::Sqlx => "sqlx",
        Framework::Diesel => "Diesel",
        Framework::Dbmate => "dbmate",
        Framework::Prisma => "Prisma",
        Framework::Atlas => "Atlas",
    }
}

/// ALTER TABLE / DROP / TRUNCATE on a table that existed before this file.
fn takes_strong_lock<'o>(
    ops: impl IntoIterator<Item = &'o Op>,
    created: &[(QualifiedName, usize)],
    i: usize,
    before: Option<&Catalog>,
) -> bool {
    let pre_existing = |n: &QualifiedName| {
        !created.iter().any(|(c, ci)| *ci < i && c.same_object(n))
            && !before.and_then(|c| c.table(n)).is_some_and(|t| t.origin.pending)
    };
    ops.into_iter().any(|op| match op {
        Op::AlterTable { name, .. } => pre_existing(name),
        Op::Truncate { tables, .. } => tables.iter().any(pre_existing),
        Op::RenameTable { from, .. } => pre_existing(from),
        _ => false,
    })
}
