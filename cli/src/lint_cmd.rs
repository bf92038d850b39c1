//! `sluice lint`: collect inputs, lint them in parallel, report, pick the exit code.

use crate::output::{self, FileReport};
use crate::{ColorChoice, LevelArg, LintArgs, OutputFormat};
use rayon::prelude::*;
use sluice_core::Severity;
use sluice_workspace::{Discovery, IoError, Overrides, Resolved};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

enum Input {
    File { path: PathBuf, display: String },
    Stdin { display: String },
}

struct Job {
    input: Input,
    config: Arc<Resolved>,
}

fn overrides(args: &LintArgs) -> Result<Overrides, String> {
    Ok(Overrides {
        assume_in_transaction: args.assume_in_transaction,
        fail_on: args.fail_on.map(|l| match l {
            LevelArg::Error => Severity::Error,
            LevelArg::Warning => Severity::Warning,
            LevelArg::Info => Severity::Info,
        }),
        ..args.target.overrides()?
    })
}

fn display(path: &Path) -> String {
    let s = path.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

pub fn run(args: &LintArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &LintArgs) -> Result<ExitCode, miette::Report> {
    let overrides = overrides(args).map_err(|m| miette::miette!("{m}"))?;
    let mut discovery = Discovery::new(overrides, args.config.as_deref())?;
    let mut jobs = Vec::new();
    let mut io_errors: Vec<IoError> = Vec::new();
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    for p in &paths {
        if p.as_os_str() == "-" {
            let name = args.stdin_filename.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
            let config = discovery.for_path(&name)?;
            jobs.push(Job { input: Input::Stdin { display: display(&name) }, config });
            continue;
        }
        match std::fs::metadata(p) {
            Err(e) => io_errors.push(IoError { path: display(p), message: e.to_string() }),
            Ok(m) if m.is_dir() => walk(p, &mut discovery, &mut jobs, &mut io_errors)?,
            Ok(_) => {
                let config = discovery.for_path(p)?;
                jobs.push(Job { input: Input::File { path: p.clone(), display: display(p) }, config });
            }
        }
    }

    let mut stdin_text = None;
    if jobs.iter().any(|j| matches!(j.input, Input::Stdin { .. })) {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| IoError { path: "<stdin>".into(), message: e.to_string() })?;
        stdin_text = Some(buf);
    }

    let results: Vec<Result<FileReport, IoError>> =
        jobs.par_iter().map(|job| lint_job(job, stdin_text.as_deref(), args)).collect();
    let mut reports = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(rep) => reports.push(rep),
            Err(e) => io_errors.push(e),
        }
    }
    reports.sort_by(|a, b| a.path.cmp(&b.path));

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let rendered = match args.format {
        OutputFormat::Human => output::human(&reports, color, args.fix),
        OutputFormat::Json => output::json(&reports),
        OutputFormat::Github => output::github(&reports),
        OutputFormat::Sarif => output::sarif(&reports),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`sluice lint | head`) is not an error worth a panic.
    let _ = stdout.write_all(rendered.as_bytes());
    let _ = stdout.flush();

    for e in &io_errors {
        eprintln!("{:?}", miette::Report::new(IoError { path: e.path.clone(), message: e.message.clone() }));
    }
    if !io_errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let failing = reports.iter().any(|r| r.diagnostics.iter().any(|d| d.severity >= r.fail_on));
    Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn walk(
    root: &Path,
    discovery: &mut Discovery,
    jobs: &mut Vec<Job>,
    errors: &mut Vec<IoError>,
) -> Result<(), miette::Report> {
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(root).require_git(false).build() {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => errors.push(IoError { path: display(root), message: e.to_string() }),
        }
    }
    files.sort();
    for path in files {
        let config = discovery.for_path(&path)?;
        if config.selects(&std::path::absolute(&path).unwrap_or_else(|_| path.clone())) {
            let display = display(&path);
            jobs.push(Job { input: Input::File { path, display }, config });
        }
    }
    Ok(())
}

fn lint_job(job: &Job, stdin: Option<&[u8]>, args: &LintArgs) -> Result<FileReport, IoError> {
    let (display, bytes) = match &job.input {
        Input::Stdin { display } => (display.clone(), stdin.unwrap_or_default().to_vec()),
        Input::File { path, display } => {
            let bytes = std::fs::read(path).map_err(|e| IoError { path: display.clone(), message: e.to_string() })?;
            (display.clone(), bytes)
        }
    };
    let lint = &job.config.lint;
    let mut result = sluice_rules::lint_bytes(&bytes, lint);
    let mut fixed = 0;
    if args.fix && !result.diagnostics.iter().any(|d| d.rule == "invalid-utf8") {
        let (new_text, n) = sluice_rules::fix_text(&result.text, lint, args.unsafe_fixes);
        if n > 0 && new_text != result.text {
            fixed = n;
            match &job.input {
                Input::File { path, .. } => {
                    let mut out = Vec::with_capacity(new_text.len() + 3);
                    if result.had_bom {
                        out.extend_from_slice(b"\xEF\xBB\xBF");
                    }
                    out.extend_from_slice(new_text.as_bytes());
                    std::fs::write(path, out)
                        .map_err(|e| IoError { path: display.clone(), message: format!("cannot write fixes: {e}") })?;
                }
                Input::Stdin { .. } => print!("{new_text}"),
            }
            result = sluice_rules::lint_bytes(new_text.as_bytes(), lint);
        }
    }
    Ok(FileReport {
        path: display,
        text: result.text,
        diagnostics: result.diagnostics,
        fail_on: job.config.fail_on,
        fixed,
    })
}
