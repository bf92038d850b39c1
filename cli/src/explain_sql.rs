//! `sluice explain-sql`: what each statement of a migration does to a running server. PostgreSQL:
//! the locks it takes, whether it scans or rewrites the table, and whether it can run in a
//! transaction block (`sluice_core::pg_locks`). MySQL/MariaDB: the algorithm the server picks,
//! whether the table is rebuilt and whether concurrent DML continues (`sluice_core::online_ddl`).

use crate::TargetArgs;
use clap::Args;
use sluice_core::{ColumnUnit, Dialect, FileContext, LineIndex, Settings, SourceText};
use sluice_rules::{MigrationInput, PreparedHistory};
use sluice_workspace::migrations;
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
    // A file of a migration directory is explained against the schema the migrations before it
    // leave (a MySQL MODIFY is then judged against the column's old definition).
    if let Ok(set) = migrations::load_set(&migrations::history_root(&args.file), config.lint.settings.framework) {
        if let Some(index) = set.position(&args.file) {
            let mut configs = Vec::with_capacity(set.files.len());
            for f in &set.files {
                configs.push(discovery.for_path(&f.path)?);
            }
            let data: Vec<Vec<u8>> = set.files.iter().map(|f| std::fs::read(&f.path).unwrap_or_default()).collect();
            let inputs: Vec<MigrationInput<'_>> = set
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| MigrationInput {
                    path: f.path.display().to_string(),
                    bytes: if i == index { bytes.as_slice() } else { data[i].as_slice() },
                    entry: Some(f.entry.clone()),
                    sidecar: f.sidecar.clone(),
                    report: i == index,
                    pending: false,
                    config: &configs[i].lint,
                })
                .collect();
            let history = PreparedHistory::new(&inputs, set.framework);
            if let Some((parsed, cx)) = history.analysed(index) {
                return Ok(report(&source.text, &config.lint.settings, parsed, &cx));
            }
        }
    }
    Ok(explain(&source.text, &config.lint.settings))
}

/// The report for one file's text, on its own.
pub fn explain(text: &str, settings: &Settings) -> String {
    let parsed = sluice_core::parse_file(text, settings.dialect);
    let cx = FileContext::analyze(&parsed, settings);
    report(text, settings, &parsed, &cx)
}

fn report(text: &str, settings: &Settings, parsed: &sluice_core::ParsedFile, cx: &FileContext) -> String {
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
        let schema = cx.catalog_before(i);
        for lines in
            stmt.ops_run_now().filter_map(|op| sluice_core::explain::describe(op, settings, &state, Some(schema)))
        {
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
