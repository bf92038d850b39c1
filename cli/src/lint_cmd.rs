//! `sluice lint`: collect inputs, lint them in parallel, report, pick the exit code.

use crate::changed::{self, ChangeSet};
use crate::output::{self, FileReport};
use crate::{ColorChoice, LevelArg, LintArgs, OutputFormat};
use rayon::prelude::*;
use sluice_core::Severity;
use sluice_rules::{MigrationInput, PreparedHistory};
use sluice_workspace::migrations::{self, history_root, MigrationSet};
use sluice_workspace::{Discovery, IoError, Overrides, Resolved};
use std::collections::{BTreeMap, HashMap};
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

    let changes = match (&args.changed_since, &args.changed_files_from) {
        (Some(rev), _) => Some(changed::since(rev).map_err(|m| miette::miette!("{m}"))?),
        (None, Some(file)) => Some(changed::from_list(file).map_err(|m| miette::miette!("{m}"))?),
        (None, None) => None,
    };

    // Files of one migration directory are linted together, against the schema the migrations
    // before them produce; everything else (stdin, files no tool would run) on its own.
    let mut groups: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    let mut standalone = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        match &job.input {
            Input::File { path, .. } => groups.entry(history_root(path)).or_default().push(i),
            Input::Stdin { .. } => standalone.push(i),
        }
    }
    let mut results: Vec<Result<FileReport, IoError>> = Vec::new();
    let mut diffs = String::new();
    let mut integrity_reports = Vec::new();
    // Migration directories are planned in order (config discovery caches as it goes), then
    // linted: small ones in parallel with each other (one directory's replay runs while others
    // parse), large ones one at a time, since each already lints its files in parallel and two
    // large histories in memory at once would double the peak.
    let mut planned = Vec::new();
    for (root, members) in groups {
        let setting = discovery.for_path(&root)?.lint.settings.framework;
        let set = match migrations::load_set(&root, setting) {
            Ok(set) if !set.files.is_empty() => set,
            _ => {
                standalone.extend(members);
                continue;
            }
        };
        let positions = set.positions();
        let mut in_set: HashMap<usize, usize> = HashMap::new();
        for &j in &members {
            let Input::File { path, .. } = &jobs[j].input else { continue };
            match positions.get(&migrations::normalize(path)).copied() {
                Some(pos) => {
                    in_set.insert(pos, j);
                }
                None => standalone.push(j),
            }
        }
        let mut configs: Vec<Arc<Resolved>> = Vec::with_capacity(set.files.len());
        for (pos, f) in set.files.iter().enumerate() {
            configs.push(match in_set.get(&pos) {
                Some(&j) => jobs[j].config.clone(),
                None => discovery.for_file(&f.path)?,
            });
        }
        planned.push((set, in_set, configs));
    }
    const LARGE_SET: usize = 64;
    let lint_one = |(set, in_set, configs): &(MigrationSet, HashMap<usize, usize>, Vec<Arc<Resolved>>)| {
        let reports = lint_set(set, in_set, configs, &jobs, changes.as_ref(), args);
        (reports, crate::integrity::check_set(set))
    };
    let (large, small): (Vec<usize>, Vec<usize>) =
        (0..planned.len()).partition(|&i| planned[i].0.files.len() >= LARGE_SET);
    let mut linted: Vec<Option<_>> = (0..planned.len()).map(|_| None).collect();
    for i in large {
        linted[i] = Some(lint_one(&planned[i]));
    }
    let small: Vec<_> = small.into_par_iter().map(|i| (i, lint_one(&planned[i]))).collect();
    for (i, r) in small {
        linted[i] = Some(r);
    }
    let linted: Vec<_> = linted.into_iter().flatten().collect();
    for ((set, _, _), (reports, integrity)) in planned.iter().zip(linted) {
        results.extend(reports);
        match integrity {
            Ok(found) => integrity_reports.extend(found.into_iter().flatten()),
            Err(message) => io_errors.push(IoError { path: display(&set.root), message }),
        }
    }
    let standalone: Vec<&Job> = standalone
        .into_iter()
        .map(|i| &jobs[i])
        .filter(|j| match (&j.input, &changes) {
            (Input::File { path, .. }, Some(c)) => c.reports(path),
            _ => true,
        })
        .collect();
    results.par_extend(standalone.par_iter().map(|job| lint_job(job, stdin_text.as_deref(), args)));
    let mut reports = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(rep) => reports.push(rep),
            Err(e) => io_errors.push(e),
        }
    }
    if args.diff {
        for r in &reports {
            diffs.push_str(&r.diff);
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(diffs.as_bytes());
        let _ = stdout.flush();
        for e in &io_errors {
            eprintln!("{:?}", miette::Report::new(IoError { path: e.path.clone(), message: e.message.clone() }));
        }
        if !io_errors.is_empty() {
            return Ok(ExitCode::from(2));
        }
        return Ok(if diffs.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    crate::integrity::merge(&mut reports, integrity_reports);
    reports.sort_by(|a, b| a.path.cmp(&b.path));

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // Human, GitHub, JSON and SARIF reports are written while they are produced (a large run's
    // report is tens of megabytes).
    let streamed =
        matches!(args.format, OutputFormat::Human | OutputFormat::Github | OutputFormat::Json | OutputFormat::Sarif);
    let rendered = if streamed { String::new() } else { output::render(args.format, &reports) };
    if args.format == OutputFormat::Github {
        if let Err(message) = output::append_step_summary(&reports) {
            io_errors.push(IoError { path: "GITHUB_STEP_SUMMARY".into(), message });
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`sluice lint | head`) is not an error worth a panic.
    if streamed {
        // Large writes: a report of tens of megabytes in a few thousand system calls.
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut stdout);
        let _ = match args.format {
            OutputFormat::Sarif => output::write_sarif(&reports, &mut w),
            OutputFormat::Human => output::write_human(&reports, color, args.fix, &mut w),
            OutputFormat::Github => output::write_github(&reports, &mut w),
            _ => output::write_json(&reports, &mut w),
        };
        let _ = w.flush();
    } else {
        let _ = stdout.write_all(rendered.as_bytes());
    }
    let _ = stdout.flush();

    for e in &io_errors {
        eprintln!("{:?}", miette::Report::new(IoError { path: e.path.clone(), message: e.message.clone() }));
    }
    if !io_errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let failing = reports.iter().any(|r| r.diagnostics.iter().any(|d| d.severity >= r.fail_on));
    // The process exits next: handing every report back to the allocator would only cost time.
    std::mem::forget(reports);
    Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn walk(
    root: &Path,
    discovery: &mut Discovery,
    jobs: &mut Vec<Job>,
    errors: &mut Vec<IoError>,
) -> Result<(), miette::Report> {
    let mut files = Vec::new();
    // Symlinked migrations are linted like the files they point to; a symlink loop is an error
    // naming it, and the rest of the tree is still walked.
    // Each directory's entries in name order: the walk then yields paths in `Path` order, without
    // sorting them all afterwards (component by component, which cost more than the walk).
    let walker =
        ignore::WalkBuilder::new(root).require_git(false).follow_links(true).sort_by_file_name(|a, b| a.cmp(b)).build();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => errors.push(IoError { path: display(root), message: e.to_string() }),
        }
    }
    debug_assert!(files.is_sorted());
    for path in files {
        let config = discovery.for_file(&path)?;
        if config.selects(&sluice_workspace::absolute(&path)) {
            let display = display(&path);
            jobs.push(Job { input: Input::File { path, display }, config });
        }
    }
    Ok(())
}

/// Lints the reported files of one migration set, replaying all of it.
fn lint_set(
    set: &MigrationSet,
    in_set: &HashMap<usize, usize>,
    configs: &[Arc<Resolved>],
    jobs: &[Job],
    changes: Option<&ChangeSet>,
    args: &LintArgs,
) -> Vec<Result<FileReport, IoError>> {
    let mut results = Vec::new();
    let cwd = sluice_workspace::current_dir();
    let bytes: Vec<Result<Vec<u8>, String>> =
        set.files.par_iter().map(|f| std::fs::read(&f.path).map_err(|e| e.to_string())).collect();
    let mut inputs = Vec::with_capacity(set.files.len());
    let mut index_of_job = Vec::new();
    for (pos, f) in set.files.iter().enumerate() {
        let job = in_set.get(&pos).copied();
        let data = match &bytes[pos] {
            Ok(b) => b.as_slice(),
            Err(e) => {
                if let Some(j) = job {
                    results.push(Err(IoError { path: job_display(&jobs[j]), message: e.clone() }));
                }
                continue;
            }
        };
        let report = job.is_some() && changes.is_none_or(|c| c.reports(&f.path));
        if report {
            index_of_job.push((inputs.len(), job.unwrap_or_default()));
        }
        inputs.push(MigrationInput {
            path: display(f.path.strip_prefix(&cwd).unwrap_or(&f.path)),
            bytes: data,
            entry: Some(f.entry.clone()),
            sidecar: f.sidecar.clone(),
            report,
            pending: changes.is_some_and(|c| c.is_new(&f.path)),
            config: &configs[pos].lint,
        });
    }
    let history = PreparedHistory::new(&inputs, set.framework);
    let linted: Vec<Result<FileReport, IoError>> = index_of_job
        .par_iter()
        .map(|&(i, j)| {
            let job = &jobs[j];
            let Some(result) = history.lint(i) else {
                return Err(IoError { path: job_display(job), message: "not linted".into() });
            };
            finish(job, result, args, |t| history.lint_text(i, t))
        })
        .collect();
    results.extend(linted);
    results
}

fn job_display(job: &Job) -> String {
    match &job.input {
        Input::File { display, .. } | Input::Stdin { display } => display.clone(),
    }
}

fn lint_job(job: &Job, stdin: Option<&[u8]>, args: &LintArgs) -> Result<FileReport, IoError> {
    let (_, bytes) = match &job.input {
        Input::Stdin { display } => (display.clone(), stdin.unwrap_or_default().to_vec()),
        Input::File { path, display } => {
            let bytes = std::fs::read(path).map_err(|e| IoError { path: display.clone(), message: e.to_string() })?;
            (display.clone(), bytes)
        }
    };
    let lint = &job.config.lint;
    let result = sluice_rules::lint_bytes(&bytes, lint);
    finish(job, result, args, |t| sluice_rules::lint_text(t, lint))
}

/// Applies fixes (`--fix`), or renders them as a diff (`--diff`), and builds the report.
fn finish(
    job: &Job,
    mut result: sluice_rules::FileLint,
    args: &LintArgs,
    relint: impl Fn(&str) -> Vec<sluice_core::Diagnostic>,
) -> Result<FileReport, IoError> {
    let display = job_display(job);
    let mut fixed = 0;
    let mut diff = String::new();
    if (args.fix || args.diff) && !result.diagnostics.iter().any(|d| d.rule == "invalid-utf8") {
        let (new_text, n) = sluice_rules::fix_text_with(&result.text, args.unsafe_fixes, &relint);
        if args.diff {
            if new_text != result.text {
                diff = similar::TextDiff::from_lines(&result.text, &new_text)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{display}"), &format!("b/{display}"))
                    .to_string();
            }
        } else if n > 0 && new_text != result.text {
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
            result.diagnostics = relint(&new_text);
            result.text = new_text;
        }
    }
    Ok(FileReport {
        path: display,
        text: result.text,
        diagnostics: result.diagnostics,
        fail_on: job.config.fail_on,
        fixed,
        diff,
    })
}
