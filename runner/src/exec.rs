//! Applying migration parts statement by statement and measuring each statement: the locks it
//! takes, the relations it rewrites, its duration and how long its strong locks stay held.
//!
//! A part runs in one transaction when its tool runs it so and every statement can; otherwise
//! each statement runs on its own (wrapped in its own transaction when it can be, so its locks
//! can be read before they are released). Statements that cannot run in a transaction block
//! (`CONCURRENTLY`, `VACUUM`, ...) run bare while a second connection polls `pg_locks` for the
//! migration's backend.

use crate::catalog::{self, HeldLock, LockObject, Rel};
use crate::error::{db_message, sqlstate, Error, Result};
use crate::plan::Part;
use crate::report::{LockReport, MigrationReport, RewriteReport, StatementReport};
use sluice_core::ir::{Op, TransactionOp};
use sluice_core::pg_locks::{self, LockMode};
use sluice_core::{parse_file, ColumnUnit, Dialect, LineIndex, PgVersion, StatementStatus};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// SQLSTATE of `lock_timeout` expiring.
pub const LOCK_NOT_AVAILABLE: &str = "55P03";

/// A statement the server rejected.
#[derive(Clone, Debug)]
pub struct Failure {
    pub location: String,
    pub message: String,
    pub lock_timeout: bool,
}

/// When a statement ran, relative to the start of the run, for attributing workload waits.
#[derive(Clone, Debug)]
pub struct Window {
    pub start_ms: f64,
    pub end_ms: f64,
    /// `path:line`, or a check's label.
    pub label: String,
}

/// Strong locks are those that block writes (and ACCESS EXCLUSIVE also reads).
pub fn is_strong(m: LockMode) -> bool {
    m >= LockMode::Share
}

/// One statement to run.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub sql: String,
    pub line: usize,
    pub tx: Option<TransactionOp>,
    /// Can run inside a transaction block (per the lock model; unknown statements can).
    pub transactional: bool,
    pub effect: Option<pg_locks::Effect>,
}

/// Splits a part into statements (psql meta-commands are skipped).
pub fn statements(part: &Part, version: PgVersion) -> Vec<Stmt> {
    let parsed = parse_file(&part.text, Dialect::Postgres);
    let lines = LineIndex::new(&part.text);
    parsed
        .statements
        .iter()
        .filter(|s| part.range.contains(&s.span.start))
        .filter(|s| !matches!(s.status, StatementStatus::MetaCommand | StatementStatus::Delimiter))
        .map(|s| {
            let effect = pg_locks::combine(s.ops.iter().filter_map(|op| pg_locks::effect(op, version)));
            let tx = s.ops.iter().find_map(|op| match op {
                Op::Transaction(t) => Some(*t),
                _ => None,
            });
            Stmt {
                sql: s.text(&part.text).to_string(),
                line: lines.line_col(&part.text, s.span.start, ColumnUnit::Char).line + 1,
                tx,
                transactional: effect.as_ref().is_none_or(|e| e.transactional),
                effect,
            }
        })
        .collect()
}

/// The first line of a statement, at most 80 characters.
pub fn short_sql(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or_default().trim_end();
    let more = sql.lines().nth(1).is_some();
    if first.chars().count() > 77 || more {
        let cut: String = first.chars().take(77).collect();
        format!("{cut}...")
    } else {
        first.to_string()
    }
}

/// Applies parts on one connection and measures them.
pub struct Tracer<'a> {
    pub client: &'a Client,
    pub monitor: &'a Client,
    pub pid: i32,
    pub version: PgVersion,
    /// Relations and types that existed before the run.
    pub pre_relations: BTreeSet<u32>,
    /// Types that existed before the run, with their names then.
    pub pre_types: BTreeMap<u32, String>,
    pub t0: Instant,
    pub windows: Vec<Window>,
    /// Called with `path:line` before each statement.
    pub on_statement: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

/// The locks the open transaction holds, and the reported ones waiting for its end.
#[derive(Default)]
struct TxLocks {
    modes: HashMap<LockObject, LockMode>,
    /// (taken at, statement index, lock index) of each reported lock.
    pending: Vec<(Instant, usize, usize)>,
}

/// The result of applying one part.
pub struct Applied {
    pub report: MigrationReport,
    pub failure: Option<Failure>,
}

impl Tracer<'_> {
    fn ms(&self, t: Instant) -> f64 {
        t.duration_since(self.t0).as_secs_f64() * 1000.0
    }

    /// Applies `part`; `label` names the windows when this is a check rather than the traced apply.
    pub async fn apply(&mut self, part: &Part, label: Option<&str>) -> Result<Applied> {
        let stmts = statements(part, self.version);
        let explicit = stmts.iter().any(|s| s.tx.is_some());
        let blocked = stmts.iter().any(|s| !s.transactional);
        let whole = part.in_transaction && !explicit && !blocked;
        let started = Instant::now();
        let mut report = MigrationReport {
            path: part.path.clone(),
            mode: if whole { "transaction" } else { "per-statement" }.to_string(),
            duration_ms: 0.0,
            statements: Vec::new(),
        };
        let mut held = TxLocks::default();
        let mut in_tx = false;
        let mut failure = None;
        if whole {
            self.exec("BEGIN").await?;
            in_tx = true;
        }
        for s in &stmts {
            let location = format!("{}:{}", part.path, s.line);
            if let Some(cb) = self.on_statement {
                cb(&location);
            }
            let wrap = !in_tx && s.tx.is_none() && s.transactional;
            if wrap {
                self.exec("BEGIN").await?;
                in_tx = true;
            }
            let win_label = label.map(str::to_string).unwrap_or_else(|| location.clone());
            let wal0 = crate::wal::pg_position(self.monitor).await;
            let (mut st, ok) = if in_tx && s.tx.is_none() {
                self.run_in_transaction(s, part, &mut held, report.statements.len()).await?
            } else if s.tx.is_some() {
                self.run_plain(s, part).await?
            } else {
                self.run_sampled(s, part).await?
            };
            st.wal_bytes = crate::wal::written(wal0, crate::wal::pg_position(self.monitor).await);
            self.windows.push(Window {
                start_ms: self.ms(Instant::now()) - st.duration_ms,
                end_ms: self.ms(Instant::now()),
                label: win_label,
            });
            if !ok {
                let message = st.error.clone().unwrap_or_default();
                failure = Some(Failure {
                    lock_timeout: message.contains(LOCK_NOT_AVAILABLE),
                    location: location.clone(),
                    message,
                });
                if in_tx || s.tx.is_some() {
                    let _ = self.client.batch_execute("ROLLBACK").await;
                }
                report.statements.push(st);
                break;
            }
            match s.tx {
                Some(TransactionOp::Begin) => in_tx = true,
                Some(TransactionOp::Commit | TransactionOp::Rollback) => {
                    in_tx = false;
                    finish(&mut report, &mut held, Instant::now());
                }
                _ => {}
            }
            report.statements.push(st);
            if wrap {
                self.exec("COMMIT").await?;
                in_tx = false;
                finish(&mut report, &mut held, Instant::now());
            }
        }
        if failure.is_none() && in_tx {
            self.exec("COMMIT").await?;
            finish(&mut report, &mut held, Instant::now());
        }
        report.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(Applied { report, failure })
    }

    async fn exec(&self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).await.map_err(|e| Error::db(sql.to_string(), &e))
    }

    /// Runs one statement inside the open transaction and reads what it changed.
    async fn run_in_transaction(
        &self,
        s: &Stmt,
        part: &Part,
        held: &mut TxLocks,
        index: usize,
    ) -> Result<(StatementReport, bool)> {
        let before = catalog::relations(self.client).await?;
        let start = Instant::now();
        let r = self.client.batch_execute(&s.sql).await;
        let duration = start.elapsed();
        let mut st = self.statement_report(part, s, "transaction", duration);
        if let Err(e) = r {
            lost(part, s, &e)?;
            st.error = Some(db_message(&e));
            return Ok((st, false));
        }
        let locks = catalog::locks_of(self.client, self.pid).await.map_err(|e| Error::db("reading pg_locks", &e))?;
        let after = catalog::relations(self.client).await?;
        for (object, (mode, type_name)) in strongest(&locks) {
            let stronger = held.modes.get(&object).is_none_or(|m| mode > *m);
            if !stronger {
                continue;
            }
            let Some(lock) = self.lock_report(object, mode, type_name, &before, &after) else { continue };
            st.locks.push(lock);
            held.modes.insert(object, mode);
            held.pending.push((start, index, st.locks.len() - 1));
        }
        st.rewrites = self.rewrites(&before, &after);
        Ok((st, true))
    }

    /// Transaction control statements of the file itself.
    async fn run_plain(&self, s: &Stmt, part: &Part) -> Result<(StatementReport, bool)> {
        let start = Instant::now();
        let r = self.client.batch_execute(&s.sql).await;
        let mut st = self.statement_report(part, s, "transaction", start.elapsed());
        match r {
            Ok(()) => Ok((st, true)),
            Err(e) => {
                lost(part, s, &e)?;
                st.error = Some(db_message(&e));
                Ok((st, false))
            }
        }
    }

    /// Runs a statement that cannot run in a transaction block while the monitor connection
    /// samples the migration backend's locks.
    async fn run_sampled(&self, s: &Stmt, part: &Part) -> Result<(StatementReport, bool)> {
        let before = catalog::relations(self.client).await?;
        let start = Instant::now();
        let mut seen: HashMap<(LockObject, LockMode), (Instant, Instant, Option<String>)> = HashMap::new();
        let exec = self.client.batch_execute(&s.sql);
        tokio::pin!(exec);
        let r = loop {
            tokio::select! {
                biased;
                r = &mut exec => break r,
                polled = catalog::locks_of(self.monitor, self.pid) => {
                    let now = Instant::now();
                    for l in polled.unwrap_or_default() {
                        let e = seen.entry((l.object, l.mode)).or_insert((now, now, l.type_name.clone()));
                        e.1 = now;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        };
        let duration = start.elapsed();
        let mut st = self.statement_report(part, s, "sampled", duration);
        if let Err(e) = r {
            lost(part, s, &e)?;
            st.error = Some(db_message(&e));
            return Ok((st, false));
        }
        let after = catalog::relations(self.client).await?;
        let mut strongest_seen: HashMap<LockObject, (LockMode, f64, Option<String>)> = HashMap::new();
        for ((object, mode), (first, last, tn)) in seen {
            let held_ms = last.duration_since(first).as_secs_f64() * 1000.0;
            let e = strongest_seen.entry(object).or_insert((mode, held_ms, tn.clone()));
            if mode > e.0 {
                *e = (mode, held_ms, tn);
            }
        }
        let mut objects: Vec<_> = strongest_seen.into_iter().collect();
        objects.sort_by_key(|(o, _)| *o);
        for (object, (mode, held_ms, tn)) in objects {
            if let Some(mut lock) = self.lock_report(object, mode, tn, &before, &after) {
                lock.held_ms = (lock.pre_existing && is_strong(mode)).then_some(held_ms);
                st.locks.push(lock);
            }
        }
        st.rewrites = self.rewrites(&before, &after);
        Ok((st, true))
    }

    fn statement_report(&self, part: &Part, s: &Stmt, observed: &str, duration: Duration) -> StatementReport {
        StatementReport {
            path: part.path.clone(),
            line: s.line,
            sql: short_sql(&s.sql),
            observed: observed.to_string(),
            duration_ms: duration.as_secs_f64() * 1000.0,
            locks: Vec::new(),
            rewrites: Vec::new(),
            workload_max_wait_ms: None,
            workload_failed: 0,
            error: None,
            wal_bytes: None,
            replica_max_lag_ms: None,
            replica_max_lag_bytes: None,
        }
    }

    fn lock_report(
        &self,
        object: LockObject,
        mode: LockMode,
        type_name: Option<String>,
        before: &HashMap<u32, Rel>,
        after: &HashMap<u32, Rel>,
    ) -> Option<LockReport> {
        // Objects are named as they were before the statement (a rename shows the old name).
        let (name, kind, pre) = match object {
            LockObject::Relation(oid) => {
                // Catalog relations and other databases' objects are not in the user relations.
                let rel = before.get(&oid).or_else(|| after.get(&oid))?;
                (rel.name.clone(), rel.kind.to_string(), self.pre_relations.contains(&oid))
            }
            LockObject::Type(oid) => match self.pre_types.get(&oid) {
                Some(n) => (n.clone(), "type".into(), true),
                // Transient row types of a rewrite's temporary heap are gone by now (`???`).
                None => (type_name.filter(|n| n != "???")?, "type".into(), false),
            },
        };
        Some(LockReport { object: name, kind, mode: mode.name().to_string(), pre_existing: pre, held_ms: None })
    }

    fn rewrites(&self, before: &HashMap<u32, Rel>, after: &HashMap<u32, Rel>) -> Vec<RewriteReport> {
        let mut out: Vec<RewriteReport> = before
            .iter()
            .filter_map(|(oid, b)| {
                let a = after.get(oid)?;
                (a.filenode != b.filenode && a.filenode != 0 && b.filenode != 0).then(|| RewriteReport {
                    object: a.name.clone(),
                    kind: a.kind.to_string(),
                    pre_existing: self.pre_relations.contains(oid),
                })
            })
            .collect();
        // An index rebuilt by a table rewrite gets a new oid under the same name.
        for (oid, b) in before {
            if after.contains_key(oid) || !b.kind.contains("index") {
                continue;
            }
            if after.values().any(|a| a.name == b.name && a.kind == b.kind) {
                out.push(RewriteReport {
                    object: b.name.clone(),
                    kind: b.kind.to_string(),
                    pre_existing: self.pre_relations.contains(oid),
                });
            }
        }
        out.sort_by(|a, b| a.object.cmp(&b.object));
        out
    }
}

/// An error for a statement whose connection ended while it ran (the server stopped or crashed,
/// the backend was terminated): the run cannot go on, unlike after a statement the server
/// rejected. `Ok` for any other error.
fn lost(part: &Part, s: &Stmt, e: &tokio_postgres::Error) -> Result<()> {
    let fatal = e.as_db_error().is_some_and(|d| matches!(d.severity(), "FATAL" | "PANIC"));
    if !(e.is_closed() || fatal || e.as_db_error().is_none()) {
        return Ok(());
    }
    Err(Error::Db {
        context: format!(
            "{}:{}: the connection to the server was lost while `{}` ran",
            part.path,
            s.line,
            short_sql(&s.sql)
        ),
        message: db_message(e),
    })
}

/// The strongest granted mode per object (with the type name of type locks).
pub fn strongest(locks: &[HeldLock]) -> Vec<(LockObject, (LockMode, Option<String>))> {
    let mut m: HashMap<LockObject, (LockMode, Option<String>)> = HashMap::new();
    for l in locks {
        let e = m.entry(l.object).or_insert((l.mode, l.type_name.clone()));
        if l.mode > e.0 {
            e.0 = l.mode;
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by_key(|(o, _)| *o);
    v
}

/// The transaction ended at `end`: every strong lock on a pre-existing object gets its hold time.
fn finish(report: &mut MigrationReport, held: &mut TxLocks, end: Instant) {
    held.modes.clear();
    for (since, si, li) in held.pending.drain(..) {
        if let Some(lock) = report.statements.get_mut(si).and_then(|s| s.locks.get_mut(li)) {
            if lock.pre_existing && LockMode::from_name(&lock.mode).is_some_and(is_strong) {
                lock.held_ms = Some(end.duration_since(since).as_secs_f64() * 1000.0);
            }
        }
    }
}

/// The lock-timeout SQLSTATE of an error, for callers outside this module.
pub fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    sqlstate(e) == Some(LOCK_NOT_AVAILABLE)
}
