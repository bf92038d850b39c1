//! `sluice explain-sql`: what each statement of a migration does to a running server. PostgreSQL:
//! the locks it takes, whether it scans or rewrites the table, and whether it can run in a
//! transaction block (`sluice_core::pg_locks`). MySQL/MariaDB: the algorithm the server picks,
//! whether the table is rebuilt and whether concurrent DML continues (`sluice_core::online_ddl`).

use crate::DialectArg;
use clap::Args;
use sluice_core::{ColumnUnit, Dialect, FileContext, LineIndex, Settings, SourceText};
use sluice_workspace::{Discovery, IoError, Overrides};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ExplainSqlArgs {
    /// The migration file to explain.
    pub file: PathBuf,
    /// SQL dialect (overrides the configuration; default postgres).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Target PostgreSQL version, e.g. 15 or 14.3 (overrides the configuration).
    #[arg(long, value_name = "VERSION")]
    pub pg_version: Option<String>,
    /// Target MySQL/MariaDB version, e.g. 8.0.35 or mariadb-10.11 (overrides the configuration).
    #[arg(long, value_name = "VERSION")]
    pub mysql_version: Option<String>,
}

pub fn run(args: &ExplainSqlArgs) -> ExitCode {
    match run_inner(args) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`sluice explain-sql f.sql | head`) is not an error worth a panic.
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn overrides(args: &ExplainSqlArgs) -> Result<Overrides, String> {
    Ok(Overrides {
        dialect: args.dialect.map(|d| match d {
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Mysql => Dialect::MySql,
        }),
        pg_version: args.pg_version.as_deref().map(str::parse).transpose().map_err(|e| format!("--pg-version: {e}"))?,
        mysql_version: args
            .mysql_version
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| format!("--mysql-version: {e}"))?,
        assume_in_transaction: false,
        fail_on: None,
    })
}

fn run_inner(args: &ExplainSqlArgs) -> Result<String, miette::Report> {
    let overrides = overrides(args).map_err(|m| miette::miette!("{m}"))?;
    let mut discovery = Discovery::new(overrides, None)?;
    let config = discovery.for_path(&args.file)?;
    let display = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|e| IoError { path: display.clone(), message: e.to_string() })?;
    let source = SourceText::decode(&bytes).map_err(|e| IoError { path: display.clone(), message: e.to_string() })?;
    Ok(explain(&source.text, &config.lint.settings))
}

/// The report for one file's text.
pub fn explain(text: &str, settings: &Settings) -> String {
    let parsed = sluice_core::parse_file(text, settings.dialect);
    let cx = FileContext::analyze(&parsed, settings);
    let lines = LineIndex::new(text);
    let mut out = String::new();
    let target = match settings.dialect {
        Dialect::Postgres => format!("PostgreSQL {}", settings.pg_version),
        Dialect::MySql => settings.mysql_version.to_string(),
    };
    let _ = writeln!(out, "target: {target}");
    for (i, stmt) in parsed.statements.iter().enumerate() {
        let line = lines.line_col(text, stmt.span.start, ColumnUnit::Char).line + 1;
        let first = stmt.text(text).lines().next().unwrap_or_default().trim_end();
        let shown: String = if first.chars().count() > 80 {
            first.chars().take(77).chain("...".chars()).collect()
        } else {
            first.to_string()
        };
        let _ = writeln!(out, "\n{line}: {shown}");
        if !stmt.is_parsed() {
            let _ = writeln!(out, "   does not parse: not analysed");
            continue;
        }
        let state = cx.at(i);
        let mut said = false;
        for lines in stmt.ops.iter().filter_map(|op| sluice_core::explain::describe(op, settings, &state)) {
            said = true;
            for l in lines {
                let _ = writeln!(out, "   {l}");
            }
        }
        if !said {
            let _ = writeln!(out, "   no table-level effect");
        }
    }
    out
}
