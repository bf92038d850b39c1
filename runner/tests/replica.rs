//! The streaming replica of `sluice trace --replica` against real servers: it streams and is
//! removed with its cluster, an orphan of a killed run is stopped and removed by the next run's
//! scan, and a trace measures the replay lag per statement and gates on it.

use nix::sys::signal::kill;
use nix::unistd::Pid;
use sluice_runner::cluster::{remove_orphans, Cluster, OWNER_FILE};
use sluice_runner::replica::Replica;
use sluice_runner::{run, Options};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;
use common::pg_binaries as binaries;

/// One test at a time: each checks that it left no directory of this process behind.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Cluster and replica directories whose owner marker names this process.
fn our_dirs() -> Vec<String> {
    let me = format!("{} ", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("sluice-trace-"))
        .filter(|e| std::fs::read_to_string(e.path().join(OWNER_FILE)).is_ok_and(|m| m.starts_with(&me)))
        .map(|e| e.path().display().to_string())
        .collect()
}

fn wait_dead(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "));
        if kill(Pid::from_raw(pid as i32), None).is_err() || zombie {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt")
}

#[test]
fn replica_streams_and_is_removed_with_its_cluster() {
    let _serial = serial();
    let Some(bin) = binaries() else { return };
    let rt = rt();
    let cluster = Cluster::start(&bin).expect("cluster");
    let replica = rt.block_on(Replica::start(&bin, &cluster)).expect("replica");
    let (root, pid) = (replica.root().to_path_buf(), replica.pid().expect("pid"));
    assert!(root.file_name().is_some_and(|n| n.to_string_lossy().starts_with("sluice-trace-replica-")));
    let seen: i64 = rt.block_on(async {
        let p = sluice_runner::catalog::connect(&cluster.config("postgres"), "primary").await.expect("primary");
        p.batch_execute("CREATE TABLE r (id int); INSERT INTO r SELECT generate_series(1, 1000)").await.expect("w");
        let r = sluice_runner::catalog::connect(&replica.config("postgres"), "replica").await.expect("replica");
        let standby: bool = r.query_one("SELECT pg_is_in_recovery()", &[]).await.expect("q").get(0);
        assert!(standby, "the replica is a standby");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(row) = r.query_one("SELECT count(*) FROM r", &[]).await {
                let n: i64 = row.get(0);
                if n == 1000 || Instant::now() > deadline {
                    return n;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert_eq!(seen, 1000, "the rows written on the primary are replayed");
    drop(replica);
    assert!(!root.exists(), "replica directory removed");
    assert!(wait_dead(pid), "replica server stopped");
    drop(cluster);
    assert_eq!(our_dirs(), Vec::<String>::new());
}

#[test]
fn orphaned_replica_of_a_killed_run_is_stopped_and_removed() {
    let _serial = serial();
    let Some(bin) = binaries() else { return };
    let rt = rt();
    let cluster = Cluster::start(&bin).expect("cluster");
    let replica = rt.block_on(Replica::start(&bin, &cluster)).expect("replica");
    let (root, pid) = (replica.root().to_path_buf(), replica.pid().expect("pid"));
    // What a kill -9 leaves behind: a running server and a marker naming a dead process.
    std::fs::write(root.join(OWNER_FILE), "999999999 5\n").expect("marker");
    std::mem::forget(replica);
    let removed = remove_orphans(root.parent().expect("parent"));
    assert!(removed.contains(&root), "{removed:?}");
    assert!(!root.exists());
    assert!(wait_dead(pid), "orphaned replica stopped");
    drop(cluster);
}

#[test]
fn trace_measures_replay_lag_per_statement_and_gates_on_it() {
    let _serial = serial();
    if binaries().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let snap = dir.path().join("schema.sql");
    std::fs::write(
        &snap,
        "CREATE TABLE t (id int PRIMARY KEY, v int, pad text);\n\
         INSERT INTO t SELECT i, i, repeat('x', 40) FROM generate_series(1, 100000) i;\n",
    )
    .expect("w");
    let mig = dir.path().join("001.sql");
    std::fs::write(&mig, "ALTER TABLE t ADD COLUMN note text;\nUPDATE t SET v = v + 1;\n").expect("w");
    let opts = Options {
        inputs: vec![mig],
        snapshot: Some(snap),
        lock_timeout_ms: 3000,
        replica: true,
        max_lag_ms: Some(1),
        ..Options::default()
    };
    let report = run(&opts).expect("trace");
    let lag = report.replica.clone().expect("replica lag");
    assert!(lag.samples > 5, "{lag:?}");
    assert!(lag.catch_up_ms.is_some(), "the replica caught up after the run: {lag:?}");
    let st: Vec<_> = report.statements().collect();
    // The update writes ~20 MB of WAL the replica must replay; adding a column writes a few hundred
    // bytes.
    assert!(st[1].wal_bytes.expect("wal") > 10 * 1024 * 1024, "{:?}", st[1].wal_bytes);
    assert!(st[1].replica_max_lag_bytes.expect("bytes") > 0, "{:?}", st[1]);
    assert!(st[1].replica_max_lag_ms.expect("ms") > 1.0, "{:?}", st[1]);
    assert_eq!(lag.max_lag_ms, st.iter().filter_map(|s| s.replica_max_lag_ms).fold(0.0, f64::max));
    let lag_findings: Vec<_> = report.findings.iter().filter(|f| f.kind == "max-lag-ms").collect();
    assert!(
        lag_findings.iter().any(|f| f.location.as_deref().is_some_and(|l| l.ends_with("001.sql:2"))),
        "{lag_findings:?}"
    );
    // A generous budget passes.
    let report = run(&Options { max_lag_ms: Some(600_000), ..opts.clone() }).expect("trace");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // Both clusters are gone.
    assert_eq!(our_dirs(), Vec::<String>::new());
    // A replica needs the throwaway cluster.
    let e = run(&Options { database_url: Some("postgres://x@localhost/db".into()), ..opts }).expect_err("refused");
    assert!(e.to_string().contains("--replica"), "{e}");
}
