//! `--changed-since REV` and `--changed-files-from FILE`: which migration files a change set
//! touches, and which of them are new (not applied anywhere yet).

use sluice_workspace::migrations::normalize;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a change set, as normalized absolute paths.
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// Files changed or added: the only ones reported on.
    pub changed: HashSet<PathBuf>,
    /// Files added: their migrations are not applied yet.
    pub added: HashSet<PathBuf>,
}

impl ChangeSet {
    pub fn reports(&self, path: &Path) -> bool {
        self.changed.contains(&normalize(path))
    }

    pub fn is_new(&self, path: &Path) -> bool {
        self.added.contains(&normalize(path))
    }
}

fn git(args: &[&str], dir: &Path) -> Result<String, String> {
    let out = Command::new("git").args(args).current_dir(dir).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn paths<'a>(listing: &'a str, top: &'a Path) -> impl Iterator<Item = PathBuf> + 'a {
    listing.split('\0').filter(|p| !p.is_empty()).map(move |p| normalize(&top.join(p)))
}

/// Files changed since `rev` in the repository holding the current directory: committed,
/// staged, unstaged and untracked (not ignored) changes; deleted files left out.
pub fn since(rev: &str) -> Result<ChangeSet, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"], &cwd)?.trim());
    git(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")], &top)
        .map_err(|_| format!("--changed-since: `{rev}` is not a revision of this repository"))?;
    let changed = git(&["diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", rev, "--"], &top)?;
    let added = git(&["diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", rev, "--"], &top)?;
    let untracked = git(&["ls-files", "-z", "--others", "--exclude-standard"], &top)?;
    let mut set = ChangeSet::default();
    set.changed.extend(paths(&changed, &top));
    set.added.extend(paths(&added, &top));
    for p in paths(&untracked, &top) {
        set.changed.insert(p.clone());
        set.added.insert(p);
    }
    Ok(set)
}

/// Files listed one per line in `file` (`-` reads standard input), relative to the current
/// directory; all count as new.
pub fn from_list(file: &Path) -> Result<ChangeSet, String> {
    let text = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let mut set = ChangeSet::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let p = normalize(Path::new(line));
        set.changed.insert(p.clone());
        set.added.insert(p);
    }
    Ok(set)
}
