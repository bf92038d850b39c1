//! `sluice trace` WAL/binlog bytes per statement and the `--max-wal-mb` gate, end to end against
//! throwaway PostgreSQL and MariaDB servers the tests start themselves.

mod common;

use common::{have_mariadb, have_postgres, project, stderr, stdout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SCHEMA: &str = "CREATE TABLE t (id int PRIMARY KEY, v int, pad text);\n\
                      INSERT INTO t SELECT i, i, repeat('x', 40) FROM generate_series(1, 50000) i;\n";

fn trace(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("trace")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sluice trace")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

fn wal_bytes(v: &Value) -> Vec<u64> {
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .flat_map(|m| m["statements"].as_array().expect("statements"))
        .map(|s| s["wal_bytes"].as_u64().unwrap_or_else(|| panic!("wal_bytes of {s}")))
        .collect()
}

#[test]
fn a_table_wide_update_exceeds_a_tight_wal_budget() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"ALTER TABLE t ADD COLUMN note text;\nUPDATE t SET v = v + 1;\n"),
    ]);
    let base = ["m", "--snapshot", "schema.sql", "--workload", "0"];
    let o = trace(dir.path(), &[&base[..], &["--max-wal-mb", "2", "--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let bytes = wal_bytes(&v);
    // 50,000 new row versions of ~80 bytes each: several MB. Adding a nullable column: a catalog
    // change of a few kB.
    assert!(bytes[1] > 3 * 1024 * 1024, "{bytes:?}");
    assert!(bytes[0] < 200 * 1024, "{bytes:?}");
    assert_eq!(v["wal_bytes"].as_u64(), Some(bytes.iter().sum::<u64>()));
    let findings = v["findings"].as_array().expect("findings");
    let wal: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "max-wal-mb").collect();
    assert!(wal.iter().any(|f| f["location"] == "m/001.sql:2"), "{findings:?}");
    assert!(!wal.iter().any(|f| f["location"] == "m/001.sql:1"), "{findings:?}");
    // The human report shows the bytes next to the statement and names it in the finding.
    let o = trace(dir.path(), &[&base[..], &["--max-wal-mb", "2"]].concat());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("wrote ") && l.contains("MB of WAL")), "{out}");
    let finding = out.lines().find(|l| l.contains("error[max-wal-mb] m/001.sql:2")).expect(&out);
    assert!(finding.contains("UPDATE t SET v = v + 1") && finding.contains("budget 2 MB"), "{finding}");
    // Within budget: exit 0. The Markdown report has the bytes per statement and in total.
    let o = trace(dir.path(), &[&base[..], &["--max-wal-mb", "500", "--format", "markdown"]].concat());
    let md = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{md}{}", stderr(&o));
    assert!(md.contains("| Workload wait | WAL |") && md.contains("WAL written: "), "{md}");
}

#[test]
fn mariadb_binlog_bytes_are_measured_per_statement() {
    if !have_mariadb() {
        return;
    }
    let dir = project(&[
        ("schema.sql", b"CREATE TABLE t (id int PRIMARY KEY, v int, pad varchar(40));\n"),
        ("m/001.sql", b"ALTER TABLE t ADD COLUMN note varchar(10);\nUPDATE t SET v = v + 1;\n"),
    ]);
    let args = [
        "m",
        "--dialect",
        "mysql",
        "--snapshot",
        "schema.sql",
        "--seed-rows",
        "60000",
        "--workload",
        "0",
        "--max-wal-mb",
        "1",
        "--format",
        "json",
    ];
    let o = trace(dir.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let bytes = wal_bytes(&v);
    // Row format: before and after image of 60,000 rows. The ALTER is logged as its statement.
    assert!(bytes[1] > 1024 * 1024, "{bytes:?}");
    assert!(bytes[0] < 4096, "{bytes:?}");
    let findings = v["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["kind"] == "max-wal-mb"
            && f["location"] == "m/001.sql:2"
            && f["message"].as_str().is_some_and(|m| m.contains("of binlog"))),
        "{findings:?}"
    );
}

#[test]
fn replica_lag_budget_fails_the_run() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[("schema.sql", SCHEMA.as_bytes()), ("m/001.sql", b"UPDATE t SET v = v + 1;\n")]);
    let base = ["m", "--snapshot", "schema.sql", "--workload", "0", "--replica"];
    let o = trace(dir.path(), &[&base[..], &["--max-lag-ms", "1"]].concat());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("replica lag up to") && out.contains("caught up"), "{out}");
    let finding = out.lines().find(|l| l.contains("error[max-lag-ms] m/001.sql:1")).expect(&out);
    assert!(finding.contains("budget 1 ms"), "{finding}");
    // The budget needs the replica; the replica needs the throwaway cluster.
    let o = trace(dir.path(), &["m", "--max-lag-ms", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = trace(dir.path(), &["m", "--replica", "--database-url", "postgres://u@localhost/db"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The postmaster pid of each cluster or replica directory under `tmp` whose server accepts
/// connections.
fn running_servers(tmp: &Path) -> Vec<(std::path::PathBuf, i32)> {
    std::fs::read_dir(tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("sluice-trace-")))
        .filter_map(|d| {
            let pidfile = std::fs::read_to_string(d.join("data/postmaster.pid")).ok()?;
            let lines: Vec<&str> = pidfile.lines().collect();
            let up = matches!(lines.get(7).map(|s| s.trim()), Some("ready" | "standby"));
            up.then(|| lines[0].trim().parse::<i32>().ok().map(|pid| (d.clone(), pid))).flatten()
        })
        .collect()
}

fn gone(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_err()
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn a_killed_replica_run_is_cleaned_up_by_the_next_one() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[("slow/001.sql", b"SELECT pg_sleep(60);\n"), ("quick/001.sql", b"SELECT 1;\n")]);
    // A private temporary directory the server user can traverse.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "slow", "--workload", "0", "--replica"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    let servers = loop {
        let s = running_servers(&tmp);
        if s.len() == 2 {
            break s;
        }
        assert!(Instant::now() < deadline, "no primary and replica started: {s:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(servers.iter().any(|(d, _)| d.to_string_lossy().contains("sluice-trace-replica-")), "{servers:?}");
    std::thread::sleep(Duration::from_millis(1500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill -9");
    let _ = child.wait();
    assert!(servers.iter().all(|(_, pid)| !gone(*pid)), "the killed run left both servers behind");
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "quick", "--workload", "0"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (d, pid) in &servers {
        assert!(!d.exists(), "{} left behind", d.display());
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone(*pid) {
            assert!(Instant::now() < deadline, "orphaned server {pid} still runs");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
