//! `sluice hash` and `sluice check-integrity`, and the integrity check `sluice lint` runs on every
//! migration directory that holds a `sluice.sum`.

use crate::output::{self, FileReport};
use crate::OutputFormat;
use clap::Args;
use sluice_core::{Diagnostic, Severity, Span};
use sluice_workspace::integrity::{self, Problem, ProblemKind, SUM_FILE};
use sluice_workspace::migrations::{self, history_root, normalize, MigrationSet};
use sluice_workspace::{Discovery, Overrides};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The diagnostic name integrity problems are reported under.
pub const RULE: &str = sluice_rules::builtin::MigrationIntegrity::META.name;

#[derive(Args, Debug)]
pub struct HashArgs {
    /// Directories to search for migration directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Use this configuration file instead of discovering `sluice.toml` next to each file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Directories to search for migration directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Use this configuration file instead of discovering `sluice.toml` next to each file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().map(|c| normalize(&c)).unwrap_or_default();
    let path = normalize(path);
    let rel = path.strip_prefix(&cwd).unwrap_or(&path);
    rel.display().to_string()
}

/// The migration directories under `paths` (each directory's `*.sql` files, walked like `sluice
/// lint`), loaded in apply order; directories with no migration are left out.
fn sets(paths: &[PathBuf], config: Option<&Path>) -> Result<Vec<MigrationSet>, miette::Report> {
    let mut discovery = Discovery::new(Overrides::default(), config)?;
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let mut roots = BTreeSet::new();
    for p in &paths {
        if !p.is_dir() {
            return Err(miette::miette!("{}: not a directory", p.display()));
        }
        for entry in ignore::WalkBuilder::new(p).require_git(false).build() {
            let entry = entry.map_err(|e| miette::miette!("{}: {e}", p.display()))?;
            let path = entry.path();
            if entry.file_type().is_some_and(|t| t.is_file())
                && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql"))
                && discovery.for_path(path)?.selects(&normalize(path))
            {
                roots.insert(history_root(path));
            }
        }
    }
    let mut out = Vec::new();
    for root in roots {
        let setting = discovery.for_path(&root.join(SUM_FILE))?.lint.settings.framework;
        let set = migrations::load_set(&root, setting).map_err(|e| miette::miette!("{}: {e}", display(&root)))?;
        if !integrity::summed_files(&set).is_empty() {
            out.push(set);
        }
    }
    Ok(out)
}

/// `sluice hash`: writes `sluice.sum` in every migration directory found.
pub fn run_hash(args: &HashArgs) -> ExitCode {
    let result = (|| -> Result<(), miette::Report> {
        let sets = sets(&args.paths, args.config.as_deref())?;
        if sets.is_empty() {
            return Err(miette::miette!("no migration directory found"));
        }
        for set in sets {
            let inputs = integrity::read_inputs(&set).map_err(|e| miette::miette!("{}: {e}", display(&set.root)))?;
            let path = set.root.join(SUM_FILE);
            std::fs::write(&path, integrity::render(&inputs))
                .map_err(|e| miette::miette!("cannot write {}: {e}", display(&path)))?;
            println!("wrote {} ({} migrations, {})", display(&path), inputs.len(), set.framework.name());
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

/// `sluice check-integrity`: checks every migration directory that has a `sluice.sum`.
pub fn run_check(args: &CheckArgs) -> ExitCode {
    let result = (|| -> Result<Vec<FileReport>, miette::Report> {
        let mut reports = Vec::new();
        let mut checked = 0;
        for set in sets(&args.paths, args.config.as_deref())? {
            if let Some(found) = check_set(&set).map_err(|e| miette::miette!("{e}"))? {
                checked += 1;
                merge(&mut reports, found);
            } else {
                eprintln!("note: {} has no {SUM_FILE}; `sluice hash` writes one", display(&set.root));
            }
        }
        if checked == 0 {
            return Err(miette::miette!("no {SUM_FILE} found; `sluice hash` writes one per migration directory"));
        }
        Ok(reports)
    })();
    match result {
        Ok(mut reports) => {
            reports.sort_by(|a, b| a.path.cmp(&b.path));
            let rendered = match args.format {
                OutputFormat::Human => {
                    if reports.is_empty() {
                        "Migration directories match their sluice.sum.\n".to_string()
                    } else {
                        output::human(&reports, false, false)
                    }
                }
                other => output::render(other, &reports),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(rendered.as_bytes());
            let _ = stdout.flush();
            if reports.iter().any(|r| !r.diagnostics.is_empty()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

/// Checks `set` against its `sluice.sum`: `None` when it has none, otherwise one report per file
/// with problems (the migration file for an edit or an insertion, `sluice.sum` for the rest).
pub fn check_set(set: &MigrationSet) -> Result<Option<Vec<FileReport>>, String> {
    let sum_path = set.root.join(SUM_FILE);
    let sum_text = match std::fs::read(&sum_path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", display(&sum_path))),
    };
    let inputs = integrity::read_inputs(set).map_err(|e| format!("{}: {e}", display(&set.root)))?;
    let problems = integrity::check(&sum_text, &inputs);
    let mut reports: Vec<FileReport> = Vec::new();
    for p in problems {
        let on_file = matches!(p.kind, ProblemKind::Edited | ProblemKind::InsertedBefore);
        let (path, text, span) = match (&p.file, on_file) {
            (Some(name), true) => {
                let text = inputs
                    .iter()
                    .find(|i| &i.name == name)
                    .map(|i| String::from_utf8_lossy(&i.bytes).into_owned())
                    .unwrap_or_default();
                let end = text.find('\n').unwrap_or(text.len());
                let end = text[..end].trim_end_matches('\r').len();
                (display(&set.root.join(name)), text, Span { start: 0, end })
            }
            _ => {
                let span = line_span(&sum_text, p.sum_line);
                (display(&sum_path), sum_text.clone(), span)
            }
        };
        let diagnostic = diagnostic(&p, span);
        match reports.iter_mut().find(|r| r.path == path) {
            Some(r) => r.diagnostics.push(diagnostic),
            None => reports.push(FileReport {
                path,
                text,
                diagnostics: vec![diagnostic],
                fail_on: Severity::Error,
                fixed: 0,
                diff: String::new(),
            }),
        }
    }
    Ok(Some(reports))
}

fn diagnostic(p: &Problem, span: Span) -> Diagnostic {
    let help = match p.kind {
        ProblemKind::Edited => "`git diff` the file against the commit that last ran `sluice hash`",
        ProblemKind::Removed => "restore the file from version control",
        ProblemKind::Reordered => "rename the files back so their tool applies them in the summed order",
        ProblemKind::InsertedBefore => "rebase on the branch that added the summed migration and renumber this one",
        ProblemKind::Corrupt => "run `sluice hash` on a directory whose migrations are in their final order",
    };
    Diagnostic {
        rule: RULE,
        severity: Severity::Error,
        message: p.message.clone(),
        span,
        statement: span,
        labels: Vec::new(),
        help: Some(help.to_string()),
        fix: None,
    }
}

/// The byte span of one-based line `line` of `text`, without its line break.
fn line_span(text: &str, line: usize) -> Span {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.trim_end_matches('\n').trim_end_matches('\r');
            return Span { start, end: start + body.len() };
        }
        start += l.len();
    }
    Span { start: text.len(), end: text.len() }
}

/// Adds the integrity reports in `extra` to `reports`, into the report of the same file when
/// there is one.
pub fn merge(reports: &mut Vec<FileReport>, extra: Vec<FileReport>) {
    for e in extra {
        let want = normalize(Path::new(&e.path));
        match reports.iter_mut().find(|r| normalize(Path::new(&r.path)) == want) {
            Some(r) => {
                r.diagnostics.extend(e.diagnostics);
                r.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
            }
            None => reports.push(e),
        }
    }
}
