//! Migration directories on disk: which directory a file's history lives in, which files of it
//! are migrations for its tool, and in what order the tool applies them.

use sluice_core::framework::{self, FileRole, Framework, FrameworkSetting, MigrationEntry};
use std::path::{Component, Path, PathBuf};

/// One migration file of a directory, in apply order.
#[derive(Debug)]
pub struct SetFile {
    /// `root.join(entry.path)`.
    pub path: PathBuf,
    pub entry: MigrationEntry,
    /// Flyway's `<file>.sql.conf` or Diesel's `metadata.toml`, when present.
    pub sidecar: Option<String>,
}

/// The migrations of one directory, ordered as their tool applies them.
#[derive(Debug)]
pub struct MigrationSet {
    pub root: PathBuf,
    pub framework: Framework,
    pub files: Vec<SetFile>,
}

impl MigrationSet {
    /// Index of the file at `path` (compared after making both absolute). For many lookups use
    /// [`MigrationSet::positions`].
    pub fn position(&self, path: &Path) -> Option<usize> {
        let want = normalize(path);
        self.files.iter().position(|f| normalize(&f.path) == want)
    }

    /// Every file's index by its normalized path.
    pub fn positions(&self) -> std::collections::HashMap<PathBuf, usize> {
        self.files.iter().enumerate().map(|(i, f)| (normalize(&f.path), i)).collect()
    }
}

/// Absolute and free of `.`/`..` components, without touching the file system beyond the
/// current directory (symlinks are kept as written).
pub fn normalize(path: &Path) -> PathBuf {
    let abs = crate::absolute(path);
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory whose migrations form the history of `file`: its own directory, or the parent
/// of it for tools that keep one directory per migration (`<dir>/up.sql`, `<dir>/migration.sql`).
pub fn history_root(file: &Path) -> PathBuf {
    let file = normalize(file);
    let parent = file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, "up.sql" | "down.sql" | "migration.sql") {
        if let Some(grand) = parent.parent() {
            return grand.to_path_buf();
        }
    }
    parent
}

/// Files under `root` that belong to its history: files directly in it, and files one
/// directory down (per-migration directories), relative with `/` separators, sorted.
fn list(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_file() {
            out.push(name);
        } else if kind.is_dir() && !name.starts_with('.') {
            let Ok(inner) = std::fs::read_dir(entry.path()) else { continue };
            for e in inner.flatten() {
                if e.file_type().is_ok_and(|t| t.is_file()) {
                    let inner_name = e.file_name().to_string_lossy().into_owned();
                    // Only per-migration directories belong to this root's history; `.sql` files
                    // of a plain subdirectory form their own history.
                    if matches!(inner_name.as_str(), "up.sql" | "down.sql" | "migration.sql" | "metadata.toml") {
                        out.push(format!("{name}/{inner_name}"));
                    }
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Loads the migration set of `root`: detects (or takes) the tool, keeps the files it treats as
/// migrations, orders them, and reads their sidecar settings.
pub fn load_set(root: &Path, setting: FrameworkSetting) -> std::io::Result<MigrationSet> {
    let paths = list(root)?;
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let framework = match setting {
        FrameworkSetting::Fixed(f) => f,
        FrameworkSetting::Auto => framework::detect(&refs, &|p| std::fs::read_to_string(root.join(p)).ok()),
    };
    let mut entries: Vec<MigrationEntry> = refs
        .iter()
        .filter(|p| p.to_ascii_lowercase().ends_with(".sql"))
        .filter_map(|p| framework::classify(framework, p))
        .collect();
    framework::apply_order(&mut entries);
    let present: std::collections::HashSet<&str> = refs.iter().copied().collect();
    let files = entries
        .into_iter()
        .map(|entry| {
            let sidecar = framework::sidecar_path(framework, &entry)
                .filter(|p| present.contains(p.as_str()))
                .and_then(|p| std::fs::read_to_string(root.join(p)).ok());
            SetFile { path: root.join(&entry.path), entry, sidecar }
        })
        .collect();
    Ok(MigrationSet { root: root.to_path_buf(), framework, files })
}

/// True for files that only hold a rollback.
pub fn is_down(entry: &MigrationEntry) -> bool {
    entry.role == FileRole::Down
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_sets() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (p, text) in [
            ("2024-01-02-000000_b/up.sql", "CREATE TABLE b (id int);"),
            ("2024-01-02-000000_b/down.sql", "DROP TABLE b;"),
            ("2024-01-01-000000_a/up.sql", "CREATE TABLE a (id int);"),
            ("2024-01-01-000000_a/down.sql", "DROP TABLE a;"),
            ("2024-01-01-000000_a/metadata.toml", "run_in_transaction = false\n"),
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        assert_eq!(history_root(&root.join("2024-01-01-000000_a/up.sql")), normalize(root));
        let set = load_set(root, FrameworkSetting::Auto).unwrap();
        assert_eq!(set.framework, Framework::Diesel);
        let order: Vec<&str> = set.files.iter().map(|f| f.entry.path.as_str()).collect();
        assert_eq!(order[0], "2024-01-01-000000_a/up.sql");
        assert!(order.iter().position(|p| *p == "2024-01-02-000000_b/up.sql").unwrap() > 0);
        assert_eq!(set.files[0].sidecar.as_deref(), Some("run_in_transaction = false\n"));
        assert_eq!(set.position(&root.join("./2024-01-01-000000_a/up.sql")), Some(0));
    }
}
