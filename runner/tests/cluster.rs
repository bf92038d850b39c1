//! The throwaway cluster's life cycle against a real server: start, connect, stop and remove;
//! and removal of an orphan left by a killed run.

use nix::sys::signal::kill;
use nix::unistd::Pid;
use sluice_runner::cluster::{remove_orphans, Cluster, OWNER_FILE};
use std::time::{Duration, Instant};

mod common;
use common::pg_binaries as binaries;

fn alive(pid: u32) -> bool {
    kill(Pid::from_raw(pid as i32), None).is_ok()
}

fn wait_dead(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !alive(pid) || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn starts_answers_and_cleans_up() {
    let Some(bin) = binaries() else { return };
    let cluster = Cluster::start(&bin).expect("start");
    let root = cluster.root().to_path_buf();
    let pid = cluster.pid().expect("pid");
    assert!(root.join("data/PG_VERSION").is_file());
    assert!(root.join(".s.PGSQL.5432").exists(), "socket in the cluster directory");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let answer: i32 = rt.block_on(async {
        let c = sluice_runner::catalog::connect(&cluster.config("postgres"), "test").await.expect("connect");
        c.query_one("SELECT 41 + 1", &[]).await.expect("query").get(0)
    });
    assert_eq!(answer, 42);
    drop(cluster);
    assert!(!root.exists(), "directory removed");
    assert!(wait_dead(pid), "postmaster stopped");
}

#[test]
fn orphan_of_a_dead_owner_is_stopped_and_removed() {
    let Some(bin) = binaries() else { return };
    let cluster = Cluster::start(&bin).expect("start");
    let root = cluster.root().to_path_buf();
    let pid = cluster.pid().expect("pid");
    // What a kill -9 leaves: a running server and a marker naming a process that is gone.
    std::fs::write(root.join(OWNER_FILE), "999999999 5\n").expect("marker");
    std::mem::forget(cluster);
    let parent = root.parent().expect("parent").to_path_buf();
    let removed = remove_orphans(&parent);
    assert!(removed.contains(&root), "{removed:?}");
    assert!(!root.exists());
    assert!(wait_dead(pid), "orphaned postmaster stopped");
}
