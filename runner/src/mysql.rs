//! `sluice trace --dialect mysql`: applies migrations to a MySQL/MariaDB server (a throwaway
//! MariaDB by default, or the database of a `mysql://` URL with `--in-place`) and measures, per
//! statement, its duration, the metadata locks it held or waited for (sampled from
//! `performance_schema.metadata_locks` by a second connection while it runs), the tables InnoDB
//! rebuilt (a changed table id), and for each `ALTER TABLE` the best algorithm the server accepts
//! on an empty copy of the table. MySQL DDL commits implicitly, so every statement runs on its own.
//!
//! MySQL has no `CREATE DATABASE ... TEMPLATE`: a faithful scratch copy of a user's database
//! would mean copying every row, so `--database-url mysql://...` is refused without `--in-place`.

use crate::error::{Error, Result};
use crate::plan::{Migration, Part};
use crate::redact::{redact_text, redact_url};
use crate::report::{
    AlgorithmProbe, Check, Finding, LockReport, MigrationReport, Report, RewriteReport, StatementReport, TableTraffic,
};
use crate::trace::Options;
use crate::workload::{Event, Outcome, Stats};
use crate::{exec, mysql_server};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};
use sluice_core::catalog::{Catalog, Origin};
use sluice_core::ir::Op;
use sluice_core::online_ddl;
use sluice_core::{parse_file, ColumnUnit, Dialect, LineIndex, MySqlVersion, StatementStatus};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `LOCK_TYPE` of an exclusive metadata lock (nothing else can use the table).
pub const EXCLUSIVE_MDL: &str = "EXCLUSIVE";
/// The database the throwaway server applies migrations in.
pub const THROWAWAY_DB: &str = "sluice";
/// Name of the scratch copy used to probe algorithms.
const PROBE_TABLE: &str = "_sluice_probe";
/// Pause between two metadata lock samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// Workload statements slower than this are kept as events.
const SLOW_MS: f64 = 5.0;

/// One statement of a migration part, in MySQL dialect.
#[derive(Clone, Debug)]
pub struct MyStmt {
    pub sql: String,
    pub line: usize,
    /// For `ALTER TABLE`: the table and the text after its name (the clauses).
    pub alter: Option<(String, String)>,
    /// Tables the statement changes (ALTER, CREATE INDEX, RENAME, DROP).
    pub tables: Vec<String>,
    pub ops: Vec<Op>,
}

/// The statements of `part`.
pub fn statements(part: &Part) -> Vec<MyStmt> {
    let parsed = parse_file(&part.text, Dialect::MySql);
    let lines = LineIndex::new(&part.text);
    parsed
        .statements
        .iter()
        .filter(|s| part.range.contains(&s.span.start))
        .filter(|s| !matches!(s.status, StatementStatus::MetaCommand | StatementStatus::Delimiter))
        .map(|s| {
            let sql = s.text(&part.text).trim().trim_end_matches(';').trim_end().to_string();
            let mut tables = Vec::new();
            let mut alter = None;
            for op in &s.ops {
                match op {
                    Op::AlterTable { name, .. } => {
                        tables.push(name.name.clone());
                        let end = s.span.end.min(part.text.len());
                        if let Some(rest) = part.text.get(name.span.end..end) {
                            let rest = rest.trim().trim_end_matches(';').trim_end();
                            alter = Some((name.name.clone(), rest.to_string()));
                        }
                    }
                    Op::CreateIndex { table, .. } => tables.push(table.name.clone()),
                    Op::RenameTable { from, .. } => tables.push(from.name.clone()),
                    Op::Drop { names, .. } => tables.extend(names.iter().map(|n| n.name.clone())),
                    _ => {}
                }
            }
            MyStmt {
                sql,
                line: lines.line_col(&part.text, s.span.start, ColumnUnit::Char).line + 1,
                alter,
                tables,
                ops: s.ops.clone(),
            }
        })
        .collect()
}

fn my_err(context: impl Into<String>, e: &mysql_async::Error) -> Error {
    Error::Db { context: context.into(), message: my_message(e) }
}

/// The server's message with its error code, else the client error (redacted).
pub fn my_message(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("{} ({})", s.message, s.code),
        other => redact_text(&other.to_string()),
    }
}

/// The error ends the connection (the server stopped, crashed or killed it), rather than
/// rejecting one statement: any client-side error, a shutdown (1053) or a killed connection
/// (1927).
fn connection_lost(e: &mysql_async::Error) -> bool {
    !matches!(server_code(e), Some(c) if c != 1053 && c != 1927)
}

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// `ER_LOCK_WAIT_TIMEOUT`: `lock_wait_timeout` (metadata) or `innodb_lock_wait_timeout` (rows).
const LOCK_WAIT_TIMEOUT: u16 = 1205;

/// Backquotes an identifier.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Parses `VERSION()` (`10.11.19-MariaDB-0+deb12u1`, `8.0.36`).
pub fn parse_version(text: &str) -> MySqlVersion {
    let mut nums = text.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
    let (a, b, c) = (nums.next().unwrap_or(8), nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    if text.to_ascii_lowercase().contains("mariadb") {
        MySqlVersion::mariadb(a, b, c)
    } else {
        MySqlVersion::mysql(a, b, c)
    }
}

/// Runs a MySQL trace. Everything it starts is gone when it returns (or when the future is
/// dropped: the throwaway server stops in its `Drop`).
pub async fn trace(plan: &[Migration], opts: &Options) -> Result<Report> {
    match &opts.database_url {
        None => {
            let bin = mysql_server::MariaDbBinaries::find()?;
            if let Some(p) = &opts.progress {
                p.note("starting MariaDB");
            }
            let server = mysql_server::MariaDbServer::start(&bin).await?;
            let mut admin =
                Conn::new(server.opts(None)).await.map_err(|e| my_err("connecting to the throwaway server", &e))?;
            admin
                .query_drop(format!("CREATE DATABASE {}", quote(THROWAWAY_DB)))
                .await
                .map_err(|e| my_err("creating the trace database", &e))?;
            let _ = admin.disconnect().await;
            if let Some(dump) = &opts.snapshot {
                if let Some(p) = &opts.progress {
                    p.note("restoring the snapshot");
                }
                restore(&server.opts(Some(THROWAWAY_DB)), dump).await?;
            }
            let r = trace_database(server.opts(Some(THROWAWAY_DB)), "throwaway", plan, opts).await;
            drop(server);
            r
        }
        Some(url) => {
            if !opts.in_place {
                return Err(Error::Input(format!(
                    "--database-url {}: MySQL has no CREATE DATABASE ... TEMPLATE, so Sluice cannot trace on a faithful \
                     clone of it; pass --in-place to apply the migrations to that database itself, or trace on the \
                     throwaway server (no --database-url)",
                    redact_url(url)
                )));
            }
            let opts_url =
                Opts::from_url(url).map_err(|e| Error::Input(format!("--database-url {}: {e}", redact_url(url))))?;
            if opts_url.db_name().is_none() {
                return Err(Error::Input(format!("--database-url {}: name the database in the URL", redact_url(url))));
            }
            trace_database(opts_url, "in-place", plan, opts).await
        }
    }
}

/// Runs a plain SQL dump (as `mysqldump` writes it) statement by statement.
async fn restore(opts: &Opts, dump: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(dump)
        .map_err(|e| Error::File { path: dump.to_path_buf(), message: format!("reading the snapshot: {e}") })?;
    let part = Part { path: dump.display().to_string(), range: 0..text.len(), text, in_transaction: false };
    let mut c = connect(opts, "restore connection").await?;
    for s in statements(&part) {
        c.query_drop(&s.sql).await.map_err(|e| Error::File {
            path: dump.to_path_buf(),
            message: format!("restoring the snapshot failed at line {}: {}", s.line, my_message(&e)),
        })?;
    }
    let _ = c.disconnect().await;
    Ok(())
}

async fn connect(opts: &Opts, what: &str) -> Result<Conn> {
    Conn::new(opts.clone()).await.map_err(|e| my_err(format!("opening the {what}"), &e))
}

/// Base tables of the current database.
async fn base_tables(c: &mut Conn) -> Result<BTreeSet<String>> {
    let rows: Vec<String> = c
        .query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
        )
        .await
        .map_err(|e| my_err("listing tables", &e))?;
    Ok(rows.into_iter().collect())
}

/// InnoDB table id per table of the current database: a new id means a rebuilt table.
async fn table_ids(c: &mut Conn, mariadb: bool) -> Result<BTreeMap<String, u64>> {
    let view = if mariadb { "INNODB_SYS_TABLES" } else { "INNODB_TABLES" };
    let rows: Vec<(String, u64)> = c
        .query(format!("SELECT NAME, TABLE_ID FROM information_schema.{view} WHERE NAME LIKE CONCAT(DATABASE(), '/%')"))
        .await
        .map_err(|e| my_err("reading InnoDB table ids", &e))?;
    Ok(rows
        .into_iter()
        .filter_map(|(n, id)| n.split_once('/').map(|(_, t)| (decode_filename(t), id)))
        .filter(|(n, _)| !n.starts_with("#sql"))
        .collect())
}

/// InnoDB names encode special characters as `@XXXX` (hex code point).
fn decode_filename(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 1..i + 5).unwrap_or_default();
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) if hex.len() == 4 => {
                out.push(c);
                rest = &rest[i + 5..];
            }
            _ => {
                out.push('@');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One metadata lock seen by the sampler.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct MdlKey {
    object_type: String,
    name: String,
    lock_type: String,
    granted: bool,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    first_ms: f64,
    last_ms: f64,
}

/// The query that lists the metadata locks of the migration's connection as (object type, name,
/// lock type, status). MariaDB's `METADATA_LOCK_INFO` plugin shows the lock a ticket holds now
/// (an upgrade from SHARED_UPGRADABLE to SHARED_NO_WRITE or EXCLUSIVE included), where
/// `performance_schema.metadata_locks` keeps the type it was requested with; the plugin is used for
/// granted locks when it is active, and `performance_schema` for pending requests (and for
/// granted ones without the plugin). `None` when neither is available.
fn mdl_query(connection_id: u64, thread_id: Option<u64>, plugin: bool) -> Option<String> {
    let pfs = |status: &str| {
        thread_id.map(|t| {
            format!(
                "SELECT OBJECT_TYPE, COALESCE(OBJECT_NAME, ''), LOCK_TYPE, LOCK_STATUS FROM \
                 performance_schema.metadata_locks WHERE OWNER_THREAD_ID = {t} AND OBJECT_SCHEMA = DATABASE(){status}"
            )
        })
    };
    if plugin {
        let granted = format!(
            "SELECT 'TABLE', TABLE_NAME, REPLACE(LOCK_MODE, 'MDL_', ''), 'GRANTED' FROM \
             information_schema.METADATA_LOCK_INFO WHERE THREAD_ID = {connection_id} AND TABLE_SCHEMA = DATABASE() \
             AND LOCK_TYPE = 'Table metadata lock'"
        );
        Some(match pfs(" AND LOCK_STATUS = 'PENDING'") {
            Some(p) => format!("{granted} UNION ALL {p}"),
            None => granted,
        })
    } else {
        pfs("")
    }
}

/// Runs `sql` (see [`mdl_query`]) until `stop` is set, recording when each lock was seen.
async fn sample_mdl(
    monitor: &mut Conn,
    sql: &str,
    stop: &AtomicBool,
    t0: Instant,
) -> (BTreeMap<MdlKey, Seen>, Option<String>) {
    let mut seen: BTreeMap<MdlKey, Seen> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        let at = t0.elapsed().as_secs_f64() * 1000.0;
        let rows: Vec<(String, String, String, String)> = match monitor.query(sql).await {
            Ok(r) => r,
            Err(e) => return (seen, Some(my_message(&e))),
        };
        for (object_type, name, lock_type, status) in rows {
            let key = MdlKey { object_type, name, lock_type, granted: status == "GRANTED" };
            seen.entry(key).and_modify(|s| s.last_ms = at).or_insert(Seen { first_ms: at, last_ms: at });
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    (seen, None)
}

/// What the probe of one `ALTER TABLE` found.
#[derive(Clone, Debug)]
struct Probe {
    algorithm: &'static str,
    concurrent_dml: bool,
    rebuilds_table: bool,
    refused: Option<String>,
}

/// Tries the clauses of an `ALTER TABLE` on an empty copy of `table`: INSTANT, then
/// INPLACE with LOCK=NONE, then INPLACE, then COPY. `None` when even COPY is refused there (the
/// clauses need what `CREATE TABLE ... LIKE` does not copy, such as foreign keys).
async fn probe(c: &mut Conn, table: &str, clauses: &str, mariadb: bool) -> Option<Probe> {
    let p = quote(PROBE_TABLE);
    let _ = c.query_drop(format!("DROP TABLE IF EXISTS {p}")).await;
    if c.query_drop(format!("CREATE TABLE {p} LIKE {}", quote(table))).await.is_err() {
        return None;
    }
    let mut refused = None;
    let attempts: [(&'static str, &str, bool); 4] = [
        ("INSTANT", "ALGORITHM=INSTANT", true),
        ("INPLACE", "ALGORITHM=INPLACE, LOCK=NONE", true),
        ("INPLACE", "ALGORITHM=INPLACE", false),
        ("COPY", "ALGORITHM=COPY", false),
    ];
    let mut out = None;
    for (algorithm, clause, concurrent) in attempts {
        let before = table_ids(c, mariadb).await.ok().and_then(|m| m.get(PROBE_TABLE).copied());
        match c.query_drop(format!("ALTER TABLE {p} {clauses}, {clause}")).await {
            Ok(()) => {
                let after = table_ids(c, mariadb).await.ok().and_then(|m| m.get(PROBE_TABLE).copied());
                let concurrent_dml = concurrent && algorithm != "COPY";
                out = Some(Probe {
                    algorithm,
                    concurrent_dml,
                    rebuilds_table: before.is_some() && after.is_some() && before != after,
                    refused: refused.clone(),
                });
                break;
            }
            Err(e) => {
                if refused.is_none() {
                    refused = Some(my_message(&e));
                }
            }
        }
    }
    let _ = c.query_drop(format!("DROP TABLE IF EXISTS {p}")).await;
    out
}

/// The static model's best algorithm for an `ALTER TABLE`, given the table as the server
/// describes it (`SHOW CREATE TABLE`, read into the linter's catalog).
fn model_algorithm(ops: &[Op], version: MySqlVersion, fk_checks_off: bool, create: Option<&str>) -> Option<String> {
    let mut catalog = Catalog::new(Dialect::MySql);
    if let Some(ddl) = create {
        for st in parse_file(ddl, Dialect::MySql).statements {
            for op in &st.ops {
                catalog.apply(op, &Origin::default());
            }
        }
    }
    ops.iter().find_map(|op| match op {
        Op::AlterTable { name, actions, .. } => {
            let target = online_ddl::Target { version, foreign_key_checks_off: fk_checks_off };
            online_ddl::alter_table_in(actions, target, catalog.table(name))
                .map(|d| d.overall.best.keyword().to_string())
        }
        _ => None,
    })
}

/// Everything a trace needs while it applies statements.
struct Tracer<'a> {
    client: Conn,
    monitor: Conn,
    /// See [`mdl_query`].
    mdl_sql: Option<String>,
    mariadb: bool,
    version: MySqlVersion,
    pre_tables: BTreeSet<String>,
    t0: Instant,
    windows: Vec<exec::Window>,
    algorithms: Vec<AlgorithmProbe>,
    /// Probe `ALTER TABLE`s (the first application only, not checks).
    probing: bool,
    lock_notes: Vec<String>,
    on_statement: Option<&'a (dyn Fn(&str) + Sync)>,
}

/// How an application ended.
struct Applied {
    report: MigrationReport,
    failure: Option<(String, String, bool)>,
}

impl Tracer<'_> {
    async fn apply(&mut self, part: &Part, label: Option<&str>) -> Result<Applied> {
        let start = Instant::now();
        let mut stmts = Vec::new();
        let mut failure = None;
        for s in statements(part) {
            let location = format!("{}:{}", part.path, s.line);
            if let Some(cb) = self.on_statement {
                cb(&location);
            }
            if self.probing {
                if let Some((table, clauses)) = &s.alter {
                    let upper = clauses.to_ascii_uppercase();
                    if !upper.contains("ALGORITHM") && !upper.contains("LOCK") && !upper.contains("RENAME TO") {
                        let fk_off: Option<u64> =
                            self.client.query_first("SELECT @@foreign_key_checks").await.ok().flatten();
                        let create: Option<(String, String)> =
                            self.client.query_first(format!("SHOW CREATE TABLE {}", quote(table))).await.ok().flatten();
                        let model = model_algorithm(
                            &s.ops,
                            self.version,
                            fk_off == Some(0),
                            create.as_ref().map(|c| c.1.as_str()),
                        );
                        if let Some(p) = probe(&mut self.client, table, clauses, self.mariadb).await {
                            self.algorithms.push(AlgorithmProbe {
                                location: location.clone(),
                                table: table.clone(),
                                algorithm: p.algorithm.to_string(),
                                concurrent_dml: p.concurrent_dml,
                                rebuilds_table: p.rebuilds_table,
                                model,
                                refused: p.refused,
                            });
                        }
                    }
                }
            }
            let ids_before = table_ids(&mut self.client, self.mariadb).await?;
            let binlog0 = crate::wal::binlog_position(&mut self.client).await;
            let stop = AtomicBool::new(false);
            let st0 = self.t0.elapsed().as_secs_f64() * 1000.0;
            let run = async {
                let r = self.client.query_drop(&s.sql).await;
                stop.store(true, Ordering::Relaxed);
                r
            };
            let (r, (seen, sample_err)) = match &self.mdl_sql {
                Some(sql) => tokio::join!(run, sample_mdl(&mut self.monitor, sql, &stop, self.t0)),
                None => (run.await, (BTreeMap::new(), None)),
            };
            let st1 = self.t0.elapsed().as_secs_f64() * 1000.0;
            if let Some(e) = r.as_ref().err().filter(|e| connection_lost(e)) {
                return Err(Error::Db {
                    context: format!(
                        "{location}: the connection to the server was lost while `{}` ran",
                        exec::short_sql(&s.sql)
                    ),
                    message: my_message(e),
                });
            }
            if let Some(e) = sample_err {
                self.lock_notes.push(format!("{location}: sampling metadata locks failed: {e}"));
            }
            self.windows.push(exec::Window {
                start_ms: st0,
                end_ms: st1,
                label: label.map(|l| format!("{location} ({l})")).unwrap_or_else(|| location.clone()),
            });
            let ids_after = table_ids(&mut self.client, self.mariadb).await?;
            let wal_bytes = crate::wal::written(binlog0, crate::wal::binlog_position(&mut self.client).await);
            let rewrites = ids_before
                .iter()
                .filter(|(n, id)| ids_after.get(*n).is_some_and(|a| a != *id))
                .map(|(n, _)| RewriteReport { object: n.clone(), kind: "table".into(), pre_existing: self.exists(n) })
                .collect();
            let locks = seen
                .iter()
                .filter(|(k, _)| k.object_type == "TABLE" && !k.name.starts_with("#sql") && k.name != PROBE_TABLE)
                .map(|(k, v)| LockReport {
                    object: k.name.clone(),
                    kind: k.object_type.to_ascii_lowercase(),
                    mode: if k.granted { k.lock_type.clone() } else { format!("{} (waiting)", k.lock_type) },
                    pre_existing: k.object_type == "TABLE" && self.pre_tables.contains(&k.name),
                    held_ms: Some(v.last_ms - v.first_ms),
                })
                .collect();
            let error = r.as_ref().err().map(my_message);
            if let Err(e) = &r {
                failure = Some((location.clone(), my_message(e), server_code(e) == Some(LOCK_WAIT_TIMEOUT)));
            }
            stmts.push(StatementReport {
                path: part.path.clone(),
                line: s.line,
                sql: exec::short_sql(&s.sql),
                observed: "sampled".into(),
                duration_ms: st1 - st0,
                locks,
                rewrites,
                workload_max_wait_ms: None,
                workload_failed: 0,
                error,
                wal_bytes,
                replica_max_lag_ms: None,
                replica_max_lag_bytes: None,
            });
            if failure.is_some() {
                break;
            }
        }
        Ok(Applied {
            report: MigrationReport {
                path: label.map(|l| format!("{} ({l})", part.path)).unwrap_or_else(|| part.path.clone()),
                mode: "per-statement".into(),
                duration_ms: start.elapsed().as_secs_f64() * 1000.0,
                statements: stmts,
            },
            failure,
        })
    }

    fn exists(&self, table: &str) -> bool {
        self.pre_tables.contains(table)
    }
}

/// `SHOW CREATE TABLE` of every base table, without the `AUTO_INCREMENT=` counter.
async fn schema_snapshot(c: &mut Conn) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for t in base_tables(c).await? {
        let row: Option<(String, String)> = c
            .query_first(format!("SHOW CREATE TABLE {}", quote(&t)))
            .await
            .map_err(|e| my_err(format!("reading the definition of {t}"), &e))?;
        if let Some((_, ddl)) = row {
            let ddl = ddl.split(' ').filter(|w| !w.starts_with("AUTO_INCREMENT=")).collect::<Vec<_>>().join(" ");
            out.insert(t, ddl);
        }
    }
    Ok(out)
}

fn schema_diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (t, ddl) in a {
        match b.get(t) {
            None => out.push(format!("table {t} is gone")),
            Some(d) if d != ddl => out.push(format!("table {t} changed: now {}", d.replace('\n', " "))),
            Some(_) => {}
        }
    }
    out.extend(b.keys().filter(|t| !a.contains_key(*t)).map(|t| format!("table {t} is new")));
    out
}

/// `table t` and `column t.c` for every column of every base table.
async fn identities(c: &mut Conn) -> Result<BTreeSet<String>> {
    let rows: Vec<(String, String)> = c
        .query(
            "SELECT c.TABLE_NAME, c.COLUMN_NAME FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'",
        )
        .await
        .map_err(|e| my_err("listing columns", &e))?;
    let mut out = BTreeSet::new();
    for (t, col) in rows {
        out.insert(format!("table {t}"));
        out.insert(format!("column {t}.{col}"));
    }
    Ok(out)
}

/// A column of a table to seed or to update from the workload.
#[derive(Clone, Debug)]
struct Col {
    name: String,
    data_type: String,
    nullable: bool,
    max_len: Option<u64>,
    extra: String,
}

async fn columns(c: &mut Conn, table: &str) -> Result<Vec<Col>> {
    let rows: Vec<(String, String, String, Option<u64>, String)> = c
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, EXTRA FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (table,),
        )
        .await
        .map_err(|e| my_err(format!("reading the columns of {table}"), &e))?;
    Ok(rows
        .into_iter()
        .map(|(name, data_type, nullable, max_len, extra)| Col {
            name,
            data_type: data_type.to_ascii_lowercase(),
            nullable: nullable == "YES",
            max_len,
            extra: extra.to_ascii_lowercase(),
        })
        .collect())
}

/// An expression of the column's type computed from `seq` (the row number); `None` leaves the
/// column to its default (auto-increment and generated columns); `Err` when no value is known.
fn seed_expr(c: &Col) -> std::result::Result<Option<String>, String> {
    if c.extra.contains("auto_increment") || c.extra.contains("generated") {
        return Ok(None);
    }
    let text = |prefix: &str| {
        let len = c.max_len.unwrap_or(20).clamp(1, 40);
        format!("LEFT(CONCAT('{prefix}', seq), {len})")
    };
    let e = match c.data_type.as_str() {
        "tinyint" => "seq % 100".to_string(),
        "smallint" => "seq % 30000".to_string(),
        "mediumint" | "int" | "integer" | "bigint" => "seq".to_string(),
        "decimal" | "numeric" | "float" | "double" | "real" => "seq % 100".to_string(),
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => text("v"),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => text("b"),
        "enum" | "set" => "1".to_string(),
        "date" => "CURDATE()".to_string(),
        "datetime" | "timestamp" => "NOW()".to_string(),
        "time" => "'00:00:00'".to_string(),
        "year" => "2000".to_string(),
        "json" => "'{}'".to_string(),
        "bit" => "0".to_string(),
        _ if c.nullable => "NULL".to_string(),
        other => return Err(format!("no synthetic value for column {} of type {other}", c.name)),
    };
    Ok(Some(e))
}

/// Inserts `rows` synthetic rows into each table (MariaDB's `seq_1_to_N` sequence table).
/// Problems are returned as messages, not errors: the trace goes on without the rows.
async fn seed(c: &mut Conn, tables: &[String], rows: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let _ = c.query_drop("SET SESSION foreign_key_checks = 0, unique_checks = 0").await;
    for t in tables {
        let cols = match columns(c, t).await {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("{t}: {e}"));
                continue;
            }
        };
        let mut names = Vec::new();
        let mut exprs = Vec::new();
        let mut bad = None;
        for col in &cols {
            match seed_expr(col) {
                Ok(Some(e)) => {
                    names.push(quote(&col.name));
                    exprs.push(e);
                }
                Ok(None) => {}
                Err(m) => bad = Some(m),
            }
        }
        if let Some(m) = bad {
            problems.push(format!("{t} not seeded: {m}"));
            continue;
        }
        let sql = format!(
            "INSERT IGNORE INTO {} ({}) SELECT {} FROM seq_1_to_{rows}",
            quote(t),
            names.join(", "),
            exprs.join(", ")
        );
        if let Err(e) = c.query_drop(&sql).await {
            problems.push(format!("{t} not seeded: {}", my_message(&e)));
        }
    }
    let _ = c.query_drop("SET SESSION foreign_key_checks = 1, unique_checks = 1").await;
    problems
}

/// What one workload client saw: per table index its stats, and its slow or failed statements.
type ClientResult = (HashMap<usize, Stats>, Vec<Event>);

/// Concurrent clients that read and update one row of each touched table in turn.
struct Workload {
    stop: Arc<AtomicBool>,
    handles: Vec<tokio::task::JoinHandle<ClientResult>>,
    tables: Vec<String>,
}

async fn start_workload(
    opts: &Opts,
    c: &mut Conn,
    tables: &[String],
    clients: usize,
    timeout_ms: u64,
    t0: Instant,
) -> Result<Workload> {
    let mut per_table = Vec::new();
    for t in tables {
        let cols = columns(c, t).await?;
        let read = format!("SELECT * FROM {} LIMIT 1", quote(t));
        let write = cols
            .iter()
            .find(|c| !c.extra.contains("generated"))
            .map(|col| format!("UPDATE {} SET {q} = {q} LIMIT 1", quote(t), q = quote(&col.name)));
        per_table.push((read, write));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let lock_s = timeout_ms.div_ceil(1000).max(1);
    for i in 0..clients {
        let mut conn = connect(opts, "workload connection").await?;
        conn.query_drop(format!("SET SESSION lock_wait_timeout = {lock_s}, innodb_lock_wait_timeout = {lock_s}"))
            .await
            .map_err(|e| my_err("configuring a workload connection", &e))?;
        // MariaDB only; MySQL's max_execution_time covers SELECT only and is left alone.
        let _ = conn.query_drop(format!("SET SESSION max_statement_time = {}", timeout_ms as f64 / 1000.0)).await;
        let stop = Arc::clone(&stop);
        let work = per_table.clone();
        handles.push(tokio::spawn(async move {
            let mut stats: HashMap<usize, Stats> = HashMap::new();
            let mut events = Vec::new();
            let mut n = i;
            while !stop.load(Ordering::Relaxed) {
                let ti = n % work.len().max(1);
                n += 1;
                let Some((read, write)) = work.get(ti) else { break };
                let sql = if n % 2 == 0 { Some(read) } else { write.as_ref() };
                let Some(sql) = sql else { continue };
                let s0 = t0.elapsed().as_secs_f64() * 1000.0;
                let r = conn.query_drop(sql).await;
                let wait = t0.elapsed().as_secs_f64() * 1000.0 - s0;
                let st = stats.entry(ti).or_default();
                st.statements += 1;
                st.max_wait_ms = st.max_wait_ms.max(wait);
                if let Err(e) = &r {
                    st.failed += 1;
                    if st.first_error.is_none() {
                        st.first_error = Some(my_message(e));
                    }
                }
                if wait > SLOW_MS || r.is_err() {
                    events.push(Event { table: ti, start_ms: s0, wait_ms: wait, failed: r.is_err() });
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = conn.disconnect().await;
            (stats, events)
        }));
    }
    Ok(Workload { stop, handles, tables: tables.to_vec() })
}

impl Workload {
    async fn finish(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        let mut stats = vec![Stats::default(); self.tables.len()];
        let mut events = Vec::new();
        for h in self.handles {
            if let Ok((s, e)) = h.await {
                for (ti, st) in s {
                    if let Some(t) = stats.get_mut(ti) {
                        t.statements += st.statements;
                        t.failed += st.failed;
                        t.max_wait_ms = t.max_wait_ms.max(st.max_wait_ms);
                        if t.first_error.is_none() {
                            t.first_error = st.first_error;
                        }
                    }
                }
                events.extend(e);
            }
        }
        Outcome { tables: self.tables, stats, events }
    }
}

/// Traces the plan on the database `opts_db` names.
async fn trace_database(opts_db: Opts, target: &str, plan: &[Migration], opts: &Options) -> Result<Report> {
    let t0 = Instant::now();
    let mut client = connect(&opts_db, "migration connection").await?;
    let monitor = connect(&opts_db, "monitor connection").await?;
    let version_text: String = client
        .query_first("SELECT VERSION()")
        .await
        .map_err(|e| my_err("reading the server version", &e))?
        .unwrap_or_default();
    let version = parse_version(&version_text);
    let mariadb = version.is_mariadb();
    let server = format!("{} {version_text}", if mariadb { "MariaDB" } else { "MySQL" });
    let mut findings = Vec::new();
    let pfs: Option<u64> = client.query_first("SELECT @@performance_schema").await.ok().flatten();
    let thread_id: Option<u64> = if pfs == Some(1) {
        client
            .query_first("SELECT THREAD_ID FROM performance_schema.threads WHERE PROCESSLIST_ID = CONNECTION_ID()")
            .await
            .map_err(|e| my_err("reading the migration connection's thread id", &e))?
    } else {
        None
    };
    let connection_id: u64 = client
        .query_first("SELECT CONNECTION_ID()")
        .await
        .map_err(|e| my_err("reading the connection id", &e))?
        .unwrap_or_default();
    let plugin: Option<u64> = client
        .query_first(
            "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' \
             AND PLUGIN_STATUS = 'ACTIVE'",
        )
        .await
        .ok()
        .flatten();
    let mdl_sql = mdl_query(connection_id, thread_id, plugin.unwrap_or(0) > 0);
    let note = |m: &str| {
        if let Some(p) = &opts.progress {
            p.note(m);
        }
    };
    if mdl_sql.is_none() {
        note("performance_schema is off and METADATA_LOCK_INFO absent: metadata locks are not measured");
    }
    let pre_tables = base_tables(&mut client).await?;
    let mut touched = BTreeSet::new();
    for m in plan {
        for s in statements(&m.up) {
            touched.extend(s.tables.into_iter().filter(|t| pre_tables.contains(t)));
        }
    }
    let touched: Vec<String> = touched.into_iter().collect();
    if opts.seed_rows > 0 && !touched.is_empty() {
        note(&format!("seeding {} table(s) with {} rows", touched.len(), opts.seed_rows));
        for p in seed(&mut client, &touched, opts.seed_rows).await {
            findings.push(Finding { kind: "seed".into(), location: None, message: p });
        }
    }
    let running = if opts.workload_clients > 0 && !touched.is_empty() {
        Some(
            start_workload(&opts_db, &mut client, &touched, opts.workload_clients, opts.workload_timeout_ms.max(1), t0)
                .await?,
        )
    } else {
        None
    };
    let lock_s = opts.lock_timeout_ms.div_ceil(1000).max(1);
    client
        .query_drop(format!("SET SESSION lock_wait_timeout = {lock_s}"))
        .await
        .map_err(|e| my_err("setting lock_wait_timeout", &e))?;
    if let Some(p) = &opts.progress {
        p.begin(plan.iter().map(|m| statements(&m.up).len()).sum());
    }
    let progress = opts.progress.clone();
    let cb = move |loc: &str| {
        if let Some(p) = &progress {
            p.statement(loc);
        }
    };
    let mut tracer = Tracer {
        client,
        monitor,
        mdl_sql,
        mariadb,
        version,
        pre_tables,
        t0,
        windows: Vec::new(),
        algorithms: Vec::new(),
        probing: true,
        lock_notes: Vec::new(),
        on_statement: Some(&cb),
    };
    let mut migrations = Vec::new();
    let mut checks = Vec::new();
    for m in plan {
        let before_up = if opts.check_down && m.down.is_some() {
            Some((schema_snapshot(&mut tracer.client).await?, identities(&mut tracer.client).await?))
        } else {
            None
        };
        tracer.probing = true;
        let applied = tracer.apply(&m.up, None).await?;
        tracer.probing = false;
        migrations.push(applied.report);
        if let Some((location, message, timeout)) = applied.failure {
            let (kind, message) = if timeout {
                ("lock-timeout", format!("lock timeout ({lock_s} s, lock_wait_timeout) waiting for a lock: {message}"))
            } else {
                ("statement-failed", format!("the server rejected the statement: {message}"))
            };
            findings.push(Finding { kind: kind.into(), location: Some(location), message });
            break;
        }
        if opts.check_rerun {
            let path = m.up.path.clone();
            let before = schema_snapshot(&mut tracer.client).await?;
            let again = tracer.apply(&m.up, Some("rerun check")).await?;
            let mut details = Vec::new();
            if let Some((loc, msg, _)) = again.failure {
                details.push(format!("applying it again fails at {loc}: {msg}"));
            } else {
                let after = schema_snapshot(&mut tracer.client).await?;
                details.extend(
                    schema_diff(&before, &after)
                        .into_iter()
                        .map(|d| format!("applying it again changed the schema: {d}")),
                );
            }
            checks.push(Check { kind: "rerun".into(), path, passed: details.is_empty(), details });
        }
        if let (Some((schema0, ids0)), Some(down)) = (before_up, &m.down) {
            let path = down.path.clone();
            let after_up = schema_snapshot(&mut tracer.client).await?;
            let mut details = Vec::new();
            let d = tracer.apply(down, Some("down check")).await?;
            if let Some((loc, msg, _)) = d.failure {
                details.push(format!("the down migration fails at {loc}: {msg}"));
            } else {
                let ids = identities(&mut tracer.client).await?;
                details.extend(
                    ids0.difference(&ids)
                        .map(|x| format!("the down migration destroys what existed before the up migration: {x}")),
                );
                let schema_down = schema_snapshot(&mut tracer.client).await?;
                details.extend(
                    schema_diff(&schema0, &schema_down)
                        .into_iter()
                        .map(|x| format!("the schema after down differs from before up: {x}")),
                );
                let again = tracer.apply(&m.up, Some("down check, up again")).await?;
                if let Some((loc, msg, _)) = again.failure {
                    details.push(format!("up after down fails at {loc}: {msg}"));
                } else {
                    let s = schema_snapshot(&mut tracer.client).await?;
                    details.extend(
                        schema_diff(&after_up, &s)
                            .into_iter()
                            .map(|x| format!("up after down gives a different schema: {x}")),
                    );
                }
            }
            checks.push(Check { kind: "down".into(), path, passed: details.is_empty(), details });
        }
    }
    for c in checks.iter().filter(|c| !c.passed) {
        findings.push(Finding {
            kind: c.kind.clone(),
            location: Some(c.path.clone()),
            message: format!("{} check failed: {}", c.kind, c.details.first().cloned().unwrap_or_default()),
        });
    }
    for n in &tracer.lock_notes {
        note(n);
    }
    let windows = std::mem::take(&mut tracer.windows);
    let algorithms = std::mem::take(&mut tracer.algorithms);
    let _ = tracer.client.disconnect().await;
    let _ = tracer.monitor.disconnect().await;
    let mut report = Report {
        schema_version: crate::report::SCHEMA_VERSION,
        server,
        target: target.to_string(),
        seed_rows: opts.seed_rows,
        workload_clients: opts.workload_clients,
        lock_timeout_ms: lock_s * 1000,
        migrations,
        workload: Vec::<TableTraffic>::new(),
        checks,
        findings,
        total_ms: 0.0,
        algorithms,
        wal_bytes: None,
        replica: None,
    };
    if let Some(w) = running {
        let outcome = w.finish().await;
        crate::trace::attribute(&mut report, &windows, &outcome);
    }
    crate::trace::gates(&mut report, opts);
    report.total_ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        assert!(parse_version("10.11.19-MariaDB-0+deb12u1").is_mariadb());
        assert!(!parse_version("8.0.36").is_mariadb());
        assert_eq!(decode_filename("a@002db"), "a-b");
        assert_eq!(decode_filename("plain@"), "plain@");
        assert_eq!(quote("a`b"), "`a``b`");
    }

    #[test]
    fn alter_clauses_are_split_from_the_table() {
        let text = "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN c int, DROP COLUMN d;\n".to_string();
        let part = Part { path: "m.sql".into(), range: 0..text.len(), text, in_transaction: false };
        let s = statements(&part);
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].line, 2);
        assert_eq!(s[1].alter, Some(("t".to_string(), "ADD COLUMN c int, DROP COLUMN d".to_string())));
        assert_eq!(s[1].tables, vec!["t".to_string()]);
    }
}
