//! A whole trace run: where it runs (throwaway cluster, clone of a database, or in place), the
//! preparation (snapshot restore, seed rows, workload), the traced apply of every migration, the
//! rerun and down checks, and the gates.

use crate::catalog::{self, quote_qualified};
use crate::cluster::{Cluster, PgBinaries};
use crate::error::{db_message, Error, Result};
use crate::exec::{self, Tracer, Window};
use crate::plan::{self, Migration};
use crate::redact::redact_url;
use crate::report::{Check, Finding, Report, StatementReport, TableTraffic};
use crate::seed;
use crate::workload;
use sluice_core::framework::FrameworkSetting;
use sluice_core::pg_locks::{LockMode, Target};
use sluice_core::{Dialect, PgVersion};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;
use tokio::signal::unix::{signal, SignalKind};
use tokio_postgres::{Client, Config};

/// What to trace and how.
#[derive(Clone, Default)]
pub struct Options {
    /// Migration files or directories, applied in their migration tool's order (see [`crate::plan`]).
    pub inputs: Vec<PathBuf>,
    /// Trace against this database instead of a throwaway cluster.
    pub database_url: Option<String>,
    /// With `database_url`: apply to the database itself instead of a clone.
    pub in_place: bool,
    /// A plain SQL or custom-format dump restored into the throwaway cluster first.
    pub snapshot: Option<PathBuf>,
    pub seed_rows: u64,
    pub workload_clients: usize,
    pub workload_timeout_ms: u64,
    pub lock_timeout_ms: u64,
    pub max_exclusive_ms: Option<u64>,
    pub max_blocked_ms: Option<u64>,
    pub check_rerun: bool,
    pub check_down: bool,
    /// Fail when one statement, or one migration, writes more WAL/binlog than this (MB).
    pub max_wal_mb: Option<u64>,
    /// Stream the throwaway cluster to a replica and measure its replay lag.
    pub replica: bool,
    /// With `replica`: fail when the replay lag exceeds this.
    pub max_lag_ms: Option<u64>,
    /// Trace on MySQL/MariaDB (a throwaway MariaDB server, or `mysql://` with `in_place`).
    pub mysql: bool,
    /// The migration tool whose conventions order the files and set their transaction mode
    /// (detected per directory by default).
    pub framework: FrameworkSetting,
    /// Progress: called with the total number of statements, then with each `path:line`.
    pub progress: Option<Arc<dyn Progress>>,
}

/// Receives progress while a trace runs.
pub trait Progress: Send + Sync {
    fn begin(&self, statements: usize);
    fn statement(&self, location: &str);
    fn note(&self, message: &str);
}

/// Runs a trace. Everything it starts (cluster, clone, workload) is gone when it returns, also
/// after an error or SIGINT/SIGTERM.
pub fn run(opts: &Options) -> Result<Report> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    rt.block_on(async {
        // Installed first, so a signal during the cluster start is handled (not fatal).
        let mut int = signal(SignalKind::interrupt()).map_err(|e| Error::io("installing SIGINT handler", e))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("installing SIGTERM handler", e))?;
        let dialect = if opts.mysql { Dialect::MySql } else { Dialect::Postgres };
        let plan = plan::load_with(&opts.inputs, opts.framework, dialect)?;
        if opts.replica && (opts.mysql || opts.database_url.is_some()) {
            return Err(Error::Input(
                "--replica streams the throwaway PostgreSQL cluster to a replica; it cannot be combined with \
                 --dialect mysql or --database-url"
                    .into(),
            ));
        }
        if opts.mysql {
            return tokio::select! {
                r = crate::mysql::trace(&plan, opts) => r,
                _ = int.recv() => Err(Error::Interrupted("SIGINT")),
                _ = term.recv() => Err(Error::Interrupted("SIGTERM")),
            };
        }
        if opts.snapshot.is_some() && opts.database_url.is_some() {
            return Err(Error::Input(
                "--snapshot restores into the throwaway cluster; it cannot be combined with --database-url".into(),
            ));
        }
        match &opts.database_url {
            None => {
                let bin = PgBinaries::find()?;
                let cluster = Cluster::start(&bin)?;
                let cfg = cluster.config("postgres");
                let traced = async {
                    if let Some(dump) = &opts.snapshot {
                        restore(&bin, &cluster, dump)?;
                    }
                    let _replica =
                        if opts.replica { Some(crate::replica::Replica::start(&bin, &cluster).await?) } else { None };
                    trace_database(&cfg, "throwaway", &plan, opts).await
                };
                let r = tokio::select! {
                    r = traced => r,
                    _ = int.recv() => Err(Error::Interrupted("SIGINT")),
                    _ = term.recv() => Err(Error::Interrupted("SIGTERM")),
                };
                drop(cluster);
                r
            }
            Some(url) => {
                let cfg: Config =
                    url.parse().map_err(|e| Error::Input(format!("--database-url {}: {e}", redact_url(url))))?;
                if opts.in_place {
                    return tokio::select! {
                        r = trace_database(&cfg, "in-place", &plan, opts) => r,
                        _ = int.recv() => Err(Error::Interrupted("SIGINT")),
                        _ = term.recv() => Err(Error::Interrupted("SIGTERM")),
                    };
                }
                let admin = catalog::connect(&cfg, &redact_url(url)).await?;
                let source = match cfg.get_dbname() {
                    Some(d) => d.to_string(),
                    None => cfg.get_user().unwrap_or("postgres").to_string(),
                };
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or_default();
                let clone = format!("sluice_trace_{}_{nanos}", std::process::id());
                admin
                    .batch_execute(&format!(
                        "CREATE DATABASE {} TEMPLATE {}",
                        quote_qualified(None, &clone),
                        quote_qualified(None, &source)
                    ))
                    .await
                    .map_err(|e| Error::Db {
                        context: format!(
                            "cloning database {source} (CREATE DATABASE ... TEMPLATE needs no other session on it)"
                        ),
                        message: db_message(&e),
                    })?;
                let mut ccfg = cfg.clone();
                ccfg.dbname(&clone);
                let r = tokio::select! {
                    r = trace_database(&ccfg, "clone", &plan, opts) => r,
                    _ = int.recv() => Err(Error::Interrupted("SIGINT")),
                    _ = term.recv() => Err(Error::Interrupted("SIGTERM")),
                };
                drop_clone(&admin, &clone).await;
                r
            }
        }
    })
}

async fn drop_clone(admin: &Client, clone: &str) {
    let q = quote_qualified(None, clone);
    if admin.batch_execute(&format!("DROP DATABASE IF EXISTS {q} WITH (FORCE)")).await.is_err() {
        let _ = admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'; DROP DATABASE IF EXISTS {q}",
                clone.replace('\'', "''")
            ))
            .await;
    }
}

/// Restores a plain SQL dump with `psql` or a custom-format dump with `pg_restore`.
fn restore(bin: &PgBinaries, cluster: &Cluster, dump: &Path) -> Result<()> {
    let mut magic = [0u8; 5];
    let custom = std::fs::File::open(dump)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .map(|()| &magic == b"PGDMP")
        .unwrap_or(false);
    let host = cluster.socket_dir();
    let port = crate::cluster::PORT.to_string();
    let mut cmd = if custom {
        let mut c = Command::new(bin.tool("pg_restore"));
        c.arg("--no-owner").arg("--exit-on-error").arg("-d").arg("postgres");
        c
    } else {
        let mut c = Command::new(bin.tool("psql"));
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f"]);
        c
    };
    cmd.arg(dump).arg("-h").arg(host).args(["-p", &port, "-U", crate::cluster::SUPERUSER]);
    let out = cmd.output().map_err(|e| Error::io("running the snapshot restore", e))?;
    if !out.status.success() {
        return Err(Error::File {
            path: dump.to_path_buf(),
            message: format!("restoring the snapshot failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(())
}

/// Oids of the pre-existing tables the migrations touch (per the lock model's targets).
async fn touched_tables(c: &Client, plan: &[Migration], version: PgVersion, pre: &BTreeSet<u32>) -> Result<Vec<u32>> {
    let mut oids = BTreeSet::new();
    for m in plan {
        for s in exec::statements(&m.up, version) {
            for (target, _) in s.effect.iter().flat_map(|e| e.locks.iter()) {
                let (name, index) = match target {
                    Target::Table(n) | Target::Referenced(n) => (n, false),
                    Target::Index(n) | Target::IndexTable(n) | Target::DeadIndex(n) => (n, true),
                    Target::Type(_) | Target::Database => continue,
                };
                let q = quote_qualified(name.schema.as_deref(), &name.name);
                let sql = if index {
                    "SELECT indrelid FROM pg_index WHERE indexrelid = to_regclass($1)"
                } else {
                    "SELECT oid FROM pg_class WHERE oid = to_regclass($1) AND relkind IN ('r', 'p')"
                };
                let rows = c.query(sql, &[&q]).await.map_err(|e| Error::db("resolving touched tables", &e))?;
                oids.extend(rows.iter().map(|r| r.get::<_, u32>(0)).filter(|o| pre.contains(o)));
            }
        }
    }
    Ok(oids.into_iter().collect())
}

async fn server_version(c: &Client) -> Result<(PgVersion, String)> {
    let row = c
        .query_one("SELECT current_setting('server_version_num')::int, current_setting('server_version')", &[])
        .await
        .map_err(|e| Error::db("reading the server version", &e))?;
    let num: i32 = row.get(0);
    let text: String = row.get(1);
    let num = u32::try_from(num).unwrap_or(0);
    Ok((PgVersion::new(num / 10000, num % 10000), format!("PostgreSQL {text}")))
}

/// Traces the plan on the database `cfg` points at.
pub async fn trace_database(cfg: &Config, target: &str, plan: &[Migration], opts: &Options) -> Result<Report> {
    let t0 = Instant::now();
    let client = catalog::connect(cfg, "migration connection").await?;
    let monitor = catalog::connect(cfg, "monitor connection").await?;
    let (version, server) = server_version(&client).await?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(|e| Error::db("reading the backend pid", &e))?
        .get(0);
    let pre_relations: BTreeSet<u32> = catalog::relations(&client).await?.into_keys().collect();
    let pre_types = catalog::type_names(&client).await?;
    let mut findings = Vec::new();
    let touched = touched_tables(&client, plan, version, &pre_relations).await?;
    let mut tables = Vec::new();
    for oid in &touched {
        tables.push(seed::table(&client, *oid).await?);
    }
    let note = |m: &str| {
        if let Some(p) = &opts.progress {
            p.note(m);
        }
    };
    if opts.seed_rows > 0 && !tables.is_empty() {
        note(&format!("seeding {} table(s) with {} rows", tables.len(), opts.seed_rows));
        for p in seed::seed(&client, &tables, opts.seed_rows).await {
            findings.push(Finding { kind: "seed".into(), location: None, message: p });
        }
    }
    let running = if opts.workload_clients > 0 && !tables.is_empty() {
        Some(workload::start(cfg, &tables, opts.workload_clients, opts.workload_timeout_ms.max(1), t0).await?)
    } else {
        None
    };
    client
        .batch_execute(&format!("SET lock_timeout = '{}ms'", opts.lock_timeout_ms))
        .await
        .map_err(|e| Error::db("setting lock_timeout", &e))?;
    if let Some(p) = &opts.progress {
        let total: usize = plan.iter().map(|m| exec::statements(&m.up, version).len()).sum();
        p.begin(total);
    }
    let progress = opts.progress.clone();
    let cb = move |loc: &str| {
        if let Some(p) = &progress {
            p.statement(loc);
        }
    };
    let mut tracer = Tracer {
        client: &client,
        monitor: &monitor,
        pid,
        version,
        pre_relations,
        pre_types,
        t0,
        windows: Vec::new(),
        on_statement: Some(&cb),
    };
    let lag = if opts.replica { Some(crate::replica::LagSampler::start(cfg, t0).await?) } else { None };
    let mut migrations = Vec::new();
    let mut checks = Vec::new();
    for m in plan {
        let before_up = if opts.check_down && m.down.is_some() {
            Some((catalog::schema_snapshot(&client).await?, catalog::identities(&client).await?))
        } else {
            None
        };
        let applied = tracer.apply(&m.up, None).await?;
        migrations.push(applied.report);
        if let Some(f) = applied.failure {
            let kind = if f.lock_timeout { "lock-timeout" } else { "statement-failed" };
            let message = if f.lock_timeout {
                format!("lock timeout ({} ms) waiting for a lock: {}", opts.lock_timeout_ms, f.message)
            } else {
                format!("the server rejected the statement: {}", f.message)
            };
            findings.push(Finding { kind: kind.into(), location: Some(f.location), message });
            break;
        }
        if opts.check_rerun {
            checks.push(check_rerun(&mut tracer, m).await?);
        }
        if let (Some((schema0, ids0)), Some(_)) = (before_up, &m.down) {
            checks.push(check_down(&mut tracer, m, &schema0, &ids0).await?);
        }
    }
    for c in checks.iter().filter(|c| !c.passed) {
        findings.push(Finding {
            kind: c.kind.clone(),
            location: Some(c.path.clone()),
            message: format!("{} check failed: {}", c.kind, c.details.first().cloned().unwrap_or_default()),
        });
    }
    let windows = std::mem::take(&mut tracer.windows);
    drop(tracer);
    let lag = match lag {
        Some(s) => Some(s.finish().await?),
        None => None,
    };
    let mut report = Report {
        schema_version: crate::report::SCHEMA_VERSION,
        server,
        target: target.to_string(),
        seed_rows: opts.seed_rows,
        workload_clients: opts.workload_clients,
        lock_timeout_ms: opts.lock_timeout_ms,
        migrations,
        workload: Vec::new(),
        checks,
        findings,
        total_ms: 0.0,
        algorithms: Vec::new(),
        wal_bytes: None,
        replica: None,
    };
    if let Some(w) = running {
        let outcome = w.finish().await;
        attribute(&mut report, &windows, &outcome);
    }
    if let Some(s) = &lag {
        crate::replica::attribute(&mut report, &windows, s);
    }
    gates(&mut report, opts);
    report.total_ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(report)
}

/// The window (statement) running when a workload statement started: the last one started
/// before it.
fn window_at(windows: &[Window], at_ms: f64) -> Option<&Window> {
    windows.iter().rev().find(|w| w.start_ms <= at_ms)
}

/// Lock modes that keep workload writes (or reads) on a table waiting: PostgreSQL SHARE and
/// stronger, MySQL/MariaDB metadata locks that block writes.
fn blocks_traffic(mode: &str) -> bool {
    LockMode::from_name(mode).is_some_and(exec::is_strong)
        || matches!(mode, "EXCLUSIVE" | "SHARED_NO_WRITE" | "SHARED_NO_READ_WRITE")
}

/// The statement that held up a workload statement on `table` from `start_ms` for `wait_ms`: the
/// one whose traffic-blocking lock on that table was held during most of the wait, else the one
/// running when it started (row locks of an UPDATE, waits the locks do not explain).
fn blocker(
    by_location: &HashMap<String, &StatementReport>,
    windows: &[Window],
    table: &str,
    start_ms: f64,
    wait_ms: f64,
) -> Option<String> {
    let end_ms = start_ms + wait_ms;
    let mut best: Option<(f64, &str)> = None;
    for w in windows.iter().filter(|w| w.start_ms < end_ms) {
        let Some(st) = by_location.get(&w.label) else { continue };
        for l in st.locks.iter().filter(|l| l.object == table && blocks_traffic(&l.mode)) {
            let held_until = w.start_ms + l.held_ms.unwrap_or(w.end_ms - w.start_ms);
            let overlap = held_until.min(end_ms) - w.start_ms.max(start_ms);
            if overlap > 0.0 && best.is_none_or(|(o, _)| overlap > o) {
                best = Some((overlap, w.label.as_str()));
            }
        }
    }
    best.map(|(_, l)| l.to_string()).or_else(|| window_at(windows, start_ms).map(|w| w.label.clone()))
}

pub(crate) fn attribute(report: &mut Report, windows: &[Window], outcome: &workload::Outcome) {
    let table_name = |ti: usize| outcome.tables.get(ti).map_or("", String::as_str);
    let by_location: HashMap<String, &StatementReport> = report.statements().map(|s| (s.location(), s)).collect();
    let blamed: Vec<Option<String>> = outcome
        .events
        .iter()
        .map(|e| blocker(&by_location, windows, table_name(e.table), e.start_ms, e.wait_ms))
        .collect();
    for (ti, table) in outcome.tables.iter().enumerate() {
        let stats = outcome.stats.get(ti).cloned().unwrap_or_default();
        let worst = (0..outcome.events.len())
            .filter(|&i| outcome.events[i].table == ti)
            .max_by(|&a, &b| outcome.events[a].wait_ms.total_cmp(&outcome.events[b].wait_ms));
        report.workload.push(TableTraffic {
            table: table.clone(),
            statements: stats.statements,
            failed: stats.failed,
            max_wait_ms: stats.max_wait_ms,
            max_wait_during: worst.and_then(|i| blamed[i].clone()),
            first_error: stats.first_error.clone(),
        });
    }
    for (e, label) in outcome.events.iter().zip(&blamed) {
        let Some(label) = label else { continue };
        for st in report.migrations.iter_mut().flat_map(|m| m.statements.iter_mut()) {
            if st.location() == *label {
                st.workload_max_wait_ms = Some(st.workload_max_wait_ms.unwrap_or(0.0).max(e.wait_ms));
                st.workload_failed += u64::from(e.failed);
            }
        }
    }
}

pub(crate) fn gates(report: &mut Report, opts: &Options) {
    report.wal_bytes = crate::wal::total(report);
    crate::wal::gate(report, opts.max_wal_mb);
    crate::replica::gate(report, opts.max_lag_ms);
    if let Some(budget) = opts.max_exclusive_ms {
        let mut found = Vec::new();
        for st in report.statements() {
            for l in &st.locks {
                // PostgreSQL ACCESS EXCLUSIVE, MySQL/MariaDB exclusive metadata lock.
                let ael = l.mode == LockMode::AccessExclusive.name() || l.mode == crate::mysql::EXCLUSIVE_MDL;
                if let (true, true, Some(ms)) = (ael, l.pre_existing, l.held_ms) {
                    if ms > budget as f64 {
                        found.push(Finding {
                            kind: "max-exclusive-ms".into(),
                            location: Some(st.location()),
                            message: format!(
                                "{} on {} {} held {:.1} ms (budget {budget} ms): reads and writes on it wait that long",
                                l.mode, l.kind, l.object, ms
                            ),
                        });
                    }
                }
            }
        }
        report.findings.extend(found);
    }
    if let Some(budget) = opts.max_blocked_ms {
        let mut found = Vec::new();
        for t in &report.workload {
            if t.max_wait_ms > budget as f64 {
                found.push(Finding {
                    kind: "max-blocked-ms".into(),
                    location: t.max_wait_during.clone(),
                    message: format!(
                        "workload traffic on {} waited {:.1} ms (budget {budget} ms); {} of {} statements failed",
                        t.table, t.max_wait_ms, t.failed, t.statements
                    ),
                });
            }
        }
        report.findings.extend(found);
    }
}

async fn check_rerun(tracer: &mut Tracer<'_>, m: &Migration) -> Result<Check> {
    let path = m.up.path.clone();
    let before = catalog::schema_snapshot(tracer.client).await?;
    let again = tracer.apply(&m.up, Some(&format!("{path} (rerun check)"))).await?;
    let mut details = Vec::new();
    if let Some(f) = again.failure {
        details.push(format!("applying it again fails at {}: {}", f.location, f.message));
    } else {
        let after = catalog::schema_snapshot(tracer.client).await?;
        details.extend(
            catalog::schema_diff(&before, &after)
                .into_iter()
                .map(|d| format!("applying it again changed the schema: {d}")),
        );
    }
    Ok(Check { kind: "rerun".into(), path, passed: details.is_empty(), details })
}

async fn check_down(
    tracer: &mut Tracer<'_>,
    m: &Migration,
    schema0: &BTreeSet<String>,
    ids0: &catalog::Identities,
) -> Result<Check> {
    let Some(down) = &m.down else {
        return Ok(Check { kind: "down".into(), path: m.up.path.clone(), passed: true, details: Vec::new() });
    };
    let path = down.path.clone();
    let after_up = catalog::schema_snapshot(tracer.client).await?;
    let mut details = Vec::new();
    let d = tracer.apply(down, Some(&format!("{path} (down check)"))).await?;
    if let Some(f) = d.failure {
        details.push(format!("the down migration fails at {}: {}", f.location, f.message));
        return Ok(Check { kind: "down".into(), path, passed: false, details });
    }
    let ids_down = catalog::identities(tracer.client).await?;
    details.extend(
        catalog::dropped(ids0, &ids_down)
            .into_iter()
            .map(|d| format!("the down migration destroys what existed before the up migration: {d}")),
    );
    let schema_down = catalog::schema_snapshot(tracer.client).await?;
    details.extend(
        catalog::schema_diff(schema0, &schema_down)
            .into_iter()
            .map(|d| format!("the schema after down differs from before up: {d}")),
    );
    let again = tracer.apply(&m.up, Some(&format!("{} (down check, up again)", m.up.path))).await?;
    if let Some(f) = again.failure {
        details.push(format!("up after down fails at {}: {}", f.location, f.message));
    } else {
        let schema_again = catalog::schema_snapshot(tracer.client).await?;
        details.extend(
            catalog::schema_diff(&after_up, &schema_again)
                .into_iter()
                .map(|d| format!("up after down gives a different schema: {d}")),
        );
    }
    Ok(Check { kind: "down".into(), path, passed: details.is_empty(), details })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LockReport;

    fn statement(line: usize, locks: &[(&str, Option<f64>)]) -> StatementReport {
        StatementReport {
            path: "m.sql".into(),
            line,
            sql: String::new(),
            observed: "transaction".into(),
            duration_ms: 0.0,
            locks: locks
                .iter()
                .map(|(mode, held_ms)| LockReport {
                    object: "public.t".into(),
                    kind: "table".into(),
                    mode: mode.to_string(),
                    pre_existing: true,
                    held_ms: *held_ms,
                })
                .collect(),
            rewrites: Vec::new(),
            workload_max_wait_ms: None,
            workload_failed: 0,
            error: None,
            wal_bytes: None,
            replica_max_lag_ms: None,
            replica_max_lag_bytes: None,
        }
    }

    fn window(line: usize, start_ms: f64, end_ms: f64) -> Window {
        Window { start_ms, end_ms, label: format!("m.sql:{line}") }
    }

    #[test]
    fn waits_are_blamed_on_the_lock_that_blocked_them() {
        // An index build that blocks no writes, a rewrite holding ACCESS EXCLUSIVE for 300 ms,
        // an update (row locks only).
        let sts = [
            statement(1, &[("SHARE UPDATE EXCLUSIVE", None)]),
            statement(2, &[("ACCESS EXCLUSIVE", Some(300.0))]),
            statement(3, &[("ROW EXCLUSIVE", None)]),
        ];
        let by: HashMap<String, &StatementReport> = sts.iter().map(|s| (s.location(), s)).collect();
        let windows = [window(1, 0.0, 100.0), window(2, 100.0, 400.0), window(3, 400.0, 450.0)];
        let blame = |table: &str, start: f64, wait: f64| blocker(&by, &windows, table, start, wait);
        // Started at the end of the index build, waited through the rewrite.
        assert_eq!(blame("public.t", 90.0, 300.0).as_deref(), Some("m.sql:2"));
        // No traffic-blocking lock explains it: the statement running when it started.
        assert_eq!(blame("public.t", 410.0, 30.0).as_deref(), Some("m.sql:3"));
        assert_eq!(blame("public.other", 90.0, 300.0).as_deref(), Some("m.sql:1"));
        assert_eq!(blame("public.t", -5.0, 1.0), None);
        // In one transaction the lock of statement 1 is held through statement 2 until commit.
        let sts = [statement(1, &[("ACCESS EXCLUSIVE", Some(400.0))]), statement(2, &[])];
        let by: HashMap<String, &StatementReport> = sts.iter().map(|s| (s.location(), s)).collect();
        let windows = [window(1, 0.0, 1.0), window(2, 1.0, 400.0)];
        assert_eq!(blocker(&by, &windows, "public.t", 50.0, 300.0).as_deref(), Some("m.sql:1"));
    }
}
