//! Finding and loading `sluice.toml`, with errors that name the file, line and key.

use globset::{Glob, GlobSet, GlobSetBuilder};
use miette::{Diagnostic, NamedSource, SourceSpan};
use sluice_core::config::Config;
use sluice_core::{Settings, Severity};
use sluice_rules::LintConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_FILE: &str = "sluice.toml";

/// A configuration error, rendered by miette with the offending line.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{path}:{line}:{column}: {what}")]
#[diagnostic(code(sluice::config))]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub what: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

/// An error reading a file or directory.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{path}: {message}")]
#[diagnostic(code(sluice::io))]
pub struct IoError {
    pub path: String,
    pub message: String,
}

/// Settings for files under one configuration.
#[derive(Debug)]
pub struct Resolved {
    pub lint: LintConfig,
    pub fail_on: Severity,
    /// Directory the include/exclude globs are relative to.
    pub root: PathBuf,
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
}

impl Resolved {
    /// Whether a file found by walking a directory is linted.
    pub fn selects(&self, path: &Path) -> bool {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        if self.exclude.as_ref().is_some_and(|g| g.is_match(rel)) {
            return false;
        }
        match &self.include {
            Some(g) => g.is_match(rel),
            None => path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql")),
        }
    }
}

/// Command-line overrides applied on top of every configuration.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub dialect: Option<sluice_core::Dialect>,
    pub pg_version: Option<sluice_core::PgVersion>,
    pub mysql_version: Option<sluice_core::MySqlVersion>,
    pub assume_in_transaction: bool,
    pub fail_on: Option<Severity>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let idx = sluice_core::LineIndex::new(text);
    let lc = idx.line_col(text, offset, sluice_core::ColumnUnit::Char);
    (lc.line + 1, lc.col + 1)
}

fn config_error(
    path: &Path,
    text: &str,
    span: Option<sluice_core::Span>,
    what: String,
    label: String,
    help: Option<String>,
) -> ConfigError {
    let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
    ConfigError {
        path: path.display().to_string(),
        line,
        column,
        what,
        src: NamedSource::new(path.display().to_string(), text.to_string()),
        span: span.map(|s| SourceSpan::from(s.start..s.end.max(s.start))),
        label,
        help,
    }
}

fn globset(path: &Path, text: &str, globs: &[String]) -> Result<Option<GlobSet>, Box<ConfigError>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g)
            .map_err(|e| config_error(path, text, None, format!("invalid glob `{g}`: {e}"), String::new(), None))?;
        b.add(glob);
    }
    b.build()
        .map(Some)
        .map_err(|e| Box::new(config_error(path, text, None, format!("invalid globs: {e}"), String::new(), None)))
}

/// Loads one configuration file and applies the overrides.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Resolved, miette::Report> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError {
        path: path.display().to_string(),
        message: format!("cannot read configuration: {e}"),
    })?;
    let cfg = Config::parse(&text).map_err(|e| {
        let key = e.key.clone().unwrap_or_else(|| "?".into());
        config_error(
            path,
            &text,
            e.span,
            format!("invalid configuration at `{key}`: {}", e.message),
            e.message.clone(),
            None,
        )
    })?;
    let mut lint = LintConfig::from_config(&cfg, Settings::default()).map_err(|u| {
        config_error(
            path,
            &text,
            Some(u.span),
            format!("invalid configuration at `rules.{}`: unknown rule `{}`", u.name, u.name),
            "unknown rule".into(),
            Some(match u.suggestion {
                Some(s) => format!("did you mean `{s}`? `sluice rules` lists every rule"),
                None => "`sluice rules` lists every rule".into(),
            }),
        )
    })?;
    apply(&mut lint, overrides);
    let root = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(Resolved {
        fail_on: overrides.fail_on.or(cfg.fail_on).unwrap_or(Severity::Warning),
        include: globset(path, &text, &cfg.include).map_err(|e| miette::Report::new(*e))?,
        exclude: globset(path, &text, &cfg.exclude).map_err(|e| miette::Report::new(*e))?,
        lint,
        root,
    })
}

fn apply(lint: &mut LintConfig, o: &Overrides) {
    if let Some(d) = o.dialect {
        lint.settings.dialect = d;
    }
    if let Some(v) = o.pg_version {
        lint.settings.pg_version = v;
    }
    if let Some(v) = o.mysql_version {
        lint.settings.mysql_version = v;
    }
    if o.assume_in_transaction {
        lint.settings.assume_in_transaction = true;
    }
}

/// Configuration discovery with a per-directory cache.
pub struct Discovery {
    overrides: Overrides,
    explicit: Option<Arc<Resolved>>,
    by_dir: HashMap<PathBuf, Arc<Resolved>>,
    default: Arc<Resolved>,
}

/// The directory holding the file at `abs` (`abs` itself when it has no parent).
fn parent_or_self(abs: PathBuf) -> PathBuf {
    abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf)
}

impl Discovery {
    pub fn new(overrides: Overrides, explicit: Option<&Path>) -> Result<Discovery, miette::Report> {
        let explicit = match explicit {
            Some(p) => Some(Arc::new(load(p, &overrides)?)),
            None => None,
        };
        let mut lint = LintConfig::default();
        apply(&mut lint, &overrides);
        let default = Arc::new(Resolved {
            lint,
            fail_on: overrides.fail_on.unwrap_or(Severity::Warning),
            root: PathBuf::from("."),
            include: None,
            exclude: None,
        });
        Ok(Discovery { overrides, explicit, by_dir: HashMap::new(), default })
    }

    /// The configuration for a file (or for files in a directory): the nearest `sluice.toml`
    /// walking up from its directory.
    pub fn for_path(&mut self, path: &Path) -> Result<Arc<Resolved>, miette::Report> {
        let abs = crate::absolute(path);
        // With an explicit configuration the directory does not matter: no need to ask.
        let dir = if self.explicit.is_none() && abs.is_dir() { abs } else { parent_or_self(abs) };
        self.for_dir(dir)
    }

    /// [`for_path`](Self::for_path) for a path known to be a file (a directory walk's entry),
    /// without asking the file system whether it is a directory.
    pub fn for_file(&mut self, path: &Path) -> Result<Arc<Resolved>, miette::Report> {
        self.for_dir(parent_or_self(crate::absolute(path)))
    }

    /// The configuration that applies in directory `start`.
    fn for_dir(&mut self, start: PathBuf) -> Result<Arc<Resolved>, miette::Report> {
        if let Some(e) = &self.explicit {
            return Ok(e.clone());
        }
        let mut visited = Vec::new();
        let mut dir = Some(start.as_path());
        let mut found = None;
        while let Some(d) = dir {
            if let Some(r) = self.by_dir.get(d) {
                found = Some(r.clone());
                break;
            }
            visited.push(d.to_path_buf());
            let candidate = d.join(CONFIG_FILE);
            if candidate.is_file() {
                found = Some(Arc::new(load(&candidate, &self.overrides)?));
                break;
            }
            dir = d.parent();
        }
        let resolved = found.unwrap_or_else(|| self.default.clone());
        for d in visited {
            self.by_dir.insert(d, resolved.clone());
        }
        Ok(resolved)
    }
}
