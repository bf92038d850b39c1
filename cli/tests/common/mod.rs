//! Helpers shared by the CLI end-to-end tests: run the built binary, make a project directory.
#![allow(dead_code)] // Each test crate uses its own subset.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn sluice(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice")).args(args).current_dir(cwd).output().expect("run sluice")
}

pub fn sluice_stdin(args: &[&str], cwd: &Path, input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sluice");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    child.wait_with_output().expect("wait")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, body).expect("write");
    }
    dir
}

/// Runs git in `dir` with a fixed identity; panics with git's stderr on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// True when PostgreSQL server binaries are installed; otherwise prints why the test is skipped.
pub fn have_postgres() -> bool {
    match sluice_runner::cluster::PgBinaries::find() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

/// True when MariaDB server binaries are installed; otherwise prints why the test is skipped.
pub fn have_mariadb() -> bool {
    match sluice_runner::mysql_server::MariaDbBinaries::find() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

/// Runs `sql` as root with the `mariadb` command-line client over the server socket `socket`;
/// returns its tab-separated output without column names.
pub fn mariadb_query(socket: &Path, sql: &str) -> String {
    let o = Command::new("mariadb")
        .arg(format!("--socket={}", socket.display()))
        .args(["-uroot", "-N", "-B", "-e", sql])
        .output()
        .expect("run the mariadb client");
    assert!(o.status.success(), "{sql}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}
