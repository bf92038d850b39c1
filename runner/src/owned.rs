//! What the throwaway PostgreSQL clusters and MariaDB servers share: running their programs as
//! an unprivileged user, stopping a server process, and the owner marker that lets a later run
//! remove what a killed run left behind (and only that).

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Runs a setup program (`initdb`, `pg_basebackup`, `mariadb-install-db`) as `user` to
/// completion; when it fails, its exit status and output are the error.
pub(crate) fn run_setup(cmd: &mut Command, user: Option<(Uid, Gid)>, name: &str) -> crate::Result<()> {
    as_user(cmd, user);
    let program = Path::new(cmd.get_program()).display().to_string();
    let out = cmd.output().map_err(|e| crate::Error::io(format!("running {program}"), e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(crate::Error::Cluster(format!(
        "{name} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// Runs `cmd` as `user` (with its HOME, USER and LOGNAME) when given.
pub(crate) fn as_user(cmd: &mut Command, user: Option<(Uid, Gid)>) {
    if let Some((uid, gid)) = user {
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
        if let Ok(Some(u)) = User::from_uid(uid) {
            cmd.env("HOME", u.dir).env("USER", &u.name).env("LOGNAME", &u.name);
        }
    }
}

/// Sends each signal in turn, waiting up to its duration for the process to exit, then reaps it.
pub(crate) fn stop_process(child: &mut Child, signals: &[(Signal, Duration)]) {
    let pid = Pid::from_raw(child.id() as i32);
    for &(signal, wait) in signals {
        if kill(pid, signal).is_err() {
            break;
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.wait();
}

/// `"<pid> <start time>"`: the start time tells a live owner from a reused pid.
pub(crate) fn owner_marker(pid: u32) -> String {
    format!("{pid} {}\n", process_start_time(pid).unwrap_or(0))
}

/// Field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot).
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// False only when the marker's owner is provably gone.
fn owner_alive(marker: &str) -> bool {
    let mut it = marker.split_whitespace();
    let (Some(pid), start) =
        (it.next().and_then(|p| p.parse::<u32>().ok()), it.next().and_then(|s| s.parse::<u64>().ok()))
    else {
        // Unreadable marker: not provably dead, keep the directory.
        return true;
    };
    match (process_start_time(pid), start) {
        (None, _) => !Path::new("/proc/self").exists() && kill(Pid::from_raw(pid as i32), None).is_ok(),
        (Some(now), Some(then)) if then != 0 => now == then,
        (Some(_), _) => true,
    }
}

/// Removes the directories under `tmp` named `prefix*` whose `owner_file` names a dead process,
/// calling `stop_server` on each first. Directories without a marker, or whose owner lives, are
/// left alone. Returns the removed directories.
pub(crate) fn remove_orphans(tmp: &Path, prefix: &str, owner_file: &str, stop_server: impl Fn(&Path)) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(tmp) else { return removed };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(prefix) {
            continue;
        }
        let dir = entry.path();
        let Ok(marker) = fs::read_to_string(dir.join(owner_file)) else { continue };
        if owner_alive(&marker) {
            continue;
        }
        stop_server(&dir);
        if fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_of_dead_processes_are_orphans() {
        assert!(owner_alive(&owner_marker(std::process::id())));
        // A start time that cannot be ours: the pid is alive but reused.
        assert!(!owner_alive(&format!("{} 1", std::process::id())));
        assert!(!owner_alive("999999999 5"));
        assert!(owner_alive("garbage"));
    }
}
