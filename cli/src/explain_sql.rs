//! `sluice explain-sql`: what each statement of a migration does to a running server. PostgreSQL:
//! the locks it takes, whether it scans or rewrites the table, and whether it can run in a
//! transaction block (`sluice_core::pg_locks`). MySQL/MariaDB: the algorithm the server picks,
//! whether the table is rebuilt and whether concurrent DML continues (`sluice_core::online_ddl`).

use crate::TargetArgs;
use clap::Args;
use sluice_core::{ColumnUnit, Dialect, FileContext, LineIndex, Settings, SourceText};
use sluice_workspace::{Discovery, IoError};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ExplainSqlArgs {
    /// The migration file to explain.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
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

fn run_inner(args: &ExplainSqlArgs) -> Result<String, miette::Report> {
    let overrides = args.target.overrides().map_err(|m| miette::miette!("{m}"))?;
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
