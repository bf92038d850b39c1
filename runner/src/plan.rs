//! Which migrations to apply, in which order, with their down migrations and transaction mode.
//!
//! The migration tool's conventions come from [`sluice_core::framework`]: the tool is detected
//! from the files of each migrations directory (or fixed by the caller), and it decides which files
//! are migrations, the order they apply in (Flyway versions part by part and repeatable `R__`
//! files last, integer versions for golang-migrate, goose and sqlx, ...), which file or section is
//! the down migration (`.down.sql`, diesel `down.sql`, Flyway `U` files, goose and dbmate
//! sections) and whether each part runs in a transaction (goose `NO TRANSACTION`, dbmate
//! `transaction:false`, sqlx `-- no-transaction`, Atlas `txmode none`, Flyway's non-transactional
//! statements and `executeInTransaction`, diesel's `run_in_transaction`).
//!
//! A directory input is walked recursively; the files its tool would not run (a README, a seed
//! file next to Flyway migrations) are left out. A file input is always applied; its tool is the
//! one detected for the directory holding it. Consecutive file inputs of one directory are put in
//! their tool's order, so a shell glob (`V10__` before `V2__` in path order) applies correctly.
//! Without a tool (plain `.sql` files) a part runs in one transaction.

use crate::error::{Error, Result};
use sluice_core::framework::{self, Direction, FileRole, Framework, FrameworkSetting, MigrationEntry, TxMode};
use sluice_core::{Dialect, SourceText};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A part of a file to apply: the whole file or one section of it.
#[derive(Clone, Debug)]
pub struct Part {
    /// The path as given or found (for messages: `path:line`).
    pub path: String,
    /// The whole decoded file text (line numbers stay those of the file).
    pub text: String,
    /// Byte range of the part in `text`.
    pub range: Range<usize>,
    /// The migration tool runs this part inside one transaction.
    pub in_transaction: bool,
}

/// One migration: its up part and, when the layout has one, its down part.
#[derive(Clone, Debug)]
pub struct Migration {
    pub up: Part,
    pub down: Option<Part>,
}

/// Loads the migrations named by `inputs` in apply order, detecting each directory's tool, as
/// their tool runs them on PostgreSQL.
pub fn load(inputs: &[PathBuf]) -> Result<Vec<Migration>> {
    load_with(inputs, FrameworkSetting::Auto, Dialect::Postgres)
}

/// Loads the migrations named by `inputs` in apply order, with the tool `setting` names (or the
/// detected one), as the tool runs them on a `dialect` server.
pub fn load_with(inputs: &[PathBuf], setting: FrameworkSetting, dialect: Dialect) -> Result<Vec<Migration>> {
    let mut groups: Vec<Group> = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            walk(input, "", &mut found)?;
            let fw = tool(setting, input, &found);
            let sql: Vec<&String> = found.iter().filter(|p| p.to_ascii_lowercase().ends_with(".sql")).collect();
            let entries: Vec<MigrationEntry> = sql.iter().filter_map(|p| framework::classify(fw, p)).collect();
            if entries.is_empty() && !sql.is_empty() {
                return Err(Error::Input(format!(
                    "{}: none of its .sql files is a migration of {fw} (set `framework` in sluice.toml or \
                     name the files)",
                    input.display()
                )));
            }
            let shown = entries.iter().map(|e| (e.path.clone(), input.join(&e.path))).collect();
            groups.push(Group { root: input.clone(), framework: fw, entries, shown, from_dir: true });
        } else if input.is_file() {
            let root = history_root(input);
            let rel = relative(&root, input);
            let same = groups.last_mut().filter(|g| !g.from_dir && g.root == root);
            let fw = match &same {
                Some(g) => g.framework,
                None => {
                    let mut listed = Vec::new();
                    list(&root, &mut listed);
                    tool(setting, &root, &listed)
                }
            };
            // A file named explicitly is applied even when its tool would not pick it.
            let Some(entry) = framework::classify(fw, &rel).or_else(|| framework::classify(Framework::Plain, &rel))
            else {
                return Err(Error::Input(format!("{}: not a .sql file", input.display())));
            };
            match same {
                Some(g) => {
                    g.shown.insert(rel, input.clone());
                    g.entries.push(entry);
                }
                None => groups.push(Group {
                    root,
                    framework: fw,
                    entries: vec![entry],
                    shown: HashMap::from([(rel, input.clone())]),
                    from_dir: false,
                }),
            }
        } else {
            return Err(Error::Input(format!("{}: no such file or directory", input.display())));
        }
    }
    let mut out = Vec::new();
    for mut g in groups {
        framework::apply_order(&mut g.entries);
        g.migrations(dialect, &mut out)?;
    }
    if out.is_empty() {
        return Err(Error::Input("no migration files (*.sql) found".into()));
    }
    Ok(out)
}

/// Migration files of one tool under one root, from one directory input or from consecutive file
/// inputs of one directory.
struct Group {
    root: PathBuf,
    framework: Framework,
    entries: Vec<MigrationEntry>,
    /// The path each entry (by its relative path) is read from and shown as.
    shown: HashMap<String, PathBuf>,
    from_dir: bool,
}

impl Group {
    fn migrations(&self, dialect: Dialect, out: &mut Vec<Migration>) -> Result<()> {
        let mut downs: Vec<(&MigrationEntry, Part)> = Vec::new();
        let mut ups: Vec<(&MigrationEntry, Vec<Migration>)> = Vec::new();
        for entry in &self.entries {
            let path = self.shown.get(&entry.path).cloned().unwrap_or_else(|| self.root.join(&entry.path));
            let text = read(&path)?;
            // Files the tool would not pick (named explicitly) run as plain files.
            let fw = entry.framework;
            let sidecar = framework::sidecar_path(fw, entry)
                .map(|p| self.root.join(p))
                .filter(|p| p.is_file())
                .and_then(|p| std::fs::read_to_string(p).ok());
            let layout = framework::layout_for(fw, entry, &text, sidecar.as_deref(), dialect);
            let shown = path.display().to_string();
            let mut migrations: Vec<Migration> = Vec::new();
            for section in &layout.sections {
                let part = Part {
                    path: shown.clone(),
                    text: text.clone(),
                    range: section.span.start..section.span.end,
                    in_transaction: match section.tx {
                        TxMode::Transaction | TxMode::Setting => true,
                        TxMode::NoTransaction => false,
                    },
                };
                match (section.direction, migrations.last_mut()) {
                    (Direction::Up, _) => migrations.push(Migration { up: part, down: None }),
                    (Direction::Down, Some(m)) if m.down.is_none() => m.down = Some(part),
                    (Direction::Down, _) if entry.role == FileRole::Down => {
                        downs.push((entry, part));
                        break;
                    }
                    // A down section with no up section before it: the tool refuses the file.
                    (Direction::Down, _) => {}
                }
            }
            if entry.role != FileRole::Down {
                ups.push((entry, migrations));
            }
        }
        for (entry, mut migrations) in ups {
            if let Some(first) = migrations.first_mut().filter(|m| m.down.is_none()) {
                let pair = downs.iter().position(|(d, _)| d.version == entry.version && same_dir(d, entry));
                if let Some(i) = pair.filter(|_| entry.role == FileRole::Versioned) {
                    first.down = Some(downs.remove(i).1);
                }
            }
            out.extend(migrations);
        }
        Ok(())
    }
}

/// Down files pair with the up file of the same version; diesel's are in the same directory.
fn same_dir(a: &MigrationEntry, b: &MigrationEntry) -> bool {
    let dir = |e: &MigrationEntry| e.path.rsplit_once('/').map(|(d, _)| d.to_string());
    a.framework != Framework::Diesel || dir(a) == dir(b)
}

/// The tool of the migrations under `root` (whose files, relative, are `paths`).
fn tool(setting: FrameworkSetting, root: &Path, paths: &[String]) -> Framework {
    match setting {
        FrameworkSetting::Fixed(f) => f,
        FrameworkSetting::Auto => {
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            framework::detect(&refs, &|p| std::fs::read_to_string(root.join(p)).ok())
        }
    }
}

/// File names the tools' detection and settings read, besides `.sql` files.
fn interesting(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".sql")
        || lower.ends_with(".sql.conf")
        || matches!(name, "metadata.toml" | "migration_lock.toml" | "atlas.sum")
}

/// Files under `dir`, recursively, relative to the walk's root with `/` separators, sorted;
/// hidden entries are skipped.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    let mut entries = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        if !name.starts_with('.') {
            entries.push((name, entry.path()));
        }
    }
    entries.sort();
    for (name, p) in entries {
        let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        if p.is_dir() {
            walk(&p, &rel, out)?;
        } else if interesting(&name) {
            out.push(rel);
        }
    }
    Ok(())
}

/// Files directly in `root` and in its direct subdirectories (per-migration directories), the
/// way a tool's directory is read when only one file of it is named. Unreadable entries are
/// skipped: the result only feeds detection.
fn list(root: &Path, out: &mut Vec<String>) {
    let dir = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        if name.starts_with('.') {
            continue;
        }
        let p = entry.path();
        if p.is_dir() {
            let Ok(inner) = std::fs::read_dir(&p) else { continue };
            for e in inner.flatten() {
                if let Some(n) = e.file_name().to_str().filter(|n| interesting(n)) {
                    out.push(format!("{name}/{n}"));
                }
            }
        } else if interesting(&name) {
            out.push(name);
        }
    }
    out.sort();
}

/// The directory whose migrations a file belongs to: its own, or the one above it for tools that
/// keep a directory per migration (`<dir>/up.sql`, `<dir>/migration.sql`).
fn history_root(file: &Path) -> PathBuf {
    let parent = file.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match parent.parent() {
        Some(grand) if matches!(name, "up.sql" | "down.sql" | "migration.sql") => grand.to_path_buf(),
        _ => parent,
    }
}

/// `file` relative to `root`, with `/` separators.
fn relative(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn read(p: &Path) -> Result<String> {
    let bytes = std::fs::read(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
    SourceText::decode(&bytes)
        .map(|s| s.text)
        .map_err(|e| Error::File { path: p.to_path_buf(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tmp");
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        dir
    }

    fn part_text(p: &Part) -> &str {
        &p.text[p.range.clone()]
    }

    fn names(ms: &[Migration]) -> Vec<String> {
        ms.iter()
            .map(|m| Path::new(&m.up.path).file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn up_down_pairs() {
        let dir = dir_with(&[
            ("001_a.up.sql", "CREATE TABLE a (id int);"),
            ("001_a.down.sql", "DROP TABLE a;"),
            ("002_b.up.sql", "CREATE TABLE b (id int);"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["001_a.up.sql", "002_b.up.sql"]);
        assert_eq!(ms[0].down.as_ref().map(part_text), Some("DROP TABLE a;"));
        assert!(ms[0].down.as_ref().is_some_and(|d| d.path.ends_with("001_a.down.sql")));
        assert!(ms[1].down.is_none());
        assert!(load(&[dir.path().join("missing.sql")]).is_err());
    }

    #[test]
    fn goose_and_dbmate_sections() {
        let dir = dir_with(&[("002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n")]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        let b = &ms[0];
        assert!(part_text(&b.up).contains("CREATE TABLE b") && !part_text(&b.up).contains("DROP"));
        assert!(b.up.in_transaction);
        let bd = b.down.as_ref().expect("down");
        assert!(part_text(bd).contains("DROP TABLE b;") && !part_text(bd).contains("CREATE"));
        let dir = dir_with(&[(
            "003_c.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON b (id);\n-- migrate:down\nDROP INDEX i;\n",
        )]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert!(!ms[0].up.in_transaction && ms[0].down.as_ref().is_some_and(|d| d.in_transaction));
        let dir = dir_with(&[("004_d.sql", "SELECT 1;")]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert!(ms[0].down.is_none() && ms[0].up.in_transaction);
    }

    #[test]
    fn flyway_orders_versions_numerically_repeatables_last_and_pairs_undo() {
        let dir = dir_with(&[
            ("V10__c.sql", "ALTER TABLE a ADD COLUMN c int;"),
            ("V2__b.sql", "ALTER TABLE a ADD COLUMN b int;"),
            ("V1__a.sql", "CREATE TABLE a (id int);"),
            ("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT * FROM a;"),
            ("U2__b.sql", "ALTER TABLE a DROP COLUMN b;"),
            ("V1_1__idx.sql", "CREATE INDEX CONCURRENTLY a_id ON a (id);"),
            ("README.md", "not a migration"),
            ("notes.sql", "-- not a migration Flyway runs"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["V1__a.sql", "V1_1__idx.sql", "V2__b.sql", "V10__c.sql", "R__view.sql"]);
        assert_eq!(ms[2].down.as_ref().map(part_text), Some("ALTER TABLE a DROP COLUMN b;"));
        assert!(ms.iter().enumerate().all(|(i, m)| i == 2 || m.down.is_none()));
        // Flyway runs a CONCURRENTLY migration outside a transaction.
        assert!(ms[0].up.in_transaction && !ms[1].up.in_transaction);
        // The same files named one by one (a shell glob, path order) apply in Flyway's order.
        let mut files: Vec<PathBuf> =
            ["V10__c.sql", "V1__a.sql", "V2__b.sql", "R__view.sql"].iter().map(|n| dir.path().join(n)).collect();
        files.sort();
        let ms = load(&files).expect("load");
        assert_eq!(names(&ms), ["V1__a.sql", "V2__b.sql", "V10__c.sql", "R__view.sql"]);
    }

    #[test]
    fn flyway_script_configuration_turns_the_transaction_off() {
        let dir = dir_with(&[
            ("V1__a.sql", "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;"),
            ("V1__a.sql.conf", "executeInTransaction=false\n"),
            ("V2__b.sql", "CREATE TABLE b (id int);"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["V1__a.sql", "V2__b.sql"]);
        assert!(!ms[0].up.in_transaction && ms[1].up.in_transaction);
    }

    #[test]
    fn integer_versions_and_goose_no_transaction() {
        let dir = dir_with(&[
            ("10_c.sql", "-- +goose Up\nALTER TABLE a ADD COLUMN c int;\n"),
            ("9_b.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON a (id);\nSELECT 1;\n"),
            ("1_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["1_a.sql", "9_b.sql", "10_c.sql"]);
        assert!(ms[0].up.in_transaction && !ms[1].up.in_transaction && ms[2].up.in_transaction);
        let dir = dir_with(&[
            ("10_c.up.sql", "ALTER TABLE a ADD COLUMN c int;"),
            ("10_c.down.sql", "ALTER TABLE a DROP COLUMN c;"),
            ("9_b.up.sql", "CREATE TABLE a (id int);"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["9_b.up.sql", "10_c.up.sql"]);
        assert_eq!(ms[1].down.as_ref().map(part_text), Some("ALTER TABLE a DROP COLUMN c;"));
    }

    #[test]
    fn sqlx_no_transaction_counts_only_on_the_first_line() {
        let dir = dir_with(&[
            ("20240101000000_a.sql", "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n"),
            ("20240102000000_b.sql", "CREATE TABLE b (id int);\n-- no-transaction\nCREATE TABLE c (id int);\n"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(names(&ms), ["20240101000000_a.sql", "20240102000000_b.sql"]);
        assert!(!ms[0].up.in_transaction);
        assert!(ms[1].up.in_transaction, "sqlx ignores the marker past the first line");
    }

    #[test]
    fn diesel_directories_and_their_metadata() {
        let dir = dir_with(&[
            ("2024-01-02-000000_b/up.sql", "CREATE TABLE b (id int);\nCREATE TABLE c (id int);"),
            ("2024-01-02-000000_b/down.sql", "DROP TABLE b;"),
            ("2024-01-02-000000_b/metadata.toml", "run_in_transaction = false\n"),
            ("2024-01-01-000000_a/up.sql", "CREATE TABLE a (id int);"),
            ("2024-01-01-000000_a/down.sql", "DROP TABLE a;"),
        ]);
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        let order: Vec<&str> = ms.iter().map(|m| m.up.path.as_str()).collect();
        assert!(order[0].ends_with("2024-01-01-000000_a/up.sql") && order[1].ends_with("2024-01-02-000000_b/up.sql"));
        assert_eq!(ms[0].down.as_ref().map(part_text), Some("DROP TABLE a;"));
        assert_eq!(ms[1].down.as_ref().map(part_text), Some("DROP TABLE b;"));
        // One query string of two statements: PostgreSQL runs it as one implicit transaction.
        assert!(ms[0].up.in_transaction && ms[1].up.in_transaction);
        // On MySQL the same query string has no implicit transaction.
        let ms = load_with(&[dir.path().to_path_buf()], FrameworkSetting::Auto, Dialect::MySql).expect("load");
        assert!(!ms[1].up.in_transaction);
    }

    #[test]
    fn a_fixed_framework_overrides_detection() {
        let dir = dir_with(&[("1_a.sql", "CREATE TABLE a (id int);"), ("2_b.sql", "CREATE TABLE b (id int);")]);
        let fixed = FrameworkSetting::Fixed(Framework::Flyway);
        let err = load_with(&[dir.path().to_path_buf()], fixed, Dialect::Postgres).expect_err("no flyway files");
        assert!(err.to_string().contains("flyway"), "{err}");
        // Named explicitly, a file is applied even when the tool would not pick it.
        let ms = load_with(&[dir.path().join("1_a.sql")], fixed, Dialect::Postgres).expect("load");
        assert_eq!(names(&ms), ["1_a.sql"]);
        let ms = load_with(&[dir.path().to_path_buf()], FrameworkSetting::Auto, Dialect::Postgres).expect("load");
        assert_eq!(names(&ms), ["1_a.sql", "2_b.sql"]);
    }
}
