//! `sluice trace --dialect mysql` end to end against a real MariaDB: a table rebuild and its
//! blocked workload measured, the gates, the rerun and down checks, URLs refused without
//! `--in-place`, and the removal of a server left behind by a killed run.

use nix::sys::signal::kill;
use nix::unistd::Pid;
use sluice_runner::mysql_server::{remove_orphans, MariaDbBinaries, MariaDbServer, OWNER_FILE};
use sluice_runner::{run, Error, Options};
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests run one at a time: each can then check that it left no server directory behind,
/// and the timings of one are not disturbed by another's server.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn have_server() -> bool {
    match MariaDbBinaries::find() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(&p, text).expect("write");
    p
}

fn our_server_dirs() -> Vec<String> {
    let me = format!("{} ", std::process::id());
    fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("sluice-mariadb-"))
        .filter(|e| fs::read_to_string(e.path().join(OWNER_FILE)).is_ok_and(|m| m.starts_with(&me)))
        .map(|e| e.path().display().to_string())
        .collect()
}

#[test]
fn rebuild_blocked_workload_and_gates() {
    let _serial = serial();
    if !have_server() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let snap = write(
        dir.path(),
        "snap.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY AUTO_INCREMENT, name varchar(40) NOT NULL, n int);",
    );
    let mig = write(
        dir.path(),
        "m/001.sql",
        "ALTER TABLE accounts ADD COLUMN note varchar(20);\nALTER TABLE accounts MODIFY n bigint;\n",
    );
    let opts = Options {
        inputs: vec![mig.parent().expect("dir").to_path_buf()],
        snapshot: Some(snap),
        seed_rows: 100_000,
        workload_clients: 4,
        workload_timeout_ms: 5000,
        lock_timeout_ms: 3000,
        max_blocked_ms: Some(1),
        mysql: true,
        ..Options::default()
    };
    let report = run(&opts).expect("trace");
    assert!(report.server.starts_with("MariaDB"), "{}", report.server);
    let st: Vec<_> = report.statements().collect();
    assert_eq!(st.len(), 2);
    // ADD COLUMN at the end is instant: no rebuild; int -> bigint copies the table.
    assert!(st[0].rewrites.is_empty(), "{:?}", st[0].rewrites);
    assert_eq!(st[1].rewrites.iter().map(|r| r.object.as_str()).collect::<Vec<_>>(), ["accounts"]);
    assert!(st[1].rewrites[0].pre_existing);
    // The copy holds SHARED_NO_WRITE on the table (the lock a ticket holds now, upgrades included).
    assert!(
        st[1].locks.iter().any(|l| l.object == "accounts" && l.pre_existing && l.mode == "SHARED_NO_WRITE"),
        "{:?}",
        st[1].locks
    );
    let algos: Vec<_> = report.algorithms.iter().map(|a| (a.algorithm.as_str(), a.rebuilds_table)).collect();
    assert_eq!(algos, [("INSTANT", false), ("COPY", true)]);
    // The copy of 100,000 rows blocks the workload's writes; the budget of 1 ms is exceeded
    // while that statement runs.
    let t = &report.workload[0];
    assert_eq!(t.table, "accounts");
    assert!(t.statements > 0 && t.max_wait_ms > 1.0, "{t:?}");
    let f = report.findings.iter().find(|f| f.kind == "max-blocked-ms").expect("blocked gate");
    assert!(f.location.as_deref().is_some_and(|l| l.ends_with("001.sql:2")), "{f:?}");
    assert!(report.findings.iter().all(|f| f.kind == "max-blocked-ms"), "{:?}", report.findings);
    assert!(our_server_dirs().is_empty(), "left behind: {:?}", our_server_dirs());
}

#[test]
fn rerun_and_down_checks() {
    let _serial = serial();
    if !have_server() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let snap = write(dir.path(), "snap.sql", "CREATE TABLE users (id int PRIMARY KEY, email varchar(50), legacy int);");
    // Not idempotent: a second ADD COLUMN fails. Destructive down: drops a column that existed
    // before the up migration.
    write(dir.path(), "m/001_add.up.sql", "ALTER TABLE users ADD COLUMN age int;\n");
    write(dir.path(), "m/001_add.down.sql", "ALTER TABLE users DROP COLUMN age, DROP COLUMN legacy;\n");
    let opts = Options {
        inputs: vec![dir.path().join("m")],
        snapshot: Some(snap),
        lock_timeout_ms: 3000,
        check_rerun: true,
        check_down: true,
        mysql: true,
        ..Options::default()
    };
    let report = run(&opts).expect("trace");
    let kinds: Vec<_> = report.checks.iter().map(|c| (c.kind.as_str(), c.passed)).collect();
    assert_eq!(kinds, [("rerun", false), ("down", false)], "{:#?}", report.checks);
    assert!(report.checks[0].details[0].contains("Duplicate column name"), "{:?}", report.checks[0].details);
    assert!(
        report.checks[1].details.iter().any(|d| d.contains("destroys") && d.contains("users.legacy")),
        "{:?}",
        report.checks[1].details
    );
    assert_eq!(report.findings.iter().filter(|f| f.kind == "rerun" || f.kind == "down").count(), 2);
    assert!(our_server_dirs().is_empty(), "left behind: {:?}", our_server_dirs());
}

#[test]
fn urls_need_in_place_and_are_redacted() {
    let dir = tempfile::tempdir().expect("tmp");
    let mig = write(dir.path(), "001.sql", "ALTER TABLE t ADD COLUMN c int;\n");
    let opts = Options {
        inputs: vec![mig],
        database_url: Some("mysql://app:s3cret@db.example:3306/prod".into()),
        mysql: true,
        ..Options::default()
    };
    let err = run(&opts).expect_err("refused");
    assert!(matches!(err, Error::Input(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("--in-place") && !msg.contains("s3cret"), "{msg}");
}

#[test]
fn a_killed_runs_server_is_stopped_and_removed() {
    let _serial = serial();
    if !have_server() {
        return;
    }
    let bin = MariaDbBinaries::find().expect("bin");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let server = rt.block_on(MariaDbServer::start(&bin)).expect("start");
    let root = server.root().to_path_buf();
    let pid = server.pid().expect("pid");
    // What a `kill -9` of the owner leaves: a running server whose owner marker names a dead
    // process, and no Drop.
    std::mem::forget(server);
    fs::write(root.join(OWNER_FILE), "999999999 5\n").expect("marker");
    let removed = remove_orphans(&std::env::temp_dir());
    assert!(removed.contains(&root), "{removed:?}");
    assert!(!root.exists());
    let deadline = Instant::now() + Duration::from_secs(20);
    let dead = |p: u32| {
        kill(Pid::from_raw(p as i32), None).is_err()
            || fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| s.contains(") Z "))
    };
    while !dead(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(dead(pid), "mariadbd {pid} still runs");
}

#[test]
fn in_place_lock_timeout_is_a_finding() {
    let _serial = serial();
    if !have_server() {
        return;
    }
    use mysql_async::prelude::Queryable;
    let bin = MariaDbBinaries::find().expect("bin");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let server = rt.block_on(MariaDbServer::start(&bin)).expect("start");
    // A session in an open transaction holds a shared metadata lock on `t` until it ends.
    let mut holder = rt.block_on(async {
        let mut c = mysql_async::Conn::new(server.opts(None)).await.expect("connect");
        c.query_drop("CREATE DATABASE app").await.expect("db");
        c.query_drop("CREATE TABLE app.t (id int PRIMARY KEY)").await.expect("table");
        c.query_drop("START TRANSACTION").await.expect("begin");
        c.query_drop("SELECT * FROM app.t").await.expect("select");
        c
    });
    let dir = tempfile::tempdir().expect("tmp");
    let mig = write(dir.path(), "001.sql", "CREATE TABLE other (id int);\nALTER TABLE t ADD COLUMN c int;\n");
    let url = format!("mysql://root@localhost/app?socket={}", server.socket_path().display());
    let opts = Options {
        inputs: vec![mig],
        database_url: Some(url),
        in_place: true,
        lock_timeout_ms: 1000,
        mysql: true,
        ..Options::default()
    };
    let report = std::thread::spawn(move || run(&opts)).join().expect("thread");
    let report = report.expect("trace");
    assert_eq!(report.target, "in-place");
    let f = report.findings.iter().find(|f| f.kind == "lock-timeout").expect("lock-timeout finding");
    assert!(f.location.as_deref().is_some_and(|l| l.ends_with("001.sql:2")), "{f:?}");
    let st: Vec<_> = report.statements().collect();
    assert_eq!(st.len(), 2);
    assert!(st[1].error.as_deref().is_some_and(|e| e.contains("1205")), "{:?}", st[1].error);
    assert!(
        st[1].locks.iter().any(|l| l.object == "t" && l.mode.ends_with("(waiting)")),
        "the ALTER waited for its lock: {:?}",
        st[1].locks
    );
    rt.block_on(async {
        holder.query_drop("ROLLBACK").await.expect("rollback");
        let _ = holder.disconnect().await;
    });
    drop(server);
}
