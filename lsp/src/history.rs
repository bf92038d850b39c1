//! Migration histories of open documents: the files of a migration directory parsed and replayed
//! once (a [`PreparedHistory`]), so an edited file is linted against the schema the migrations
//! before it leave, exactly as `sluice lint <dir>` lints it.

use self_cell::self_cell;
use sluice_core::framework::{Framework, MigrationEntry};
use sluice_core::{Diagnostic, FileContext, ParsedFile};
use sluice_rules::{LintConfig, MigrationInput, PreparedHistory};
use sluice_workspace::migrations::{self, normalize};
use sluice_workspace::{Discovery, Overrides};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the inputs of a history borrow: file contents and per-file configuration.
struct Owned {
    files: Vec<OwnedFile>,
}

struct OwnedFile {
    path: String,
    bytes: Vec<u8>,
    entry: MigrationEntry,
    sidecar: Option<String>,
    config: LintConfig,
}

type Inputs<'a> = Vec<MigrationInput<'a>>;

self_cell!(
    struct InputsCell {
        owner: Owned,
        #[covariant]
        dependent: Inputs,
    }
);

type Prepared<'a> = PreparedHistory<'a>;

self_cell!(
    struct HistoryCell {
        owner: InputsCell,
        #[covariant]
        dependent: Prepared,
    }
);

/// One migration directory, parsed and replayed.
pub struct SetHistory {
    pub root: PathBuf,
    pub framework: Framework,
    /// Normalized paths of the migrations, in apply order.
    pub files: Vec<PathBuf>,
    cell: HistoryCell,
}

impl SetHistory {
    /// Loads the migration set rooted at `root`, resolving each file's configuration as the CLI
    /// does. `open` holds the editor's text of open documents (by normalized path); it replaces
    /// the file on disk. `None` when `root` holds no migration set or its configuration cannot
    /// be loaded.
    pub fn load(root: &Path, open: &HashMap<PathBuf, String>) -> Option<SetHistory> {
        let mut discovery = Discovery::new(Overrides::default(), None).ok()?;
        let setting = discovery.for_path(root).ok()?.lint.settings.framework;
        let set = migrations::load_set(root, setting).ok()?;
        if set.files.is_empty() {
            return None;
        }
        let mut files = Vec::with_capacity(set.files.len());
        let mut paths = Vec::with_capacity(set.files.len());
        for f in set.files {
            let path = normalize(&f.path);
            let bytes = match open.get(&path) {
                Some(text) => text.clone().into_bytes(),
                // A file that cannot be read is left out of the history, as the CLI does.
                None => match std::fs::read(&f.path) {
                    Ok(b) => b,
                    Err(_) => continue,
                },
            };
            let config = discovery.for_path(&f.path).ok()?.lint.clone();
            files.push(OwnedFile {
                path: f.path.display().to_string(),
                bytes,
                entry: f.entry,
                sidecar: f.sidecar,
                config,
            });
            paths.push(path);
        }
        let framework = set.framework;
        let inputs = InputsCell::new(Owned { files }, |owned| {
            owned
                .files
                .iter()
                .map(|f| MigrationInput {
                    path: f.path.clone(),
                    bytes: &f.bytes,
                    entry: Some(f.entry.clone()),
                    sidecar: f.sidecar.clone(),
                    report: true,
                    pending: false,
                    config: &f.config,
                })
                .collect()
        });
        let cell = HistoryCell::new(inputs, |inputs| PreparedHistory::new(inputs.borrow_dependent(), framework));
        Some(SetHistory { root: root.to_path_buf(), framework, files: paths, cell })
    }

    /// Position of `path` (normalized) in apply order.
    pub fn position(&self, path: &Path) -> Option<usize> {
        let want = normalize(path);
        self.files.iter().position(|p| *p == want)
    }

    /// The configuration the file at `index` is linted with.
    pub fn config(&self, index: usize) -> Option<&LintConfig> {
        self.cell.borrow_owner().borrow_owner().files.get(index).map(|f| &f.config)
    }

    /// Lints `text` (parsed as `parsed`) as the file at `index`, against the schema before it.
    pub fn lint(&self, index: usize, text: &str, parsed: &ParsedFile) -> Vec<Diagnostic> {
        self.cell.borrow_dependent().lint_edited(index, text, parsed)
    }

    /// The context `text` (parsed as `parsed`) is linted in as the file at `index`, reusing
    /// `previous` (the context of an earlier text of the same file, with its parse) for the
    /// statements an edit left alone.
    pub fn context(
        &self,
        index: usize,
        text: &str,
        parsed: &ParsedFile,
        previous: Option<(&FileContext, &ParsedFile)>,
    ) -> Option<FileContext> {
        self.cell.borrow_dependent().context_edited(index, text, parsed, previous)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn open_text_replaces_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let v1 = "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id int, a_id int);\n";
        std::fs::write(root.join("V1__a.sql"), v1).unwrap();
        std::fs::write(root.join("V2__b.sql"), "SELECT 1;\n").unwrap();
        let h = SetHistory::load(root, &HashMap::new()).unwrap();
        assert_eq!(h.files.len(), 2);
        assert_eq!(h.position(&root.join("V2__b.sql")), Some(1));
        assert_eq!(h.position(&root.join("V3__c.sql")), None);
        let config = h.config(1).unwrap().clone();
        let text = "ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) NOT VALID;\n";
        let parsed = sluice_core::parse_file(text, config.settings.dialect);
        let rules = |h: &SetHistory| -> Vec<&'static str> { h.lint(1, text, &parsed).iter().map(|d| d.rule).collect() };
        assert!(rules(&h).contains(&"foreign-key-without-index"), "{:?}", rules(&h));
        // The editor's unsaved text of the earlier migration creates the index.
        let mut open = HashMap::new();
        open.insert(normalize(&root.join("V1__a.sql")), format!("{v1}CREATE INDEX b_a_id ON b (a_id);\n"));
        let h = SetHistory::load(root, &open).unwrap();
        assert!(!rules(&h).contains(&"foreign-key-without-index"), "{:?}", rules(&h));
    }
}
