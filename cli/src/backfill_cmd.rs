//! `sluice backfill`: a table-wide UPDATE in throttled, resumable primary-key batches
//! (docs/backfill.md). A progress bar on a terminal; Ctrl-C stops after the current batch and
//! prints the command that continues.

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sluice_runner::backfill::{self, Outcome, Progress};
use sluice_runner::redact::{redact_text, redact_url};
use sluice_runner::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackfillFormat {
    /// A summary line (and, with --dry-run, the SQL).
    Human,
    /// One JSON object with the counts.
    Json,
}

#[derive(Args, Debug)]
pub struct BackfillArgs {
    /// The database to update: `postgres://...` (or a key/value conninfo string) or
    /// `mysql://user:pass@host:port/db`. No other database is touched.
    #[arg(long, value_name = "URL")]
    pub database_url: String,
    /// The table (`name` or `schema.name`); it needs a primary key.
    #[arg(long, value_name = "TABLE")]
    pub table: String,
    /// `column = expression` (repeatable). Rows where every column already equals its
    /// expression are left alone.
    #[arg(long = "set", value_name = "ASSIGNMENT", required = true)]
    pub set: Vec<String>,
    /// Only update rows matching this condition (e.g. `region_code IS NULL`).
    #[arg(long = "where", value_name = "CONDITION")]
    pub where_clause: Option<String>,
    /// Rows per batch (each batch is its own transaction).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub batch: u64,
    /// Wait before a batch while a replica is more than S seconds behind (PostgreSQL: the
    /// primary's pg_stat_replication unless --replica-url is given; MySQL: needs --replica-url).
    #[arg(long, value_name = "S")]
    pub max_lag_seconds: Option<f64>,
    /// Read the lag on this replica (only read; never written).
    #[arg(long, value_name = "URL")]
    pub replica_url: Option<String>,
    /// Pause after every batch.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub sleep_ms: u64,
    /// Keep the update rate under R rows per second.
    #[arg(long, value_name = "R")]
    pub max_rows_per_second: Option<f64>,
    /// Lock timeout of each batch (`2s`, `500ms`; MySQL counts whole seconds).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = crate::trace_cmd::parse_duration_ms)]
    pub lock_timeout: u64,
    /// Print the batches' SQL and the estimated number of rows; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BackfillFormat::Human)]
    pub format: BackfillFormat,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, estimated_rows: u64) {
        self.0.set_length(estimated_rows.max(1));
        self.0.set_position(0);
    }
    fn batch(&self, rows_done: u64) {
        if self.0.length().is_some_and(|l| rows_done > l) {
            self.0.set_length(rows_done);
        }
        self.0.set_position(rows_done);
    }
    fn note(&self, message: &str) {
        self.0.set_message(message.to_string());
    }
}

pub fn run(args: &BackfillArgs) -> ExitCode {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} rows ({per_sec}, eta {eta}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let opts = backfill::Options {
        database_url: args.database_url.clone(),
        table: args.table.clone(),
        set: args.set.clone(),
        where_clause: args.where_clause.clone(),
        batch: args.batch,
        max_lag_seconds: args.max_lag_seconds,
        replica_url: args.replica_url.clone(),
        sleep_ms: args.sleep_ms,
        max_rows_per_second: args.max_rows_per_second,
        lock_timeout_ms: args.lock_timeout,
        dry_run: args.dry_run,
    };
    let progress: Option<Arc<dyn Progress>> = (!args.dry_run).then(|| Arc::new(Bar(bar.clone())) as Arc<dyn Progress>);
    let result = backfill::run(&opts, progress);
    bar.finish_and_clear();
    match result {
        Ok(out) => {
            let text = match args.format {
                BackfillFormat::Json => {
                    let mut s =
                        serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
                    s.push('\n');
                    s
                }
                BackfillFormat::Human => human(&out, args.dry_run),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            if out.interrupted {
                eprintln!("{}", resume_hint(&out));
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {}", redact_text(&e.to_string()));
            match e {
                Error::Interrupted(_) => {
                    eprintln!("committed batches stay done; the same command continues:\n{}", resume_command());
                    ExitCode::from(130)
                }
                _ => ExitCode::from(2),
            }
        }
    }
}

fn human(out: &Outcome, dry_run: bool) -> String {
    let mut s = String::new();
    if dry_run {
        let _ = writeln!(
            s,
            "{}: about {} rows need the change (planner estimate); batches in order of ({}):\n",
            out.table,
            out.estimated_rows,
            out.key.join(", ")
        );
        for (i, sql) in out.sql.iter().enumerate() {
            let _ = writeln!(s, "-- {}\n{sql}\n", if i == 0 { "first batch" } else { "every following batch" });
        }
        return s;
    }
    let secs = out.elapsed_ms / 1000.0;
    let rate = if secs > 0.0 { out.rows_updated as f64 / secs } else { 0.0 };
    let _ = write!(
        s,
        "{}: {} rows updated in {} batches, {secs:.1} s ({rate:.0} rows/s)",
        out.table, out.rows_updated, out.batches
    );
    if let Some(lag) = out.max_lag_seconds_seen {
        let _ = write!(s, "; replica lag up to {lag:.1} s");
        if out.lag_waits > 0 {
            let _ = write!(s, ", waited for it {} times ({:.1} s)", out.lag_waits, out.lag_wait_ms / 1000.0);
        }
    }
    if out.lock_retries > 0 {
        let _ = write!(s, "; {} batches retried after a lock timeout", out.lock_retries);
    }
    s.push('\n');
    for n in &out.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

fn resume_hint(out: &Outcome) -> String {
    format!(
        "stopped after batch {} ({} rows updated by this run); rows already done are skipped, so the same command continues:\n{}",
        out.batches,
        out.rows_updated,
        resume_command()
    )
}

/// The command line of this run, URLs redacted, quoted for a POSIX shell.
fn resume_command() -> String {
    let mut redacted = false;
    let mut words = vec!["sluice".to_string()];
    let mut url_next = false;
    for a in std::env::args().skip(1) {
        let w = if url_next {
            url_next = false;
            redact_url(&a)
        } else if let Some((flag @ ("--database-url" | "--replica-url"), v)) = a.split_once('=') {
            format!("{flag}={}", redact_url(v))
        } else {
            url_next = a == "--database-url" || a == "--replica-url";
            a.clone()
        };
        redacted |= w != a;
        words.push(shell_quote(&w));
    }
    let mut s = format!("  {}", words.join(" "));
    if redacted {
        s.push_str("\n(the password is shown as ***: put it back)");
    }
    s
}

fn shell_quote(w: &str) -> String {
    if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,%+".contains(c)) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--batch"), "--batch");
        assert_eq!(shell_quote("region = 'eu'"), "'region = '\\''eu'\\'''");
        assert_eq!(shell_quote(""), "''");
    }
}
