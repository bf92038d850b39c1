//! `sluice drift`: compares a migration directory with a live PostgreSQL, MySQL or MariaDB
//! database: the migration tool's history table (edited applied migrations, applied versions the directory lacks, failed
//! applications, pending migrations) and the live schema against the schema the applied
//! migrations produce. Output: human or JSON (docs/drift.md). Exit 1 on drift, 2 on errors.

use crate::DialectArg;
use clap::{Args, ValueEnum};
use sluice_core::framework::{FileRole, Framework};
use sluice_core::Dialect;
use sluice_runner::drift::{self, Item, LocalMigration, Report};
use sluice_runner::redact::redact_text;
use sluice_workspace::migrations::{self, normalize};
use sluice_workspace::{Discovery, Overrides};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    Human,
    /// One JSON document (schema in docs/drift.md).
    Json,
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    /// The migration directory (default: the current directory).
    pub dir: Option<PathBuf>,
    /// The database to compare (`postgres://user:password@host/db` or a key=value string;
    /// `mysql://user:password@host:3306/db` for MySQL and MariaDB).
    #[arg(long, value_name = "URL")]
    pub database_url: String,
    /// The database's dialect (default: `mysql` for a `mysql://` or `mariadb://` URL, else the
    /// configuration's `dialect`).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Compare the history table only, not the schema (no throwaway cluster is started).
    #[arg(long)]
    pub skip_schema: bool,
    /// Exit 1 also when migrations are pending (the directory is ahead of the database).
    #[arg(long)]
    pub fail_on_pending: bool,
    /// Use this configuration file instead of discovering `sluice.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DriftFormat::Human)]
    pub format: DriftFormat,
}

/// The directory's tool, its migrations (rollback-only files left out) and the configured dialect.
fn load(dir: &Path, config: Option<&Path>) -> Result<(Framework, Vec<LocalMigration>, Dialect), String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let (setting, dialect) = match Discovery::new(Overrides::default(), config) {
        Ok(mut d) => d
            .for_path(&dir.join("sluice.sum"))
            .map(|c| (c.lint.settings.framework, c.lint.settings.dialect))
            .map_err(|e| format!("{e:?}"))?,
        Err(e) => return Err(format!("{e:?}")),
    };
    let root = normalize(dir);
    let set = migrations::load_set(&root, setting).map_err(|e| format!("{}: {e}", dir.display()))?;
    let local = set
        .files
        .iter()
        .filter(|f| f.entry.role != FileRole::Down)
        .map(|f| LocalMigration {
            version: f.entry.version.clone(),
            description: f.entry.description.clone(),
            path: f.path.clone(),
            display: f.entry.path.clone(),
            repeatable: f.entry.role == FileRole::Repeatable,
        })
        .collect();
    Ok((set.framework, local, dialect))
}

/// `--dialect`, else a `mysql://` / `mariadb://` URL means MySQL, else the configuration's.
fn dialect(flag: Option<DialectArg>, url: &str, configured: Dialect) -> Dialect {
    match flag {
        Some(DialectArg::Mysql) => Dialect::MySql,
        Some(DialectArg::Postgres) => Dialect::Postgres,
        None if url.starts_with("mysql://") || url.starts_with("mariadb://") => Dialect::MySql,
        None if url.starts_with("postgres://") || url.starts_with("postgresql://") => Dialect::Postgres,
        None => configured,
    }
}

pub fn run(args: &DriftArgs) -> ExitCode {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let (framework, migrations, configured) = match load(&dir, args.config.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}", redact_text(&e));
            return ExitCode::from(2);
        }
    };
    let dialect = dialect(args.dialect, &args.database_url, configured);
    // mysql_async reads `mysql://` URLs only.
    let database_url = match args.database_url.strip_prefix("mariadb://") {
        Some(rest) if dialect == Dialect::MySql => format!("mysql://{rest}"),
        _ => args.database_url.clone(),
    };
    let opts = drift::Options { database_url, dialect, framework, migrations, schema: !args.skip_schema };
    match drift::run(&opts) {
        Ok(report) => {
            match args.format {
                DriftFormat::Json => match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                },
                DriftFormat::Human => print!("{}", human(&report)),
            }
            if report.drift || (args.fail_on_pending && !report.pending.is_empty()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {}", redact_text(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

fn items(out: &mut String, title: &str, list: &[Item]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", list.len());
    for i in list {
        let name = match (&i.path, i.version.is_empty()) {
            (Some(p), _) => p.clone(),
            (None, false) => format!("version {} {}", i.version, i.description).trim_end().to_string(),
            (None, true) => i.description.clone(),
        };
        let _ = writeln!(out, "  {name}: {}", i.message);
    }
}

/// The human report.
pub fn human(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} history in {} of {}: {} applied, {} pending",
        r.framework,
        r.history_table,
        r.database,
        r.applied,
        r.pending.len()
    );
    items(&mut out, "changed after being applied", &r.changed);
    items(&mut out, "applied but missing from the directory", &r.missing);
    items(&mut out, "failed or dirty", &r.failed);
    items(&mut out, "pending", &r.pending);
    match &r.schema {
        None => out.push_str("schema: not compared (--skip-schema)\n"),
        Some(s) if s.differences.is_empty() => {
            let _ = writeln!(
                out,
                "schema: matches the {} applied migration(s) replayed on {}",
                s.replayed, s.replay_server
            );
        }
        Some(s) => {
            let _ = writeln!(
                out,
                "schema drift ({} difference(s) from the {} applied migration(s) replayed on {}):",
                s.differences.len(),
                s.replayed,
                s.replay_server
            );
            for d in &s.differences {
                let what = if d.side == "live-only" { "only in the database" } else { "only in the migrations" };
                let _ = writeln!(out, "  {what}: {}", d.object);
            }
        }
    }
    out.push_str(if r.drift { "drift detected\n" } else { "no drift\n" });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect_comes_from_the_flag_then_the_url_then_the_configuration() {
        let my = "mysql://root@localhost/app?socket=/tmp/s";
        assert_eq!(dialect(None, my, Dialect::Postgres), Dialect::MySql);
        assert_eq!(dialect(None, "mariadb://root@db/app", Dialect::Postgres), Dialect::MySql);
        assert_eq!(dialect(None, "postgres://app@db/app", Dialect::MySql), Dialect::Postgres);
        assert_eq!(dialect(Some(DialectArg::Postgres), my, Dialect::MySql), Dialect::Postgres);
        // A key=value string names no dialect: the configuration decides.
        assert_eq!(dialect(None, "host=/tmp dbname=app", Dialect::MySql), Dialect::MySql);
        assert_eq!(dialect(None, "host=/tmp dbname=app", Dialect::Postgres), Dialect::Postgres);
        assert_eq!(dialect(Some(DialectArg::Mysql), "host=/tmp", Dialect::Postgres), Dialect::MySql);
    }
}
