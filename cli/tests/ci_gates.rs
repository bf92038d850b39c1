//! The CI integrations of the repository run as their hosts would run them, as far as that is
//! possible without the hosts: the pre-commit hook installed by the real `pre-commit` tool from a
//! clone of this repository (cargo builds the root package).

mod common;

use common::{git, project, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target directory the tests were built in (`target/`).
fn target_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_sluice"));
    bin.parent().and_then(Path::parent).map(Path::to_path_buf).expect("target dir")
}

/// `pre-commit` from PyPI in a virtual environment under the target directory, or `None` (after
/// printing why) when it cannot be installed.
fn pre_commit() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let exe = venv.join("bin/pre-commit");
    if exe.exists() {
        return Some(exe);
    }
    let mut venv_cmd = Command::new("python3");
    venv_cmd.args(["-m", "venv"]).arg(&venv);
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check", "pre-commit"]);
    for mut cmd in [venv_cmd, pip] {
        match cmd.output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                println!("skipped: {cmd:?} failed: {}{}", stdout(&o), stderr(&o));
                return None;
            }
            Err(e) => {
                println!("skipped: {cmd:?}: {e}");
                return None;
            }
        }
    }
    Some(exe)
}

/// A git repository holding the working tree's files (tracked and untracked, ignored ones left
/// out) in one commit: what pre-commit clones. Returns the directory and the commit.
fn snapshot_of_this_repository() -> (tempfile::TempDir, String) {
    let root = repo_root();
    let o = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(o.status.success(), "{}", stderr(&o));
    let snap = tempfile::tempdir().expect("tempdir");
    for name in o.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("utf-8 path");
        let from = root.join(name);
        // Deleted in the working tree but still in the index.
        if !from.is_file() {
            continue;
        }
        let to = snap.path().join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    git(snap.path(), &["init", "--quiet"]);
    git(snap.path(), &["add", "."]);
    git(snap.path(), &["commit", "--quiet", "-m", "snapshot"]);
    let o = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(snap.path()).output().expect("rev-parse");
    (snap, stdout(&o).trim().to_string())
}

/// `.pre-commit-hooks.yaml` as a user gets it: a `.pre-commit-config.yaml` whose `repo:` is a
/// clone of this repository at a commit; `pre-commit run` installs the `language: rust` hook with
/// `cargo install --bins --path .` at the clone's root (a release build of the root package,
/// several minutes from scratch; the target directory of this build is reused for the
/// dependencies), then the hook reports the unsafe migration.
///
/// Ignored by default (the release build); run it with
/// `cargo test -p sluice --test ci_gates -- --ignored pre_commit`.
#[test]
#[ignore = "builds the CLI in release mode through pre-commit and cargo install (minutes)"]
fn pre_commit_installs_the_rust_hook_from_a_clone_and_reports_a_finding() {
    let Some(pre_commit) = pre_commit() else { return };
    let (snap, rev) = snapshot_of_this_repository();
    let dir = project(&[
        ("db/V1__users.sql", b"CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\n"),
        ("db/V2__index.sql", b"CREATE INDEX users_email_idx ON users (email);\n"),
    ]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: sluice\n        args: [--fail-on, warning]\n",
        snap.path().display()
    );
    std::fs::write(dir.path().join(".pre-commit-config.yaml"), config).expect("write config");
    git(dir.path(), &["init", "--quiet"]);
    git(dir.path(), &["add", "."]);
    let home = dir.path().join(".pre-commit-home");
    let started = std::time::Instant::now();
    let o = Command::new(&pre_commit)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(dir.path())
        .env("PRE_COMMIT_HOME", &home)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run pre-commit");
    let out = stdout(&o);
    println!("pre-commit run (install and hook) took {:.0?}", started.elapsed());
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Failed"), "{out}");
    assert!(out.contains("create-index-non-concurrently") && out.contains("db/V2__index.sql"), "{out}");
    // The hook ran the binary cargo installed into pre-commit's environment for the clone.
    let installed = walk(&home).into_iter().find(|p| p.ends_with("bin/sluice-pre-commit"));
    assert!(installed.is_some(), "no bin/sluice-pre-commit under {}", home.display());
    let log = std::fs::read_to_string(home.join("pre-commit.log")).unwrap_or_default();
    assert!(!log.contains("error"), "{log}");

    // Once installed, a clean change passes without building again.
    std::fs::write(
        dir.path().join("db/V2__index.sql"),
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n",
    )
    .expect("write");
    git(dir.path(), &["add", "."]);
    let o = Command::new(&pre_commit)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(dir.path())
        .env("PRE_COMMIT_HOME", &home)
        .output()
        .expect("run pre-commit");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Passed"), "{out}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
