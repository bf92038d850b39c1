//! `sluice trace`: applies migrations to a real PostgreSQL server (a throwaway cluster by default)
//! and reports what each statement did: locks, rewrites, durations, how long concurrent traffic
//! waited; gates on time budgets, re-application and rollback. Output: a human report, JSON
//! (docs/trace.md) or Markdown for a pull-request comment.

use crate::DialectArg;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sluice_core::framework::FrameworkSetting;
use sluice_runner::report::Report;
use sluice_runner::wal::human_bytes;
use sluice_runner::{Error, Options, Progress};
use sluice_workspace::{Discovery, Overrides};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// A report per statement, the workload and the findings.
    Human,
    /// One JSON document (schema in docs/trace.md).
    Json,
    /// A Markdown summary for a pull-request comment.
    Markdown,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Migration files or directories (walked for `*.sql`), applied in their migration tool's
    /// order.
    #[arg(required = true)]
    pub migrations: Vec<PathBuf>,
    /// Server dialect: postgres (a throwaway PostgreSQL cluster) or mysql (a throwaway MariaDB
    /// server; with --database-url mysql://... only --in-place).
    #[arg(long, value_enum, default_value_t = DialectArg::Postgres)]
    pub dialect: DialectArg,
    /// Trace against this database (a production-like snapshot); a clone of it is used unless
    /// --in-place is given. Without it a throwaway cluster is started.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// With --database-url: apply to the database itself instead of a clone.
    #[arg(long, requires = "database_url")]
    pub in_place: bool,
    /// Restore this dump (plain SQL or pg_dump custom format) into the throwaway cluster first.
    #[arg(long, value_name = "FILE", conflicts_with = "database_url")]
    pub snapshot: Option<PathBuf>,
    /// Fill every pre-existing table the migrations touch with N synthetic rows.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_rows: u64,
    /// Concurrent clients reading and writing the touched tables during the run (0: none).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workload: usize,
    /// Statement timeout of each workload statement, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub workload_timeout_ms: u64,
    /// `lock_timeout` set for the migration (`3s`, `500ms`, or milliseconds).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration_ms)]
    pub lock_timeout: u64,
    /// Fail when an ACCESS EXCLUSIVE lock on a pre-existing table is held longer than this.
    #[arg(long, value_name = "MS")]
    pub max_exclusive_ms: Option<u64>,
    /// Fail when workload traffic waited longer than this.
    #[arg(long, value_name = "MS")]
    pub max_blocked_ms: Option<u64>,
    /// Fail when one statement, or one migration of several statements, writes more than N MB
    /// of WAL (PostgreSQL) or binlog (MySQL/MariaDB).
    #[arg(long, value_name = "N")]
    pub max_wal_mb: Option<u64>,
    /// Stream the throwaway PostgreSQL cluster to a replica (pg_basebackup -R) and report its
    /// replay lag per statement.
    #[arg(long, conflicts_with = "database_url")]
    pub replica: bool,
    /// With --replica: fail when the replica falls more than this far behind.
    #[arg(long, value_name = "MS", requires = "replica")]
    pub max_lag_ms: Option<u64>,
    /// Apply each migration a second time: it must succeed and leave the schema unchanged.
    #[arg(long)]
    pub check_rerun: bool,
    /// Up, down, up for migrations with a down part: the schema after down must equal the schema
    /// before up, and down must not drop tables or columns that existed before up.
    #[arg(long)]
    pub check_down: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Human)]
    pub format: TraceFormat,
    /// Migration tool whose conventions order the files and set their transaction mode (flyway,
    /// golang-migrate, goose, sqlx, diesel, dbmate, prisma, atlas, plain, auto). Default:
    /// `framework` of the sluice.toml nearest to the first migration path, else detected per
    /// directory.
    #[arg(long, value_name = "NAME", value_parser = str::parse::<FrameworkSetting>)]
    pub framework: Option<FrameworkSetting>,
    /// With no --framework: read `framework` from this configuration file instead of the nearest
    /// sluice.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The tool setting: --framework, else the configuration's `framework`.
fn framework(args: &TraceArgs) -> Result<FrameworkSetting, String> {
    if let Some(f) = args.framework {
        return Ok(f);
    }
    let mut discovery = Discovery::new(Overrides::default(), args.config.as_deref()).map_err(|e| format!("{e:?}"))?;
    let Some(first) = args.migrations.first() else { return Ok(FrameworkSetting::Auto) };
    discovery.for_path(first).map(|c| c.lint.settings.framework).map_err(|e| format!("{e:?}"))
}

/// `3s`, `250ms`, `1.5s` or a number of milliseconds.
pub(crate) fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a duration (3s, 500ms)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}` is not a duration (3s, 500ms)"));
    }
    Ok((v * scale).round() as u64)
}

/// Progress while the server starts and tables are seeded: the time so far and what runs.
const STARTING: &str = "{spinner} {elapsed:>4} {msg}";
/// Progress over the statements: how many have started, and the one running.
const APPLYING: &str = "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} {msg}";

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, statements: usize) {
        self.0.set_style(bar_style(APPLYING));
        self.0.set_length(statements as u64);
        self.0.set_position(0);
    }
    fn statement(&self, location: &str) {
        self.0.set_message(location.to_string());
        self.0.inc(1);
    }
    fn note(&self, message: &str) {
        self.0.set_message(message.to_string());
    }
}

pub fn run(args: &TraceArgs) -> ExitCode {
    let framework = match framework(args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Drawn only on a terminal (indicatif hides it otherwise).
    let bar = ProgressBar::new(0);
    bar.set_style(bar_style(STARTING));
    // The spinner and the elapsed time move during long statements too.
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mysql = args.dialect == DialectArg::Mysql;
    bar.set_message(if mysql { "starting MariaDB" } else { "starting PostgreSQL" });
    let opts = Options {
        inputs: args.migrations.clone(),
        database_url: args.database_url.clone(),
        in_place: args.in_place,
        snapshot: args.snapshot.clone(),
        seed_rows: args.seed_rows,
        workload_clients: args.workload,
        workload_timeout_ms: args.workload_timeout_ms,
        lock_timeout_ms: args.lock_timeout,
        max_exclusive_ms: args.max_exclusive_ms,
        max_blocked_ms: args.max_blocked_ms,
        check_rerun: args.check_rerun,
        check_down: args.check_down,
        max_wal_mb: args.max_wal_mb,
        replica: args.replica,
        max_lag_ms: args.max_lag_ms,
        mysql,
        framework,
        progress: Some(Arc::new(Bar(bar.clone()))),
    };
    let result = sluice_runner::run(&opts);
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let out = match args.format {
                TraceFormat::Human => human(&report),
                TraceFormat::Json => json(&report),
                TraceFormat::Markdown => markdown(&report),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            // Messages are built from redacted URLs only.
            eprintln!("error: {}", sluice_runner::redact::redact_text(&e.to_string()));
            match e {
                Error::Interrupted("SIGINT") => ExitCode::from(130),
                Error::Interrupted(_) => ExitCode::from(143),
                _ => ExitCode::from(2),
            }
        }
    }
}

fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn header(report: &Report) -> String {
    let target = match report.target.as_str() {
        "throwaway" if report.server.starts_with("PostgreSQL") => "throwaway cluster",
        "throwaway" => "throwaway server",
        "clone" => "clone of the given database",
        _ => "the given database, in place",
    };
    let mut s = format!("{} on {target}", report.server);
    if report.seed_rows > 0 {
        let _ = write!(s, ", {} seed rows per touched table", report.seed_rows);
    }
    if report.workload_clients > 0 {
        let _ = write!(s, ", {} workload clients", report.workload_clients);
    }
    let _ = write!(s, ", lock_timeout {} ms", report.lock_timeout_ms);
    s
}

fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "sluice trace: {}", header(report));
    for m in &report.migrations {
        let mode = if m.mode == "transaction" { "one transaction" } else { "statement by statement" };
        let _ = writeln!(out, "\n{} ({mode}, {})", m.path, ms(m.duration_ms));
        for st in &m.statements {
            let _ = writeln!(out, "  {:>5}  {:>9}  {}", st.line, ms(st.duration_ms), st.sql);
            let pad = " ".repeat(20);
            for l in &st.locks {
                let mut line = format!("{pad}lock {} on {} {}", l.mode, l.kind, l.object);
                if !l.pre_existing {
                    line.push_str(" (created by the migration)");
                }
                if let Some(h) = l.held_ms {
                    let _ = write!(line, ", held {}", ms(h));
                }
                if st.observed == "sampled" {
                    line.push_str(" [sampled]");
                }
                let _ = writeln!(out, "{line}");
            }
            if !st.rewrites.is_empty() {
                let list: Vec<String> = st.rewrites.iter().map(|r| format!("{} {}", r.kind, r.object)).collect();
                let _ = writeln!(out, "{pad}rewrites {}", list.join(", "));
            }
            if let Some(w) = st.workload_max_wait_ms {
                let _ = writeln!(out, "{pad}workload waited up to {} ({} failed)", ms(w), st.workload_failed);
            }
            if let Some(line) = wal_line(report, st) {
                let _ = writeln!(out, "{pad}{line}");
            }
            if let Some(e) = &st.error {
                let _ = writeln!(out, "{pad}error: {}", e.replace('\n', &format!("\n{pad}       ")));
            }
        }
    }
    if !report.workload.is_empty() {
        let _ = writeln!(out, "\nworkload ({} clients):", report.workload_clients);
        let width = report.workload.iter().map(|t| t.table.len()).max().unwrap_or(5).max(5);
        let _ = writeln!(
            out,
            "  {:<width$}  {:>10}  {:>6}  {:>12}  during",
            "table", "statements", "failed", "longest wait"
        );
        for t in &report.workload {
            let _ = writeln!(
                out,
                "  {:<width$}  {:>10}  {:>6}  {:>12}  {}",
                t.table,
                t.statements,
                t.failed,
                ms(t.max_wait_ms),
                t.max_wait_during.as_deref().unwrap_or("-")
            );
            if let Some(e) = &t.first_error {
                let _ = writeln!(out, "    first error: {e}");
            }
        }
    }
    if !report.algorithms.is_empty() {
        let _ = writeln!(out, "\nALTER TABLE algorithms (accepted by the server on an empty copy):");
        for a in &report.algorithms {
            let _ = writeln!(
                out,
                "  {}  {} {}{}{}",
                a.location,
                a.algorithm,
                if a.concurrent_dml { "LOCK=NONE" } else { "writes blocked" },
                if a.rebuilds_table { ", rebuilds the table" } else { "" },
                a.model.as_deref().map(|m| format!(" (static model: {m})")).unwrap_or_default()
            );
        }
    }
    if !report.checks.is_empty() {
        let _ = writeln!(out, "\nchecks:");
        for c in &report.checks {
            let _ = writeln!(out, "  {} {}: {}", c.kind, c.path, if c.passed { "ok" } else { "FAILED" });
            for d in &c.details {
                let _ = writeln!(out, "    {d}");
            }
        }
    }
    if let Some(line) = wal_summary(report) {
        let _ = writeln!(out, "\n{line}");
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nno findings ({} total)", ms(report.total_ms));
    } else {
        let _ = writeln!(out, "\nfindings:");
        for f in &report.findings {
            let loc = f.location.as_deref().map(|l| format!("{l}: ")).unwrap_or_default();
            let _ = writeln!(out, "  error[{}] {loc}{}", f.kind, f.message.replace('\n', "\n    "));
        }
    }
    out
}

/// `wrote 3.1 MB of WAL`, and the replica's lag while the statement ran, for a statement line.
fn wal_line(report: &Report, st: &sluice_runner::report::StatementReport) -> Option<String> {
    let log = if report.server.starts_with("PostgreSQL") { "WAL" } else { "binlog" };
    let mut parts = Vec::new();
    if let Some(b) = st.wal_bytes {
        parts.push(format!("wrote {} of {log}", human_bytes(b)));
    }
    if let (Some(l), Some(b)) = (st.replica_max_lag_ms, st.replica_max_lag_bytes) {
        parts.push(format!("replica lag up to {} ({} behind)", ms(l), human_bytes(b)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The run's WAL total and the replica's lag.
fn wal_summary(report: &Report) -> Option<String> {
    let log = if report.server.starts_with("PostgreSQL") { "WAL" } else { "binlog" };
    let mut lines = Vec::new();
    if let Some(b) = report.wal_bytes {
        lines.push(format!("{log} written: {}", human_bytes(b)));
    }
    if let Some(r) = &report.replica {
        let mut line = format!(
            "replica: lag up to {}, up to {} behind ({} samples)",
            ms(r.max_lag_ms),
            human_bytes(r.max_lag_bytes),
            r.samples
        );
        if let Some(c) = r.catch_up_ms {
            let _ = write!(line, ", caught up {} after the last statement", ms(c));
        }
        lines.push(line);
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'")
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let verdict = if report.passed() { "passed" } else { "failed" };
    let _ = writeln!(out, "### sluice trace {verdict}\n\n{}\n", header(report));
    if let Some(summary) = wal_summary(report) {
        let _ = writeln!(out, "{}\n", md_escape(&summary).replace('\n', "<br>\n"));
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "**Findings**\n");
        for f in &report.findings {
            let loc = f.location.as_deref().map(|l| format!("`{}` ", md_escape(l))).unwrap_or_default();
            let _ = writeln!(out, "- **{}** {loc}{}", f.kind, md_escape(&f.message));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| Statement | Duration | Locks | Rewrites | Workload wait | WAL |");
    let _ = writeln!(out, "|---|---:|---|---|---:|---:|");
    for st in report.statements() {
        let locks: Vec<String> = st
            .locks
            .iter()
            .filter(|l| l.pre_existing)
            .map(|l| match l.held_ms {
                Some(h) => format!("{} {} ({})", l.mode, md_escape(&l.object), ms(h)),
                None => format!("{} {}", l.mode, md_escape(&l.object)),
            })
            .collect();
        let rewrites: Vec<String> =
            st.rewrites.iter().filter(|r| r.pre_existing).map(|r| md_escape(&r.object)).collect();
        let wait = st.workload_max_wait_ms.map(ms).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| `{}` `{}`{} | {} | {} | {} | {} | {} |",
            md_escape(&st.location()),
            md_escape(&st.sql),
            if st.error.is_some() { " (failed)" } else { "" },
            ms(st.duration_ms),
            if locks.is_empty() { "-".into() } else { locks.join("<br>") },
            if rewrites.is_empty() { "-".into() } else { rewrites.join(", ") },
            wait,
            st.wal_bytes.map(human_bytes).unwrap_or_else(|| "-".into())
        );
    }
    if !report.workload.is_empty() {
        let _ = writeln!(out, "\n| Table | Statements | Failed | Longest wait | During |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        for t in &report.workload {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md_escape(&t.table),
                t.statements,
                t.failed,
                ms(t.max_wait_ms),
                t.max_wait_during.as_deref().map(md_escape).unwrap_or_else(|| "-".into())
            );
        }
    }
    if !report.algorithms.is_empty() {
        let _ = writeln!(out, "\n| ALTER TABLE | Algorithm | Concurrent DML | Rebuilds | Static model |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for a in &report.algorithms {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                md_escape(&a.location),
                a.algorithm,
                if a.concurrent_dml { "yes" } else { "no" },
                if a.rebuilds_table { "yes" } else { "no" },
                a.model.as_deref().unwrap_or("-")
            );
        }
    }
    for c in report.checks.iter().filter(|c| !c.passed) {
        let _ = writeln!(out, "\n<details><summary>{} check failed: {}</summary>\n", c.kind, md_escape(&c.path));
        for d in &c.details {
            let _ = writeln!(out, "- {}", md_escape(d));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("3s"), Ok(3000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1500));
        assert_eq!(parse_duration_ms("40"), Ok(40));
        assert!(parse_duration_ms("soon").is_err());
        assert!(parse_duration_ms("-1s").is_err());
    }
}
