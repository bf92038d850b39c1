//! Linting a migration history: every file is parsed, the up migrations are replayed in apply
//! order into a [`Catalog`], and the files asked for are linted against the schema the earlier
//! migrations left (and the schema at the end of the history).

use crate::lint::{lint_in_context, FileLint, LintConfig};
use rayon::prelude::*;
use sluice_core::catalog::{Catalog, Origin};
use sluice_core::framework::{self, Direction, FileLayout, FileRole, Framework, MigrationEntry};
use sluice_core::{parse_file, Diagnostic, FileContext, History, ParsedFile, SourceText};
use std::sync::Arc;

/// One file of a migration history, in apply order.
pub struct MigrationInput<'a> {
    /// The path shown in messages.
    pub path: String,
    pub bytes: &'a [u8],
    /// The file as its migration tool sees it; `None` for one plain up migration.
    pub entry: Option<MigrationEntry>,
    /// Flyway's `<file>.sql.conf` or Diesel's `metadata.toml`, when present.
    pub sidecar: Option<String>,
    /// Lint and report this file (otherwise it is only replayed).
    pub report: bool,
    /// Not applied yet where the migrations run (a new file of the change set): objects it creates
    /// are new and empty.
    pub pending: bool,
    pub config: &'a LintConfig,
}

struct Prepared {
    text: String,
    had_bom: bool,
    invalid: Option<Diagnostic>,
    parsed: ParsedFile,
    layout: Option<FileLayout>,
}

fn prepare(input: &MigrationInput<'_>, framework: Framework) -> Prepared {
    let dialect = input.config.settings.dialect;
    let (text, had_bom, invalid) = match SourceText::decode(input.bytes) {
        Ok(src) => (src.text, src.had_bom, None),
        Err(e) => {
            // The invalid-utf8 diagnostic comes from the single-file path.
            let lint = crate::lint::lint_bytes(input.bytes, input.config);
            (e.lossy, false, lint.diagnostics.into_iter().next())
        }
    };
    let parsed = parse_file(&text, dialect);
    let layout =
        input.entry.as_ref().map(|e| framework::layout_for(framework, e, &text, input.sidecar.as_deref(), dialect));
    Prepared { text, had_bom, invalid, parsed, layout }
}

/// Replays the up sections of a parsed file into `catalog`.
fn replay(catalog: &mut Catalog, p: &Prepared, role: Option<FileRole>, origin: &Origin) {
    if p.invalid.is_none() {
        replay_parsed(catalog, &p.parsed, p.layout.as_ref(), role, origin);
    }
}

fn replay_parsed(
    catalog: &mut Catalog,
    parsed: &ParsedFile,
    layout: Option<&FileLayout>,
    role: Option<FileRole>,
    origin: &Origin,
) {
    if role == Some(FileRole::Down) {
        return;
    }
    for stmt in parsed.statements.iter().filter(|s| s.is_parsed()) {
        let up = layout.and_then(|l| l.section_at(stmt.span.start)).is_none_or(|s| s.direction == Direction::Up);
        if up {
            for op in stmt.ops_run_now() {
                catalog.apply(op, origin);
            }
        }
    }
}

/// A history parsed and replayed once: any of its files can then be linted, with its text as on
/// disk or edited (while fixing, or an editor's unsaved buffer).
pub struct PreparedHistory<'a> {
    inputs: &'a [MigrationInput<'a>],
    framework: Framework,
    prepared: Vec<Prepared>,
    /// The schema before each reported file.
    before: Vec<Option<Catalog>>,
    /// The analysis of each reported file whose schema after it was taken from that analysis
    /// instead of a replay (see [`PreparedHistory::new`]).
    contexts: Vec<Option<FileContext>>,
    end: Catalog,
    /// Per input: the tool pairs it with a down file and none is in the history.
    missing_down: Vec<bool>,
}

/// Whether the tool expects `entry` to have a down file next to it: golang-migrate pairs every
/// `.up.sql`, sqlx's reversible migrations come as `.up.sql`/`.down.sql`, diesel migration
/// directories hold `up.sql` and `down.sql`.
fn expects_down(framework: Framework, entry: &MigrationEntry) -> bool {
    entry.role == FileRole::Versioned
        && match framework {
            Framework::GolangMigrate | Framework::Sqlx => entry.path.ends_with(".up.sql"),
            Framework::Diesel => entry.path.rsplit('/').next() == Some("up.sql"),
            _ => false,
        }
}

fn missing_downs(inputs: &[MigrationInput<'_>], framework: Framework) -> Vec<bool> {
    let downs: std::collections::HashSet<&str> = inputs
        .iter()
        .filter_map(|i| i.entry.as_ref())
        .filter(|e| e.role == FileRole::Down)
        .map(|e| e.version.as_str())
        .collect();
    inputs
        .iter()
        .map(|i| i.entry.as_ref().is_some_and(|e| expects_down(framework, e) && !downs.contains(e.version.as_str())))
        .collect()
}

/// Whether the analysis of `p` leaves the schema a replay of it would: the file is applied as an
/// up migration from its first statement to its last (no down section, not a down file, valid).
fn analysis_is_replay(p: &Prepared, role: Option<FileRole>) -> bool {
    p.invalid.is_none()
        && role != Some(FileRole::Down)
        && p.layout.as_ref().is_none_or(|l| l.sections.iter().all(|s| s.direction == Direction::Up))
}

impl<'a> PreparedHistory<'a> {
    /// Parses every input (in parallel) and replays the up migrations in order.
    ///
    /// A reported file whose analysis applies exactly what its replay would is analysed here,
    /// in order, recording what it creates as the replay does ([`History::record_as`]); the
    /// schema after that analysis is the schema before the next file, so its statements are
    /// applied once instead of twice. The other files are replayed, and reported ones analysed
    /// when they are linted.
    pub fn new(inputs: &'a [MigrationInput<'a>], framework: Framework) -> Self {
        let prepared: Vec<Prepared> = inputs.par_iter().map(|i| prepare(i, framework)).collect();
        let dialect = inputs.first().map(|i| i.config.settings.dialect).unwrap_or_default();
        let missing_down = missing_downs(inputs, framework);
        let mut catalog = Catalog::new(dialect);
        let mut before = Vec::with_capacity(inputs.len());
        let mut contexts = Vec::with_capacity(inputs.len());
        for (i, (input, p)) in inputs.iter().zip(&prepared).enumerate() {
            before.push(input.report.then(|| catalog.clone()));
            let origin = Origin { file: Some(Arc::from(input.path.as_str())), pending: input.pending };
            let role = input.entry.as_ref().map(|e| e.role);
            if input.report && analysis_is_replay(p, role) {
                let history = History {
                    before: Some(&catalog),
                    end: None,
                    framework,
                    layout: p.layout.as_ref(),
                    pending: true,
                    missing_down: missing_down.get(i).copied().unwrap_or(false),
                    record_as: Some(origin),
                };
                let fcx = FileContext::analyze_in(&p.parsed, &input.config.settings, &history);
                catalog = fcx.catalog_after().clone();
                contexts.push(Some(fcx));
            } else {
                replay(&mut catalog, p, role, &origin);
                contexts.push(None);
            }
        }
        for fcx in contexts.iter_mut().flatten() {
            fcx.set_history_end(&catalog);
        }
        PreparedHistory { inputs, framework, prepared, before, contexts, end: catalog, missing_down }
    }

    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// Lints input `index` as it is on disk; `None` unless the input was marked `report`.
    pub fn lint(&self, index: usize) -> Option<FileLint> {
        let p = self.prepared.get(index)?;
        let before = self.before.get(index)?.as_ref()?;
        if let Some(d) = &p.invalid {
            return Some(FileLint { text: p.text.clone(), had_bom: p.had_bom, diagnostics: vec![d.clone()] });
        }
        let diagnostics = match self.contexts.get(index).and_then(Option::as_ref) {
            Some(fcx) => lint_in_context(&p.parsed, fcx, self.inputs.get(index)?.config),
            None => self.lint_parsed(index, &p.parsed, p.layout.as_ref(), before),
        };
        Some(FileLint { text: p.text.clone(), had_bom: p.had_bom, diagnostics })
    }

    /// Lints `text` in place of input `index` (which must be marked `report`).
    pub fn lint_text(&self, index: usize, text: &str) -> Vec<Diagnostic> {
        let Some(input) = self.inputs.get(index) else { return Vec::new() };
        let Some(before) = self.before.get(index).and_then(|b| b.as_ref()) else { return Vec::new() };
        let parsed = parse_file(text, input.config.settings.dialect);
        let dialect = input.config.settings.dialect;
        let layout = input
            .entry
            .as_ref()
            .map(|e| framework::layout_for(self.framework, e, text, input.sidecar.as_deref(), dialect));
        self.lint_parsed(index, &parsed, layout.as_ref(), before)
    }

    /// Lints `text`, already parsed as `parsed`, in place of input `index` (which must be marked
    /// `report`). Unlike [`lint_text`](Self::lint_text), the schema at the end of the history is
    /// replayed again with this text in place of the file's, so the result equals linting the
    /// history with the file saved as `text`.
    pub fn lint_edited(&self, index: usize, text: &str, parsed: &ParsedFile) -> Vec<Diagnostic> {
        let Some(input) = self.inputs.get(index) else { return Vec::new() };
        match self.context_edited(index, text, parsed, None) {
            Some(fcx) => lint_in_context(parsed, &fcx, input.config),
            None => Vec::new(),
        }
    }

    /// The analysed context [`lint_edited`](Self::lint_edited) lints `text` (parsed as `parsed`)
    /// in, as input `index`; `None` unless the input is marked `report`. `previous` is the
    /// context this method returned for an earlier text of the same input, with that text's
    /// parse: the statements an edit left alone keep their analysis
    /// ([`FileContext::reanalyze`]).
    pub fn context_edited(
        &self,
        index: usize,
        text: &str,
        parsed: &ParsedFile,
        previous: Option<(&FileContext, &ParsedFile)>,
    ) -> Option<FileContext> {
        let input = self.inputs.get(index)?;
        let before = self.before.get(index)?.as_ref()?;
        let dialect = input.config.settings.dialect;
        let layout = input
            .entry
            .as_ref()
            .map(|e| framework::layout_for(self.framework, e, text, input.sidecar.as_deref(), dialect));
        // The last file's end-of-history schema is its own end state, which the file context
        // computes anyway: only replay when later migrations follow.
        let last = index + 1 >= self.inputs.len();
        let mut end = if last { Catalog::new(dialect) } else { before.clone() };
        for (i, (inp, p)) in self.inputs.iter().zip(&self.prepared).enumerate().skip(index).filter(|_| !last) {
            let origin = Origin { file: Some(Arc::from(inp.path.as_str())), pending: inp.pending };
            let role = inp.entry.as_ref().map(|e| e.role);
            if i == index {
                replay_parsed(&mut end, parsed, layout.as_ref(), role, &origin);
            } else {
                replay(&mut end, p, role, &origin);
            }
        }
        let history = History {
            before: Some(before),
            end: (!last).then_some(&end),
            framework: self.framework,
            layout: layout.as_ref(),
            pending: true,
            missing_down: self.missing_down.get(index).copied().unwrap_or(false),
            record_as: None,
        };
        let settings = &input.config.settings;
        Some(match previous {
            Some((fcx, file)) => FileContext::reanalyze(parsed, settings, &history, fcx, file),
            None => FileContext::analyze_in(parsed, settings, &history),
        })
    }

    /// Input `index` (marked `report`) as on disk, parsed, with its analysed context: the schema
    /// before each statement, sections and transaction modes.
    pub fn analysed(&self, index: usize) -> Option<(&ParsedFile, FileContext)> {
        let (input, p) = (self.inputs.get(index)?, self.prepared.get(index)?);
        let before = self.before.get(index)?.as_ref()?;
        let history = History {
            before: Some(before),
            end: Some(&self.end),
            framework: self.framework,
            layout: p.layout.as_ref(),
            pending: true,
            missing_down: self.missing_down.get(index).copied().unwrap_or(false),
            record_as: None,
        };
        Some((&p.parsed, FileContext::analyze_in(&p.parsed, &input.config.settings, &history)))
    }

    fn lint_parsed(
        &self,
        index: usize,
        parsed: &ParsedFile,
        layout: Option<&FileLayout>,
        before: &Catalog,
    ) -> Vec<Diagnostic> {
        let Some(input) = self.inputs.get(index) else { return Vec::new() };
        let history = History {
            before: Some(before),
            end: Some(&self.end),
            framework: self.framework,
            layout,
            pending: true,
            missing_down: self.missing_down.get(index).copied().unwrap_or(false),
            record_as: None,
        };
        let fcx = FileContext::analyze_in(parsed, &input.config.settings, &history);
        lint_in_context(parsed, &fcx, input.config)
    }
}

/// Lints the files of one migration history. `inputs` are in apply order; the result has one
/// entry per input, `Some` for the inputs with `report` set.
pub fn lint_history(inputs: &[MigrationInput<'_>], framework: Framework) -> Vec<Option<FileLint>> {
    let h = PreparedHistory::new(inputs, framework);
    (0..inputs.len()).into_par_iter().map(|i| h.lint(i)).collect()
}
