//! `sluice backfill`: a table-wide `UPDATE` in small, throttled, resumable batches.
//!
//! Rows are visited in primary-key order with keyset pagination (`WHERE key > last key ORDER BY
//! key LIMIT n`, never `OFFSET`); composite keys compare as a row. A batch is its own short
//! transaction with a lock timeout, and updates only rows that still need the change: the
//! user's `--where` and, for every assignment, the column differing from its new value
//! (`IS DISTINCT FROM`, `NOT ... <=>` on MySQL). A run that was stopped (Ctrl-C, a crash, a
//! `kill -9`) is resumed by running the same command again: rows done are no longer selected.
//!
//! Between batches the run sleeps (`--sleep-ms`), keeps to `--max-rows-per-second`, and waits
//! while a replica is more than `--max-lag-seconds` behind.
//!
//! It connects to the database of `--database-url` only, and to `--replica-url` only to read its
//! lag. Messages never carry a password.

use crate::error::{db_message, sqlstate, Error, Result};
use crate::exec::LOCK_NOT_AVAILABLE;
use crate::redact::redact_url;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;
use tokio_postgres::{Client, Config, NoTls};

/// How many times a batch that hit the lock timeout is tried again before the run stops.
pub const LOCK_RETRIES: u32 = 5;
/// Pause between two lag readings while waiting for a replica.
const LAG_POLL: Duration = Duration::from_millis(100);

/// What to backfill and how fast.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `postgres://...` (or a key/value conninfo string) or `mysql://...`.
    pub database_url: String,
    /// `name` or `schema.name` (MySQL: `name` in the URL's database).
    pub table: String,
    /// Assignments `column = expression`.
    pub set: Vec<String>,
    /// Only rows matching this condition are updated.
    pub where_clause: Option<String>,
    /// Rows per batch.
    pub batch: u64,
    /// Wait before a batch while the replica is further behind than this.
    pub max_lag_seconds: Option<f64>,
    /// Read the lag on this replica instead of on the primary.
    pub replica_url: Option<String>,
    /// Pause after every batch.
    pub sleep_ms: u64,
    pub max_rows_per_second: Option<f64>,
    /// Lock timeout of every batch (`lock_timeout`; MySQL: `innodb_lock_wait_timeout`, whole
    /// seconds, at least 1).
    pub lock_timeout_ms: u64,
    /// Print the SQL and the estimate; change nothing.
    pub dry_run: bool,
}

/// Receives progress while a backfill runs.
pub trait Progress: Send + Sync {
    /// The estimated number of rows to update (the planner's estimate).
    fn begin(&self, estimated_rows: u64);
    /// A batch committed; `rows_done` counts every row updated by this run so far.
    fn batch(&self, rows_done: u64);
    /// Waiting for the replica, a lock retry, stopping after the batch.
    fn note(&self, message: &str);
}

/// The result of a run (or of a dry run).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    /// The table, qualified as the server names it.
    pub table: String,
    /// `postgres` or `mysql`.
    pub dialect: String,
    /// The primary-key columns the batches are ordered by.
    pub key: Vec<String>,
    /// The planner's estimate of the rows needing the change when the run started.
    pub estimated_rows: u64,
    /// Rows this run updated.
    pub rows_updated: u64,
    /// Batches this run committed that found rows needing the change.
    pub batches: u64,
    pub elapsed_ms: f64,
    /// Stopped by SIGINT/SIGTERM after a committed batch; the same command continues.
    pub interrupted: bool,
    /// Times the run waited for the replica, and for how long in total.
    pub lag_waits: u64,
    pub lag_wait_ms: f64,
    /// The largest replica lag read (seconds); `None` when lag was not watched.
    pub max_lag_seconds_seen: Option<f64>,
    /// The largest lag read right before a batch started (the throttle keeps it under the limit).
    pub max_lag_seconds_at_batch_start: Option<f64>,
    /// Batches tried again after a lock timeout.
    pub lock_retries: u64,
    /// The last key of the last committed batch, as text.
    pub last_key: Option<Vec<String>>,
    /// Dry run: the transaction of the first batch and of every following batch.
    pub sql: Vec<String>,
    /// Things worth knowing (no replica to watch, ...).
    pub notes: Vec<String>,
}

/// A parsed `column = expression`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub column: String,
    pub expr: String,
}

/// Splits `column = expression` at the first `=` outside a quoted column name. The column is a
/// plain identifier (folded as the dialect folds it: lower case on PostgreSQL) or a quoted one
/// (`"Name"`, `` `Name` ``).
pub fn parse_assignment(s: &str, mysql: bool) -> Result<Assignment> {
    let t = s.trim();
    let bad = || Error::Input(format!("--set `{s}`: expected `column = expression`"));
    let (column, rest) = match t.chars().next() {
        Some(q @ ('"' | '`')) => {
            let mut name = String::new();
            let mut chars = t[1..].char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == q {
                    if chars.peek().map(|(_, n)| *n) == Some(q) {
                        name.push(q);
                        chars.next();
                        continue;
                    }
                    end = Some(i + 2);
                    break;
                }
                name.push(c);
            }
            let end = end.ok_or_else(bad)?;
            (name, &t[end..])
        }
        _ => {
            let end = t.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(t.len());
            let name = &t[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(bad());
            }
            (if mysql { name.to_string() } else { name.to_lowercase() }, &t[end..])
        }
    };
    let rest = rest.trim_start();
    let expr = rest.strip_prefix('=').ok_or_else(bad)?.trim();
    if expr.is_empty() || column.is_empty() {
        return Err(bad());
    }
    Ok(Assignment { column, expr: expr.to_string() })
}

/// Column `i` of a row the backfill's own queries return, or an error naming `what`.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a tokio_postgres::Row, i: usize, what: &str) -> Result<T> {
    row.try_get(i).map_err(|e| Error::Db { context: what.to_string(), message: e.to_string() })
}

/// Double-quotes a PostgreSQL identifier.
pub fn pg_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A PostgreSQL string literal.
fn pg_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs a backfill (or a dry run). SIGINT/SIGTERM stop it after the batch in progress (a second
/// one stops it at once; the open batch is rolled back by the server).
pub fn run(opts: &Options, progress: Option<Arc<dyn Progress>>) -> Result<Outcome> {
    if opts.batch == 0 {
        return Err(Error::Input("--batch must be at least 1".into()));
    }
    if opts.set.is_empty() {
        return Err(Error::Input("give at least one --set \"column = expression\"".into()));
    }
    if opts.max_rows_per_second.is_some_and(|r| r.is_nan() || r <= 0.0) {
        return Err(Error::Input("--max-rows-per-second must be positive".into()));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let abort = Arc::new(Notify::new());
        let mut int = signal(SignalKind::interrupt()).map_err(|e| Error::io("installing SIGINT handler", e))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("installing SIGTERM handler", e))?;
        let (s, a, p) = (Arc::clone(&stop), Arc::clone(&abort), progress.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                if s.swap(true, Ordering::SeqCst) {
                    a.notify_one();
                    return;
                }
                if let Some(p) = &p {
                    p.note("stopping after the current batch (again to stop now)");
                }
            }
        });
        let ctl = Control { stop, abort, progress };
        let mysql = opts.database_url.trim_start().to_ascii_lowercase().starts_with("mysql://");
        if mysql {
            crate::backfill_mysql::run(opts, &ctl).await
        } else {
            run_pg(opts, &ctl).await
        }
    })
}

/// What a run checks between batches and reports to.
pub(crate) struct Control {
    pub stop: Arc<AtomicBool>,
    pub abort: Arc<Notify>,
    pub progress: Option<Arc<dyn Progress>>,
}

impl Control {
    pub fn note(&self, m: &str) {
        if let Some(p) = &self.progress {
            p.note(m);
        }
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Pacing shared by both dialects: the sleep after a batch, the rows-per-second ceiling, and the
/// wait for the replica before the next batch.
pub(crate) struct Pace {
    started: Instant,
    sleep: Duration,
    max_rows_per_second: Option<f64>,
}

impl Pace {
    pub fn new(opts: &Options) -> Pace {
        Pace {
            started: Instant::now(),
            sleep: Duration::from_millis(opts.sleep_ms),
            max_rows_per_second: opts.max_rows_per_second,
        }
    }

    /// Sleeps as long as `--sleep-ms` and `--max-rows-per-second` ask after `rows_done` rows.
    pub async fn after_batch(&self, rows_done: u64, ctl: &Control) {
        let mut wait = self.sleep;
        if let Some(r) = self.max_rows_per_second {
            let due = Duration::from_secs_f64(rows_done as f64 / r);
            wait = wait.max(due.saturating_sub(self.started.elapsed()));
        }
        if !wait.is_zero() && !ctl.stopping() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Where the replica lag is read.
pub(crate) enum LagSource<'a> {
    /// `pg_stat_replication` on the primary, or the standby itself.
    Pg { primary: &'a Client, replica: Option<&'a Client> },
    /// `SHOW REPLICA STATUS` on a MySQL/MariaDB replica.
    MySql(&'a mut mysql_async::Conn),
}

impl LagSource<'_> {
    async fn read(&mut self) -> Result<Option<f64>> {
        match self {
            LagSource::Pg { primary, replica } => pg_lag(primary, *replica).await,
            LagSource::MySql(c) => crate::backfill_mysql::replica_lag(c).await.map(Some),
        }
    }
}

/// Waits while `source` says the replica is more than `limit` seconds behind. Records the
/// readings in `out`. Returns early when the run is being stopped.
pub(crate) async fn wait_for_lag(
    limit: f64,
    source: &mut LagSource<'_>,
    out: &mut Outcome,
    ctl: &Control,
) -> Result<()> {
    let mut waited: Option<Instant> = None;
    loop {
        let lag = source.read().await?;
        let Some(lag) = lag else { return Ok(()) };
        out.max_lag_seconds_seen = Some(out.max_lag_seconds_seen.unwrap_or(0.0).max(lag));
        if lag <= limit || ctl.stopping() {
            if let Some(w) = waited {
                out.lag_wait_ms += w.elapsed().as_secs_f64() * 1000.0;
            }
            out.max_lag_seconds_at_batch_start = Some(out.max_lag_seconds_at_batch_start.unwrap_or(0.0).max(lag));
            return Ok(());
        }
        if waited.is_none() {
            waited = Some(Instant::now());
            out.lag_waits += 1;
        }
        ctl.note(&format!("replica {lag:.1} s behind (limit {limit} s): waiting"));
        tokio::time::sleep(LAG_POLL).await;
    }
}

/// The table as PostgreSQL resolved it, its primary key and the assignments.
struct PgTable {
    qualified: String,
    /// (quoted column name, `format_type`) of each key column in key order.
    key: Vec<(String, String)>,
    key_names: Vec<String>,
}

async fn pg_connect(url: &str, what: &str) -> Result<Client> {
    let cfg: Config = url.parse().map_err(|e| Error::Input(format!("{what} {}: {e}", redact_url(url))))?;
    let (client, conn) = cfg
        .connect(NoTls)
        .await
        .map_err(|e| Error::Db { context: format!("connecting to {}", redact_url(url)), message: db_message(&e) })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn pg_table(c: &Client, table: &str, sets: &[Assignment]) -> Result<PgTable> {
    let row = c
        .query_opt(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname), c.relkind::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
            &[&table],
        )
        .await
        .map_err(|e| Error::Db { context: format!("looking up table {table}"), message: db_message(&e) })?
        .ok_or_else(|| Error::Input(format!("--table {table}: no such table")))?;
    let what = "reading the table's catalog entry";
    let oid: u32 = col(&row, 0, what)?;
    let qualified: String = col(&row, 1, what)?;
    let kind: String = col(&row, 2, what)?;
    if kind != "r" && kind != "p" {
        return Err(Error::Input(format!("--table {table}: {qualified} is not a table")));
    }
    let key_rows = c
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
            &[&oid],
        )
        .await
        .map_err(|e| Error::Db {
            context: format!("reading the primary key of {qualified}"),
            message: db_message(&e),
        })?;
    if key_rows.is_empty() {
        return Err(Error::Input(format!(
            "--table {table}: {qualified} has no primary key; batches are ordered and resumed by the primary key"
        )));
    }
    let what = "reading the primary key";
    let key: Vec<(String, String)> =
        key_rows.iter().map(|r| Ok((col(r, 0, what)?, col(r, 1, what)?))).collect::<Result<_>>()?;
    let key_names: Vec<String> = key.iter().map(|(n, _)| n.clone()).collect();
    let columns: Vec<String> = c
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
            &[&oid],
        )
        .await
        .map_err(|e| Error::Db { context: format!("reading the columns of {qualified}"), message: db_message(&e) })?
        .iter()
        .map(|r| col(r, 0, "reading the columns"))
        .collect::<Result<_>>()?;
    for s in sets {
        if !columns.contains(&s.column) {
            return Err(Error::Input(format!("--set: {qualified} has no column {}", pg_ident(&s.column))));
        }
        if key_names.contains(&s.column) {
            return Err(Error::Input(format!(
                "--set: {} is part of the primary key the batches are ordered by; a backfill cannot change it",
                pg_ident(&s.column)
            )));
        }
    }
    Ok(PgTable { qualified, key: key.into_iter().map(|(n, ty)| (pg_ident(&n), ty)).collect(), key_names })
}

/// The condition of rows still needing the change.
pub(crate) fn needs(sets: &[Assignment], where_clause: Option<&str>, mysql: bool) -> String {
    let differs: Vec<String> = sets
        .iter()
        .map(|s| {
            if mysql {
                format!("NOT ({} <=> ({}))", crate::mysql::quote(&s.column), s.expr)
            } else {
                format!("{} IS DISTINCT FROM ({})", pg_ident(&s.column), s.expr)
            }
        })
        .collect();
    let differs = if differs.len() == 1 { differs.join("") } else { format!("({})", differs.join(" OR ")) };
    match where_clause.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => format!("({w}) AND {differs}"),
        None => differs,
    }
}

/// The statement of one batch: selects up to `n` keys after `after` (key literals, `None` for
/// the first batch) of rows needing the change, updates those rows, and returns the rows updated,
/// the keys selected and the last key as text.
fn pg_batch_sql(t: &PgTable, sets: &[Assignment], needs: &str, n: u64, after: Option<&[String]>) -> String {
    let cols: Vec<&str> = t.key.iter().map(|(c, _)| c.as_str()).collect();
    let list = cols.join(", ");
    let row = |items: &str| if cols.len() == 1 { items.to_string() } else { format!("({items})") };
    let lower = match after {
        Some(keys) => {
            let lits: Vec<String> =
                keys.iter().zip(&t.key).map(|(k, (_, ty))| format!("{}::{ty}", pg_literal(k))).collect();
            format!("{} > {} AND ", row(&list), row(&lits.join(", ")))
        }
        None => String::new(),
    };
    let assign: Vec<String> = sets.iter().map(|s| format!("{} = ({})", pg_ident(&s.column), s.expr)).collect();
    let desc: Vec<String> = cols.iter().map(|c| format!("{c} DESC")).collect();
    let last: Vec<String> = cols.iter().map(|c| format!("last.{c}::text")).collect();
    format!(
        "WITH batch AS (\n  SELECT {list} FROM {table}\n  WHERE {lower}{needs}\n  ORDER BY {list} LIMIT {n}\n), \
         updated AS (\n  UPDATE {table} SET {assign}\n  WHERE {lhs} IN (SELECT {list} FROM batch) AND {needs}\n  RETURNING 1\n)\n\
         SELECT (SELECT count(*) FROM updated), (SELECT count(*) FROM batch), {last}\n\
         FROM (SELECT 1) AS one LEFT JOIN (SELECT {list} FROM batch ORDER BY {desc} LIMIT 1) AS last ON true",
        table = t.qualified,
        assign = assign.join(", "),
        lhs = row(&list),
        last = last.join(", "),
        desc = desc.join(", "),
    )
}

/// The planner's estimate of the rows matching `needs` (`rows=` of the plan's top node).
async fn pg_estimate(c: &Client, table: &str, needs: &str) -> Result<u64> {
    let sql = format!("EXPLAIN SELECT 1 FROM {table} WHERE {needs}");
    let rows = c.query(&sql, &[]).await.map_err(|e| Error::Db {
        context: "estimating the rows to update (is --set or --where valid SQL?)".into(),
        message: db_message(&e),
    })?;
    let top: String = match rows.first() {
        Some(r) => col(r, 0, "reading the plan")?,
        None => return Ok(0),
    };
    Ok(plan_rows(&top))
}

/// `rows=N` of an EXPLAIN line.
fn plan_rows(line: &str) -> u64 {
    line.split("rows=")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The replica lag in seconds: on `replica` (a standby) since the last replayed commit while it
/// has WAL left to replay; else the largest `replay_lag` of `pg_stat_replication` on the primary
/// (0 once a standby has replayed everything the primary wrote). `None`: no replica is connected.
pub async fn pg_lag(primary: &Client, replica: Option<&Client>) -> Result<Option<f64>> {
    if let Some(r) = replica {
        let row = r
            .query_one(
                "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM \
                 pg_last_wal_replay_lsn() THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - \
                 pg_last_xact_replay_timestamp()), 0) END::float8",
                &[],
            )
            .await
            .map_err(|e| Error::Db { context: "reading the replica's lag".into(), message: db_message(&e) })?;
        if !col::<bool>(&row, 0, "reading the replica's lag")? {
            return Err(Error::Input("--replica-url is not a standby (pg_is_in_recovery() is false)".into()));
        }
        return Ok(Some(col::<f64>(&row, 1, "reading the replica's lag")?.max(0.0)));
    }
    let row = primary
        .query_one(
            "SELECT count(*), COALESCE(max(CASE WHEN replay_lsn >= pg_current_wal_lsn() THEN 0 \
             ELSE EXTRACT(EPOCH FROM replay_lag) END), 0)::float8 FROM pg_stat_replication",
            &[],
        )
        .await
        .map_err(|e| Error::Db { context: "reading pg_stat_replication".into(), message: db_message(&e) })?;
    let replicas: i64 = col(&row, 0, "reading pg_stat_replication")?;
    if replicas == 0 {
        return Ok(None);
    }
    Ok(Some(col(&row, 1, "reading pg_stat_replication")?))
}

async fn run_pg(opts: &Options, ctl: &Control) -> Result<Outcome> {
    let started = Instant::now();
    let sets = opts.set.iter().map(|s| parse_assignment(s, false)).collect::<Result<Vec<_>>>()?;
    let client = pg_connect(&opts.database_url, "--database-url").await?;
    let replica = match &opts.replica_url {
        Some(u) if opts.max_lag_seconds.is_some() => Some(pg_connect(u, "--replica-url").await?),
        _ => None,
    };
    let t = pg_table(&client, &opts.table, &sets).await?;
    let needs = needs(&sets, opts.where_clause.as_deref(), false);
    let mut out = Outcome {
        table: t.qualified.clone(),
        dialect: "postgres".into(),
        key: t.key_names.clone(),
        ..Outcome::default()
    };
    out.estimated_rows = pg_estimate(&client, &t.qualified, &needs).await?;
    let begin = format!("BEGIN;\nSET LOCAL lock_timeout = '{}ms';", opts.lock_timeout_ms);
    if opts.dry_run {
        let placeholders: Vec<String> =
            t.key_names.iter().map(|k| format!("<last {k} of the previous batch>")).collect();
        out.sql.push(format!("{begin}\n{};\nCOMMIT;", pg_batch_sql(&t, &sets, &needs, opts.batch, None)));
        out.sql
            .push(format!("{begin}\n{};\nCOMMIT;", pg_batch_sql(&t, &sets, &needs, opts.batch, Some(&placeholders))));
        out.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        return Ok(out);
    }
    if let Some(p) = &ctl.progress {
        p.begin(out.estimated_rows);
    }
    if opts.max_lag_seconds.is_some() && replica.is_none() && pg_lag(&client, None).await?.is_none() {
        let n = "no replica is connected to this server (pg_stat_replication is empty): --max-lag-seconds has nothing to wait for";
        out.notes.push(n.into());
        ctl.note(n);
    }
    let pace = Pace::new(opts);
    let mut last: Option<Vec<String>> = None;
    loop {
        if ctl.stopping() {
            out.interrupted = true;
            break;
        }
        if let Some(limit) = opts.max_lag_seconds {
            let mut source = LagSource::Pg { primary: &client, replica: replica.as_ref() };
            wait_for_lag(limit, &mut source, &mut out, ctl).await?;
            if ctl.stopping() {
                out.interrupted = true;
                break;
            }
        }
        let sql = pg_batch_sql(&t, &sets, &needs, opts.batch, last.as_deref());
        let mut attempt = 0;
        let (updated, selected, key) = loop {
            let batch = pg_one_batch(&client, &begin, &sql);
            let r = tokio::select! {
                r = batch => r,
                _ = ctl.abort.notified() => return Err(Error::Interrupted("a second signal")),
            };
            match r {
                Ok(v) => break v,
                Err(e) if sqlstate(&e) == Some(LOCK_NOT_AVAILABLE) && attempt < LOCK_RETRIES => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    attempt += 1;
                    out.lock_retries += 1;
                    ctl.note(&format!("lock timeout; trying the batch again ({attempt}/{LOCK_RETRIES})"));
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    return Err(Error::Db {
                        context: format!(
                            "batch {} of the backfill of {} ({} rows updated by this run; the same command continues)",
                            out.batches + 1,
                            t.qualified,
                            out.rows_updated
                        ),
                        message: db_message(&e),
                    });
                }
            }
        };
        if selected == 0 {
            break;
        }
        out.batches += 1;
        out.rows_updated += updated;
        if key.is_some() {
            last = key;
            out.last_key = last.clone();
        }
        if let Some(p) = &ctl.progress {
            p.batch(out.rows_updated);
        }
        if selected < opts.batch {
            break;
        }
        pace.after_batch(out.rows_updated, ctl).await;
    }
    out.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(out)
}

/// One batch in its own transaction: (rows updated, keys selected, last key).
async fn pg_one_batch(
    c: &Client,
    begin: &str,
    sql: &str,
) -> std::result::Result<(u64, u64, Option<Vec<String>>), tokio_postgres::Error> {
    c.batch_execute(begin).await?;
    let row = c.query_one(sql, &[]).await?;
    c.batch_execute("COMMIT").await?;
    let updated: i64 = row.try_get(0)?;
    let selected: i64 = row.try_get(1)?;
    let key: Vec<Option<String>> = (2..row.len()).map(|i| row.try_get(i)).collect::<std::result::Result<_, _>>()?;
    let key = key.into_iter().collect::<Option<Vec<String>>>();
    Ok((u64::try_from(updated).unwrap_or(0), u64::try_from(selected).unwrap_or(0), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments() {
        let a = parse_assignment("region_code = 'eu'", false).expect("ok");
        assert_eq!(a, Assignment { column: "region_code".into(), expr: "'eu'".into() });
        let a = parse_assignment("\"Mixed \"\"Name\" = lower(x) ", false).expect("ok");
        assert_eq!(a, Assignment { column: "Mixed \"Name".into(), expr: "lower(x)".into() });
        assert_eq!(parse_assignment("Total = a + b", false).expect("ok").column, "total");
        assert_eq!(parse_assignment("Total = a + b", true).expect("ok").column, "Total");
        assert_eq!(parse_assignment("`a``b` = 1", true).expect("ok").column, "a`b");
        assert!(parse_assignment("= 1", false).is_err());
        assert!(parse_assignment("x 1", false).is_err());
        assert!(parse_assignment("x =", false).is_err());
        assert!(parse_assignment("1x = 2", false).is_err());
    }

    #[test]
    fn plan_estimates() {
        assert_eq!(plan_rows("Seq Scan on orders  (cost=0.00..3590.00 rows=199500 width=4)"), 199500);
        assert_eq!(plan_rows("Result  (cost=0.00..0.01 rows=1 width=4)"), 1);
        assert_eq!(plan_rows("garbage"), 0);
    }

    #[test]
    fn needs_condition() {
        let s = vec![Assignment { column: "c".into(), expr: "'eu'".into() }];
        assert_eq!(needs(&s, None, false), "\"c\" IS DISTINCT FROM ('eu')");
        assert_eq!(needs(&s, Some("c IS NULL"), true), "(c IS NULL) AND NOT (`c` <=> ('eu'))");
        let two = vec![s[0].clone(), Assignment { column: "d".into(), expr: "1".into() }];
        assert_eq!(needs(&two, None, false), "(\"c\" IS DISTINCT FROM ('eu') OR \"d\" IS DISTINCT FROM (1))");
    }

    #[test]
    fn keyset_batches_never_use_offset() {
        let t = PgTable {
            qualified: "public.t".into(),
            key: vec![("\"a\"".into(), "integer".into()), ("\"b\"".into(), "text".into())],
            key_names: vec!["a".into(), "b".into()],
        };
        let s = vec![Assignment { column: "c".into(), expr: "1".into() }];
        let first = pg_batch_sql(&t, &s, "\"c\" IS DISTINCT FROM (1)", 500, None);
        assert!(first.contains("ORDER BY \"a\", \"b\" LIMIT 500"), "{first}");
        assert!(!first.to_ascii_uppercase().contains("OFFSET"));
        let next = pg_batch_sql(&t, &s, "\"c\" IS DISTINCT FROM (1)", 500, Some(&["7".into(), "it's".into()]));
        assert!(next.contains("(\"a\", \"b\") > ('7'::integer, 'it''s'::text) AND"), "{next}");
    }
}
