//! What rules know about a file beyond a single statement: the target server, the transaction
//! state each statement runs in, the timeouts set so far, and the tables created earlier in the
//! same file (empty and invisible to other sessions, so lock rules must not fire on them).

use crate::catalog::{Catalog, Origin};
use crate::framework::{Direction, FileLayout, Framework, FrameworkSetting, TxMode};
use crate::ir::{Op, QualifiedName, TransactionOp};
use crate::parse::{ParsedFile, Statement};
use crate::version::{MySqlVersion, PgVersion};
use crate::Dialect;
use crate::Span;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    /// The file was analysed as not applied yet ([`History::pending`]).
    pending: bool,
    /// The layout's sections the analysis followed.
    sections: Vec<SectionKey>,
    /// The walk's state before each statement, and after the last one; empty for an analysis that
    /// records its objects ([`History::record_as`]), which is never reanalysed.
    heads: Vec<Head>,
    /// Answers of [`FileContext::created_before`] given so far.
    new_tables: NewTableMemo,
    /// Which statements kept the state of the analysis this one was derived from.
    derived: Option<Derivation>,
    /// The path the objects this file creates are recorded under ([`History::record_as`]).
    own_file: Option<Arc<str>>,
}

/// How [`FileContext::reanalyze`] derived an analysis from a previous one: statements before `k`
/// are the previous ones at the same place; when `adopted`, statements from `s_new` on are the
/// previous ones from `s_old` on, moved. Both kept the state they had. `previous` identifies the
/// previous file: its statement count, text length and text address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Derivation {
    k: usize,
    s_old: usize,
    s_new: usize,
    adopted: bool,
    previous: (usize, usize, usize),
}

/// What identifies the file an analysis was derived from while it is alive.
fn identity(file: &ParsedFile) -> (usize, usize, usize) {
    (file.statements.len(), file.text.len(), file.text.as_ptr() as usize)
}

/// Answers of [`FileContext::created_before`], by statement index then table name as written
/// (rules ask about the same table of the same statement many times; each answer needs catalog
/// lookups). Computed on first use; a clone starts empty; an analysis derived from another takes
/// the answers of the statements it kept unchanged.
#[derive(Default)]
struct NewTableMemo(Mutex<Vec<Option<Arc<[NewTableAnswer]>>>>);

/// Schema and name as written, and whether the table is new.
type NewTableAnswer = (Option<Box<str>>, Box<str>, bool);

impl NewTableMemo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Arc<[NewTableAnswer]>>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The answers of `previous` for statement `from(i)` as those of statement `i`, for `i` below
    /// `statements`.
    fn carried(previous: &NewTableMemo, statements: usize, from: impl Fn(usize) -> Option<usize>) -> NewTableMemo {
        let old = previous.lock();
        let memo = (0..statements).map(|i| from(i).and_then(|j| old.get(j).cloned().flatten())).collect();
        NewTableMemo(Mutex::new(memo))
    }

    fn get_or(&self, name: &QualifiedName, stmt_index: usize, compute: impl FnOnce() -> bool) -> bool {
        let same = |(schema, n, _): &&NewTableAnswer| schema.as_deref() == name.schema.as_deref() && **n == *name.name;
        if let Some((_, _, answer)) = self.lock().get(stmt_index).and_then(|e| e.as_deref()?.iter().find(same)) {
            return *answer;
        }
        let answer = compute();
        let mut memo = self.lock();
        if memo.len() <= stmt_index {
            memo.resize(stmt_index + 1, None);
        }
        if let Some(entries) = memo.get_mut(stmt_index) {
            let new = (name.schema.as_deref().map(Box::from), Box::from(name.name.as_str()), answer);
            *entries = Some(entries.as_deref().unwrap_or_default().iter().cloned().chain([new]).collect());
        }
        answer
    }
}

impl Clone for NewTableMemo {
    fn clone(&self) -> Self {
        NewTableMemo::default()
    }
}

impl std::fmt::Debug for NewTableMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewTableMemo")
    }
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
    /// How the objects this file creates are recorded in its schemas: as a replay of the history
    /// records them (the file's path and whether it is applied), so that the schema after the
    /// file can be the schema before the next one without replaying it. `None` records them as
    /// no file's, pending like the file. Either way [`FileContext::origin`] shows them as this
    /// file's.
    pub record_as: Option<Origin>,
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
        let mut walk = Walk::new(settings, history);
        for (i, stmt) in file.statements.iter().enumerate() {
            walk.step(i, stmt);
        }
        walk.finish(history)
    }

    /// Analyses `file` exactly as [`analyze_in`](Self::analyze_in) does, reusing `previous`: the
    /// analysis of `previous_file`, an earlier version of the same file analysed with the same
    /// settings and the same history (the schema before the file may differ only in the file's
    /// own layout, which is compared here). Statements before the first edited one keep their
    /// state; the edited ones are analysed again; when the state after them equals the state the
    /// previous analysis had at the same (unedited) statement, the rest is reused too.
    pub fn reanalyze(
        file: &ParsedFile,
        settings: &Settings,
        history: &History<'_>,
        previous: &FileContext,
        previous_file: &ParsedFile,
    ) -> FileContext {
        Self::reanalyze_counted(file, settings, history, previous, previous_file).0
    }

    /// [`reanalyze`](Self::reanalyze), with the number of statements analysed again.
    fn reanalyze_counted(
        file: &ParsedFile,
        settings: &Settings,
        history: &History<'_>,
        previous: &FileContext,
        previous_file: &ParsedFile,
    ) -> (FileContext, usize) {
        let compatible = previous.settings == *settings
            && previous.framework == history.framework
            && previous.pending == history.pending
            && previous.own_file.is_none()
            && history.record_as.is_none()
            && previous.missing_down == history.missing_down
            && previous_file.dialect == file.dialect
            && previous.heads.len() == previous_file.statements.len() + 1
            && previous.catalogs.len() == previous.heads.len();
        if !compatible {
            return (FileContext::analyze_in(file, settings, history), file.statements.len());
        }
        let (old, new) = (&previous_file.statements, &file.statements);
        let sections = section_keys(history.layout);
        // Same text, and lowered the same way: what a statement lowers to can depend on others
        // (a MySQL `SET @s = '...'` holds statements only when a `PREPARE` runs `@s`).
        let same = |a: &Statement, b: &Statement| {
            let bodies = |s: &Statement| {
                s.embedded
                    .iter()
                    .map(|e| (e.span.start.wrapping_sub(s.span.start), e.span.len(), e.ops.len(), e.function.clone()))
                    .collect::<Vec<_>>()
            };
            extent(a).slice(&previous_file.text) == extent(b).slice(&file.text)
                && a.ops.len() == b.ops.len()
                && std::mem::discriminant(&a.status) == std::mem::discriminant(&b.status)
                && bodies(a) == bodies(b)
        };
        // Statements before the edit: same text at the same place, in the same section.
        let mut k = old.iter().zip(new).take_while(|(a, b)| a.span == b.span && same(a, b)).count();
        if let Some(last) = k.checked_sub(1).and_then(|i| new.get(i)) {
            let upto = |s: &[SectionKey]| s.iter().filter(|x| x.0 <= last.span.start).copied().collect::<Vec<_>>();
            if upto(&previous.sections) != upto(&sections) {
                k = 0;
            }
        }
        // Statements after the edit: same text, moved by the same number of bytes.
        let shift = |a: &Statement, b: &Statement| b.span.start as i128 - a.span.start as i128;
        let bytes = file.text.len() as i128 - previous_file.text.len() as i128;
        let room = old.len().min(new.len()) - k;
        let m = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(room)
            .take_while(|(a, b)| shift(a, b) == bytes && same(a, b))
            .count();
        let (s_old, s_new) = (old.len() - m, new.len() - m);

        let mut walk = Walk::resume(settings, history, previous, k);
        for (i, stmt) in new.iter().enumerate().take(s_new).skip(k) {
            walk.step(i, stmt);
        }
        let old_base = old.get(s_old).map_or(previous_file.text.len(), |s| s.span.start);
        let new_base = new.get(s_new).map_or(file.text.len(), |s| s.span.start);
        let map = IndexMap { k, s_old, s_new };
        let mut walked = s_new.saturating_sub(k);
        let adopted = walk.adopt(previous, &map, (old_base, new_base), &sections);
        if !adopted {
            for (i, stmt) in new.iter().enumerate().skip(s_new) {
                walk.step(i, stmt);
            }
            walked = new.len() - k;
        }
        let mut fcx = walk.finish(history);
        fcx.derived = Some(Derivation { k, s_old, s_new, adopted, previous: identity(previous_file) });
        // The answers about an unchanged statement depend only on its state.
        fcx.new_tables =
            NewTableMemo::carried(&previous.new_tables, new.len(), |i| fcx.unchanged_from(previous_file, i));
        (fcx, walked)
    }

    /// For statement `i` of this analysis, made by [`reanalyze`](Self::reanalyze) from the analysis
    /// of `previous_file`, the index of the statement of `previous_file` it is unchanged from: the
    /// same text (moved at most), analysed in the same state (the same schema before it, the same
    /// transaction and session state, section and tables created earlier). `None` for a statement
    /// analysed again, for an analysis not derived from `previous_file`'s, and past the end.
    pub fn unchanged_from(&self, previous_file: &ParsedFile, i: usize) -> Option<usize> {
        let d = self.derived?;
        if d.previous != identity(previous_file) || i >= self.statements.len() {
            return None;
        }
        if i < d.k {
            Some(i)
        } else if d.adopted && i >= d.s_new {
            Some(i - d.s_new + d.s_old)
        } else {
            None
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

    /// Where an object of [`catalog_before`](Self::catalog_before) or
    /// [`catalog_after`](Self::catalog_after) comes from, as rules see it: an object this file
    /// creates comes from no other file and is as pending as the file, however it is recorded
    /// ([`History::record_as`]).
    pub fn origin<'o>(&self, origin: &'o Origin) -> std::borrow::Cow<'o, Origin> {
        if is_own(self.own_file.as_ref(), origin) {
            std::borrow::Cow::Owned(Origin { file: None, pending: self.pending })
        } else {
            std::borrow::Cow::Borrowed(origin)
        }
    }

    /// Sets the schema at the end of the history, for an analysis made before the rest of the
    /// history was (the analysis that computed the schema after this file for the next one).
    pub fn set_history_end(&mut self, end: &Catalog) {
        self.history_end = Some(end.clone());
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
        // Indices past the end all see the schema after the file: one memo entry for them.
        let at = stmt_index.min(self.statements.len());
        self.new_tables.get_or(name, at, || self.compute_created_before(name, stmt_index))
    }

    fn compute_created_before(&self, name: &QualifiedName, stmt_index: usize) -> bool {
        if self.catalog_before(stmt_index).table(name).is_some_and(|t| self.origin(&t.origin).pending) {
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

/// A section of the file's layout as the analysis uses it: start, direction, transaction mode.
type SectionKey = (usize, Direction, TxMode);

fn section_keys(layout: Option<&FileLayout>) -> Vec<SectionKey> {
    layout.map(|l| l.sections.iter().map(|s| (s.span.start, s.direction, s.tx)).collect()).unwrap_or_default()
}

/// The statement with its terminator.
fn extent(s: &Statement) -> Span {
    Span::new(s.span.start, s.terminator.map_or(s.span.end, |t| t.end.max(s.span.end)))
}

/// What the walk over a file carries from one statement to the next, besides the catalog and the
/// tables created so far (`created` is their count).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Head {
    in_tx: bool,
    explicit: bool,
    open_begin: Option<usize>,
    state: StatementContext,
    section: Option<usize>,
    created: usize,
}

/// Statement indices of a previous version mapped to the current one: statements before `k`
/// keep their index, statements from `s_old` on moved to `s_new`; the edited ones in between
/// keep their index only when their count did not change.
struct IndexMap {
    k: usize,
    s_old: usize,
    s_new: usize,
}

impl IndexMap {
    fn map(&self, i: usize) -> Option<usize> {
        if i < self.k || (i < self.s_old && self.s_old == self.s_new) {
            Some(i)
        } else if i >= self.s_old {
            (i - self.s_old).checked_add(self.s_new)
        } else {
            None
        }
    }

    fn map_opt(&self, i: Option<usize>) -> Option<Option<usize>> {
        match i {
            None => Some(None),
            Some(i) => self.map(i).map(Some),
        }
    }

    fn map_head(&self, h: &Head, created: usize) -> Option<Head> {
        let mut state = h.state.clone();
        state.holds_strong_lock_since = self.map_opt(h.state.holds_strong_lock_since)?;
        Some(Head { open_begin: self.map_opt(h.open_begin)?, state, created, ..h.clone() })
    }
}

/// The analysis of a file, one statement at a time.
struct Walk<'a> {
    settings: &'a Settings,
    layout: Option<&'a FileLayout>,
    origin: Origin,
    /// Whether the file is pending, for the objects it creates.
    pending: bool,
    head: Head,
    catalog: Catalog,
    created: Vec<(QualifiedName, usize)>,
    out: Vec<StatementContext>,
    catalogs: Vec<Catalog>,
    heads: Vec<Head>,
}

impl<'a> Walk<'a> {
    fn new(settings: &'a Settings, history: &History<'a>) -> Self {
        Walk {
            settings,
            layout: history.layout,
            origin: walk_origin(history),
            pending: history.pending,
            head: Head { in_tx: settings.assume_in_transaction, ..Head::default() },
            catalog: history.before.cloned().unwrap_or_else(|| Catalog::new(settings.dialect)),
            created: Vec::new(),
            out: Vec::new(),
            catalogs: Vec::new(),
            heads: Vec::new(),
        }
    }

    /// A walk that continues `previous` before its statement `k` (whose earlier statements are
    /// unchanged).
    fn resume(settings: &'a Settings, history: &History<'a>, previous: &FileContext, k: usize) -> Self {
        let (Some(head), Some(catalog)) = (previous.heads.get(k), previous.catalogs.get(k)) else {
            return Walk::new(settings, history);
        };
        Walk {
            settings,
            layout: history.layout,
            origin: walk_origin(history),
            pending: history.pending,
            head: head.clone(),
            catalog: catalog.clone(),
            created: previous.created_tables.iter().take(head.created).cloned().collect(),
            out: previous.statements.iter().take(k).cloned().collect(),
            catalogs: previous.catalogs.iter().take(k).cloned().collect(),
            heads: previous.heads.iter().take(k).cloned().collect(),
        }
    }

    /// Whether the walk keeps its state per statement (for a later [`FileContext::reanalyze`]).
    fn keeps_heads(&self) -> bool {
        self.origin.file.is_none()
    }

    fn step(&mut self, i: usize, stmt: &Statement) {
        if self.keeps_heads() {
            self.heads.push(self.head.clone());
        }
        let settings = self.settings;
        let h = &mut self.head;
        if let Some(layout) = self.layout {
            let at = layout.sections.partition_point(|s| s.span.start <= stmt.span.start).saturating_sub(1);
            if h.section != Some(at) {
                h.section = Some(at);
                let (direction, tx) =
                    layout.sections.get(at).map_or((Direction::Up, TxMode::Setting), |s| (s.direction, s.tx));
                h.state.direction = direction;
                h.state.tool_transaction = match tx {
                    TxMode::Transaction => true,
                    TxMode::NoTransaction => false,
                    TxMode::Setting => settings.assume_in_transaction,
                };
                h.in_tx = h.state.tool_transaction;
                h.explicit = false;
                h.state.holds_strong_lock_since = None;
            }
        } else if i == 0 {
            h.state.tool_transaction = settings.assume_in_transaction;
        }
        h.state.in_transaction = h.in_tx;
        h.state.explicit_transaction = h.explicit;
        if !h.in_tx {
            h.state.holds_strong_lock_since = None;
        }
        self.out.push(h.state.clone());
        let before = self.catalog.clone();
        // Function bodies run when the function is called, not now.
        for op in stmt.ops_run_now() {
            self.catalog.apply(op, &self.origin);
            match op {
                Op::Transaction(TransactionOp::Begin) => {
                    h.in_tx = true;
                    h.explicit = true;
                    h.open_begin = Some(i);
                }
                Op::Transaction(TransactionOp::Commit | TransactionOp::Rollback) => {
                    h.in_tx = false;
                    h.explicit = false;
                    h.open_begin = None;
                }
                Op::Set { name, value, .. } => {
                    let name = name.to_ascii_lowercase();
                    let name = name.rsplit('.').next().unwrap_or(&name);
                    match name {
                        "lock_timeout" => h.state.lock_timeout_set = is_nonzero_timeout(value),
                        "statement_timeout" => h.state.statement_timeout_set = is_nonzero_timeout(value),
                        "lock_wait_timeout" => h.state.lock_wait_timeout_set = true,
                        "foreign_key_checks" => {
                            let v = value.trim().to_ascii_lowercase();
                            h.state.foreign_key_checks_off = v == "0" || v == "off" || v == "false";
                        }
                        _ => {}
                    }
                }
                Op::CreateTable { name, .. } => self.created.push((name.clone(), i)),
                Op::RenameTable { from, to } if self.created.iter().any(|(n, _)| n.same_object(from)) => {
                    self.created.push((to.clone(), i));
                }
                _ => {}
            }
            // MySQL commits implicitly around every DDL statement.
            if settings.dialect == Dialect::MySql && op.is_ddl() {
                h.in_tx = false;
                h.explicit = false;
                h.open_begin = None;
            }
        }
        if h.in_tx
            && h.state.holds_strong_lock_since.is_none()
            && takes_strong_lock(stmt.ops_run_now(), &self.created, i, Some(&before), |o| {
                if is_own(self.origin.file.as_ref(), o) {
                    self.pending
                } else {
                    o.pending
                }
            })
        {
            h.state.holds_strong_lock_since = Some(i);
        }
        h.created = self.created.len();
        self.catalogs.push(before);
    }

    /// Takes the rest of `previous` (from its statement `map.s_old`, this walk's `map.s_new`)
    /// when the walk has reached the same state there: same catalog, same transaction and
    /// session state, same tables created, same sections ahead. `bases` are the byte offsets
    /// of that statement in the previous and the current text. False (nothing taken) otherwise.
    fn adopt(
        &mut self,
        previous: &FileContext,
        map: &IndexMap,
        bases: (usize, usize),
        sections: &[SectionKey],
    ) -> bool {
        let (old_base, new_base) = bases;
        let Some(old_head) = previous.heads.get(map.s_old) else { return false };
        let Some(old_catalog) = previous.catalogs.get(map.s_old) else { return false };
        // Sections: the same ones, those from the statement on moved with it.
        let moved = |s: &SectionKey| if s.0 >= old_base { (s.0 - old_base + new_base, s.1, s.2) } else { *s };
        let same_sections = previous.sections.len() == sections.len()
            && previous.sections.iter().zip(sections).all(|(a, b)| {
                let a = moved(a);
                a.1 == b.1 && a.2 == b.2 && (a.0 >= new_base) == (b.0 >= new_base) && (a.0 < new_base || a.0 == b.0)
            });
        if !same_sections || map.map_head(old_head, self.created.len()).as_ref() != Some(&self.head) {
            return false;
        }
        let (Some(old_created), Some(rest)) =
            (previous.created_tables.get(..old_head.created), previous.created_tables.get(old_head.created..))
        else {
            return false;
        };
        let same_created = old_created.len() == self.created.len()
            && old_created
                .iter()
                .zip(&self.created)
                .all(|((a, ai), (b, bi))| a.schema == b.schema && a.name == b.name && map.map(*ai) == Some(*bi));
        if !same_created || *old_catalog != self.catalog {
            return false;
        }
        // Everything after the statement is the previous analysis, renumbered and moved.
        let mut heads = Vec::with_capacity(previous.heads.len() - map.s_old);
        let mut out = Vec::with_capacity(heads.capacity());
        for (h, c) in previous
            .heads
            .iter()
            .skip(map.s_old)
            .zip(previous.statements.iter().skip(map.s_old).map(Some).chain([None]))
        {
            let created = h.created - old_head.created + self.created.len();
            let Some(h) = map.map_head(h, created) else { return false };
            if let Some(c) = c {
                let mut c = c.clone();
                let Some(held) = map.map_opt(c.holds_strong_lock_since) else { return false };
                c.holds_strong_lock_since = held;
                out.push(c);
            }
            heads.push(h);
        }
        let mut created = Vec::with_capacity(rest.len());
        for (n, i) in rest {
            let Some(i) = map.map(*i) else { return false };
            let span = Span::new(n.span.start - old_base + new_base, n.span.end - old_base + new_base);
            created.push((QualifiedName { span, ..n.clone() }, i));
        }
        let Some(last) = heads.pop() else { return false };
        self.head = last;
        self.heads.extend(heads);
        self.out.extend(out);
        self.created.extend(created);
        self.catalogs
            .extend(previous.catalogs.iter().skip(map.s_old).take(previous.statements.len() - map.s_old).cloned());
        self.catalog = previous.catalog_after().clone();
        true
    }

    fn finish(mut self, history: &History<'_>) -> FileContext {
        if self.keeps_heads() {
            self.heads.push(self.head.clone());
        }
        self.catalogs.push(self.catalog);
        let mut created_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (name, _)) in self.created.iter().enumerate() {
            created_by_name.entry(name.name.to_ascii_lowercase()).or_default().push(i);
        }
        FileContext {
            settings: self.settings.clone(),
            statements: self.out,
            created_tables: self.created,
            created_by_name,
            unterminated_begin: self.head.open_begin,
            framework: history.framework,
            catalogs: self.catalogs,
            history_end: history.end.cloned(),
            missing_down: history.missing_down,
            pending: history.pending,
            sections: section_keys(history.layout),
            heads: self.heads,
            new_tables: NewTableMemo::default(),
            derived: None,
            own_file: self.origin.file,
        }
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

/// The origin the walk records the objects of the file under.
fn walk_origin(history: &History<'_>) -> Origin {
    history.record_as.clone().unwrap_or(Origin { file: None, pending: history.pending })
}

/// `origin` is that of an object created by the file whose objects are recorded under `own`.
fn is_own(own: Option<&Arc<str>>, origin: &Origin) -> bool {
    matches!((own, &origin.file), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
}

/// ALTER TABLE / DROP / TRUNCATE on a table that existed before this file. `pending` tells
/// whether an origin is that of a migration not applied yet.
fn takes_strong_lock<'o>(
    ops: impl IntoIterator<Item = &'o Op>,
    created: &[(QualifiedName, usize)],
    i: usize,
    before: Option<&Catalog>,
    pending: impl Fn(&Origin) -> bool,
) -> bool {
    let pre_existing = |n: &QualifiedName| {
        !created.iter().any(|(c, ci)| *ci < i && c.same_object(n))
            && !before.and_then(|c| c.table(n)).is_some_and(|t| pending(&t.origin))
    };
    ops.into_iter().any(|op| match op {
        Op::AlterTable { name, .. } => pre_existing(name),
        Op::Truncate { tables, .. } => tables.iter().any(pre_existing),
        Op::RenameTable { from, .. } => pre_existing(from),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::framework::{layout_for, FileRole, MigrationEntry};
    use crate::parse_file;

    const POOL: &[&str] = &[
        "CREATE TABLE a (id int PRIMARY KEY, v text);",
        "CREATE TABLE b (id int, a_id int);",
        "ALTER TABLE a ADD COLUMN note text;",
        "ALTER TABLE users ADD COLUMN age int;",
        "ALTER TABLE b RENAME TO c;",
        "CREATE INDEX b_a ON b (a_id);",
        "DROP TABLE a;",
        "BEGIN;",
        "COMMIT;",
        "SET lock_timeout = '2s';",
        "SET statement_timeout = 0;",
        "UPDATE users SET v = 1;",
        "TRUNCATE users;",
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
        "-- a comment\nSELECT 1;",
        "CREATE TABLE IF NOT EXISTS users (id int);",
        "ALTER TABLE a ADD CONSTRAINT a_v CHECK (v IS NOT NULL) NOT VALID;",
        "-- +goose Down",
        "-- +goose Up",
        "-- +goose NO TRANSACTION",
        "ALTER TABLE",
    ];

    /// A small deterministic generator (no dependency needed for a test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n.max(1)
        }
    }

    fn assert_same(a: &FileContext, b: &FileContext, text: &str) {
        assert_eq!(a.statements, b.statements, "{text}");
        assert_eq!(a.created_tables, b.created_tables, "{text}");
        assert_eq!(a.unterminated_begin, b.unterminated_begin, "{text}");
        assert_eq!(a.heads, b.heads, "{text}");
        assert_eq!(a.sections, b.sections, "{text}");
        assert_eq!(a.catalogs.len(), b.catalogs.len(), "{text}");
        for (i, (x, y)) in a.catalogs.iter().zip(&b.catalogs).enumerate() {
            assert!(x == y, "catalog before statement {i} differs:\n{text}");
        }
    }

    /// Every statement `unchanged_from` maps to a previous one has the same text and state.
    fn assert_unchanged_is_the_same(
        fcx: &FileContext,
        file: &ParsedFile,
        previous: &FileContext,
        previous_file: &ParsedFile,
        text: &str,
    ) {
        for (i, stmt) in file.statements.iter().enumerate() {
            let Some(j) = fcx.unchanged_from(previous_file, i) else { continue };
            let old = &previous_file.statements[j];
            assert_eq!(extent(stmt).slice(&file.text), extent(old).slice(&previous_file.text), "{i} <- {j}:\n{text}");
            assert!(fcx.catalog_before(i) == previous.catalog_before(j), "{i} <- {j}:\n{text}");
            let (mut a, b) = (fcx.statements[i].clone(), &previous.statements[j]);
            // The statement holding a lock may have moved with the edit; whether one is held may not.
            assert_eq!(a.holds_strong_lock_since.is_some(), b.holds_strong_lock_since.is_some(), "{text}");
            a.holds_strong_lock_since = b.holds_strong_lock_since;
            assert_eq!(&a, b, "{i} <- {j}:\n{text}");
            assert_eq!(fcx.heads[i].section.is_some(), previous.heads[j].section.is_some(), "{text}");
            let created = |f: &FileContext, k: usize| {
                f.created_tables.iter().filter(|(_, c)| *c < k).map(|(n, _)| n.display()).collect::<Vec<_>>()
            };
            assert_eq!(created(fcx, i), created(previous, j), "{i} <- {j}:\n{text}");
        }
        assert_eq!(fcx.unchanged_from(file, 0), None, "derived from another file");
    }

    fn random_edits(goose: bool, seed: u64) {
        let settings = Settings { assume_in_transaction: goose, ..Settings::default() };
        let mut before = Catalog::new(Dialect::Postgres);
        for op in parse_file("CREATE TABLE users (id int, v int);", Dialect::Postgres).statements[0].ops.iter() {
            before.apply(op, &Origin::default());
        }
        let entry = MigrationEntry {
            path: "1_x.sql".into(),
            version: "1".into(),
            description: "x".into(),
            role: FileRole::Versioned,
            framework: Framework::Goose,
        };
        let mut rng = Lcg(seed);
        let mut lines: Vec<String> = (0..30).map(|_| POOL[rng.next(POOL.len())].to_string()).collect();
        if goose {
            lines.insert(0, "-- +goose Up".into());
        }
        let analyse = |lines: &[String], previous: Option<(&FileContext, &ParsedFile)>| {
            let text = lines.join("\n");
            let file = parse_file(&text, Dialect::Postgres);
            let layout = goose.then(|| layout_for(Framework::Goose, &entry, &text, None, Dialect::Postgres));
            let history = History {
                before: Some(&before),
                end: None,
                framework: if goose { Framework::Goose } else { Framework::Plain },
                layout: layout.as_ref(),
                pending: true,
                missing_down: false,
                record_as: None,
            };
            let full = FileContext::analyze_in(&file, &settings, &history);
            let fcx = match previous {
                Some((p, pf)) => {
                    // Answers the previous analysis gave are carried to unchanged statements.
                    let names: Vec<QualifiedName> = ["users", "a", "B", "c"]
                        .iter()
                        .map(|n| QualifiedName { schema: None, name: n.to_string(), span: Span::new(0, 0) })
                        .collect();
                    for i in (0..=pf.statements.len()).step_by(2) {
                        for n in &names {
                            let _ = p.created_before(n, i);
                        }
                    }
                    let again = FileContext::reanalyze(&file, &settings, &history, p, pf);
                    assert_same(&again, &full, &text);
                    assert_unchanged_is_the_same(&again, &file, p, pf, &text);
                    for i in 0..=file.statements.len() {
                        for n in &names {
                            assert_eq!(
                                again.created_before(n, i),
                                full.compute_created_before(n, i),
                                "{n:?} {i}:\n{text}"
                            );
                        }
                    }
                    again
                }
                None => full,
            };
            (fcx, file)
        };
        let (mut fcx, mut file) = analyse(&lines, None);
        for _ in 0..300 {
            let at = rng.next(lines.len() + 1);
            match rng.next(6) {
                0 => lines.insert(at, POOL[rng.next(POOL.len())].to_string()),
                1 if at < lines.len() => {
                    lines.remove(at);
                }
                2 if at < lines.len() => lines[at] = POOL[rng.next(POOL.len())].to_string(),
                3 if at < lines.len() && !lines[at].is_empty() => {
                    // Change one character: case, a letter, a deletion.
                    let line = &mut lines[at];
                    let pos = rng.next(line.len());
                    if line.is_char_boundary(pos) && line.is_char_boundary(pos + 1) {
                        match rng.next(3) {
                            0 => line.replace_range(pos..pos + 1, &line[pos..pos + 1].to_ascii_lowercase()),
                            1 => line.insert(pos, 'x'),
                            _ => {
                                line.remove(pos);
                            }
                        }
                    }
                }
                4 if at < lines.len() => lines[at] = lines[at].to_ascii_uppercase(),
                _ => lines.insert(at, format!("ALTER TABLE users ADD COLUMN c{at} int;")),
            }
            let (next, next_file) = analyse(&lines, Some((&fcx, &file)));
            fcx = next;
            file = next_file;
        }
    }

    #[test]
    fn reanalysis_after_random_edits_equals_a_full_analysis() {
        for seed in 1..=8 {
            random_edits(false, seed);
        }
    }

    #[test]
    fn reanalysis_follows_goose_sections_like_a_full_analysis() {
        for seed in 11..=16 {
            random_edits(true, seed);
        }
    }

    #[test]
    fn remembered_new_table_answers_match_computed_ones() {
        let text = "ALTER TABLE t ADD COLUMN a int;\nCREATE TABLE t (id int);\nCREATE TABLE s.u (id int);\n\
                    ALTER TABLE T ADD COLUMN b int;\nDROP TABLE t;\nALTER TABLE u ADD COLUMN c int;\n";
        let file = parse_file(text, Dialect::Postgres);
        let fcx = FileContext::analyze(&file, &Settings::default());
        let q = |schema: Option<&str>, name: &str| QualifiedName {
            schema: schema.map(str::to_string),
            name: name.into(),
            span: Span::new(0, 0),
        };
        let names = [q(None, "t"), q(None, "T"), q(Some("s"), "u"), q(None, "u"), q(Some("x"), "u"), q(None, "v")];
        let mut seen = Vec::new();
        // Twice, in two orders: the second pass answers from the memo.
        for pass in 0..2 {
            for i in 0..=file.statements.len() + 1 {
                for n in &names {
                    let i = if pass == 0 { i } else { file.statements.len() + 1 - i };
                    let computed = fcx.compute_created_before(n, i);
                    assert_eq!(fcx.created_before(n, i), computed, "{n:?} before {i}, pass {pass}");
                    seen.push(computed);
                }
            }
        }
        assert!(seen.contains(&true) && seen.contains(&false));
        assert!(!fcx.created_before(&q(None, "t"), 1) && fcx.created_before(&q(None, "T"), 2));
    }

    #[test]
    fn a_mysql_set_whose_prepare_changes_is_analysed_again() {
        let settings = Settings { dialect: Dialect::MySql, ..Settings::default() };
        let history = History { pending: true, ..History::default() };
        let text = "SET @a = 'CREATE TABLE a (id int)', @b = 'CREATE TABLE b (id int)';\nPREPARE p FROM @a;\n\
                    ALTER TABLE b ADD COLUMN x int;\n";
        let edited = text.replace("FROM @a", "FROM @b");
        let (file, new_file) = (parse_file(text, Dialect::MySql), parse_file(&edited, Dialect::MySql));
        let fcx = FileContext::analyze_in(&file, &settings, &history);
        let again = FileContext::reanalyze(&new_file, &settings, &history, &fcx, &file);
        assert_same(&again, &FileContext::analyze_in(&new_file, &settings, &history), &edited);
        assert_eq!(again.unchanged_from(&file, 0), None, "the SET now holds another statement");
    }

    #[test]
    fn an_edit_that_changes_the_schema_analyses_the_rest_again() {
        let settings = Settings::default();
        let text: String = (0..20).map(|i| format!("ALTER TABLE t ADD COLUMN c{i} int;\n")).collect();
        let file = parse_file(&text, Dialect::Postgres);
        let history = History { pending: true, ..History::default() };
        let fcx = FileContext::analyze_in(&file, &settings, &history);
        let edited = text.replacen("c5 int", "c5x int", 1);
        let new_file = parse_file(&edited, Dialect::Postgres);
        let (again, walked) = FileContext::reanalyze_counted(&new_file, &settings, &history, &fcx, &file);
        assert_same(&again, &FileContext::analyze_in(&new_file, &settings, &history), &edited);
        assert_eq!(walked, 15);
        let unchanged: Vec<_> = (0..20).map(|i| again.unchanged_from(&file, i)).collect();
        assert_eq!(unchanged, (0..20).map(|i| (i < 5).then_some(i)).collect::<Vec<_>>());
    }

    #[test]
    fn an_edit_that_leaves_the_schema_alone_reuses_the_rest() {
        let settings = Settings::default();
        let text: String =
            (0..50).map(|i| format!("ALTER TABLE t{i} ADD COLUMN c int;\nUPDATE t SET v = {i};\n")).collect();
        let file = parse_file(&text, Dialect::Postgres);
        let history = History { pending: true, ..History::default() };
        let fcx = FileContext::analyze_in(&file, &settings, &history);
        // Same-length and longer edits of an UPDATE in the middle.
        for edited in [text.replacen("v = 7;", "v = 8;", 1), text.replacen("v = 7;", "v = 700;", 1)] {
            let new_file = parse_file(&edited, Dialect::Postgres);
            let (again, walked) = FileContext::reanalyze_counted(&new_file, &settings, &history, &fcx, &file);
            assert_same(&again, &FileContext::analyze_in(&new_file, &settings, &history), &edited);
            assert_eq!(walked, 1, "only the edited statement is analysed again");
            let unchanged: Vec<_> = (0..100).map(|i| again.unchanged_from(&file, i)).collect();
            assert_eq!(unchanged, (0..100).map(|i| (i != 15).then_some(i)).collect::<Vec<_>>());
        }
    }
}
