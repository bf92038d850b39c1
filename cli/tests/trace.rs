//! `sluice trace` end to end against real PostgreSQL servers the tests start themselves.
//! Skipped (with a printed reason) only when no PostgreSQL server binaries are installed.

mod common;

use common::{have_mariadb, have_postgres, project, stderr, stdout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SCHEMA: &str = "CREATE TABLE t (id int PRIMARY KEY, v int, label text NOT NULL DEFAULT 'x');\n\
                      INSERT INTO t (id, v) SELECT i, i FROM generate_series(1, 2000) i;\n";

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

fn statements(v: &Value) -> Vec<&Value> {
    v["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .flat_map(|m| m["statements"].as_array().expect("s"))
        .collect()
}

fn has_lock(st: &Value, object: &str, mode: &str) -> bool {
    st["locks"].as_array().expect("locks").iter().any(|l| l["object"] == object && l["mode"] == mode)
}

fn kinds(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn rewrite_is_detected_with_its_lock_and_hold_time() {
    if !have_postgres() {
        return;
    }
    let dir =
        project(&[("schema.sql", SCHEMA.as_bytes()), ("m/001.sql", b"ALTER TABLE t ALTER COLUMN id TYPE bigint;\n")]);
    let o = trace(dir.path(), &["m", "--snapshot", "schema.sql", "--workload", "0", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let st = statements(&v)[0];
    assert_eq!(st["observed"], "transaction");
    assert!(has_lock(st, "public.t", "ACCESS EXCLUSIVE"), "{st}");
    let rewrites = st["rewrites"].as_array().expect("rewrites");
    assert!(
        rewrites.iter().any(|r| r["object"] == "public.t" && r["kind"] == "table" && r["pre_existing"] == true),
        "{st}"
    );
    assert!(rewrites.iter().any(|r| r["object"] == "public.t_pkey"), "the primary key index is rebuilt: {st}");
    let lock = st["locks"].as_array().expect("l").iter().find(|l| l["object"] == "public.t").expect("lock");
    assert!(lock["held_ms"].as_f64().expect("held") > 0.0);
    // A binary-coercible change does not rewrite.
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"ALTER TABLE t ALTER COLUMN label TYPE varchar;\n"),
    ]);
    let o = trace(dir.path(), &["m", "--snapshot", "schema.sql", "--workload", "0", "--format", "json"]);
    let v = json(&o);
    assert_eq!(statements(&v)[0]["rewrites"].as_array().map(Vec::len), Some(0), "{}", stdout(&o));
}

#[test]
fn concurrently_statement_is_traced_outside_a_transaction() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"CREATE INDEX CONCURRENTLY t_v_idx ON t (v);\nALTER TABLE t ADD COLUMN w int;\n"),
    ]);
    let o = trace(
        dir.path(),
        &["m", "--snapshot", "schema.sql", "--seed-rows", "100000", "--workload", "1", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["migrations"][0]["mode"], "per-statement");
    let sts = statements(&v);
    assert_eq!(sts[0]["observed"], "sampled");
    assert!(sts[0]["error"].is_null());
    assert!(has_lock(sts[0], "public.t", "SHARE UPDATE EXCLUSIVE"), "{}", sts[0]);
    assert_eq!(sts[1]["observed"], "transaction");
    assert!(has_lock(sts[1], "public.t", "ACCESS EXCLUSIVE"));
    let w = &v["workload"][0];
    assert_eq!(w["table"], "public.t");
    assert!(w["statements"].as_u64().expect("n") > 0);
}

#[test]
fn a_wait_is_blamed_on_the_statement_whose_lock_blocked_it() {
    if !have_postgres() {
        return;
    }
    // The index build blocks no writes; waits that begin near its end and last through the
    // rewrite are the rewrite's.
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"CREATE INDEX CONCURRENTLY t_v_idx ON t (v);\nALTER TABLE t ALTER COLUMN v TYPE bigint;\n"),
    ]);
    let o = trace(
        dir.path(),
        &["m", "--snapshot", "schema.sql", "--seed-rows", "300000", "--workload", "4", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let w = &v["workload"][0];
    assert!(w["max_wait_ms"].as_f64().expect("wait") > 20.0, "{w}");
    assert_eq!(w["max_wait_during"], "m/001.sql:2", "{w}");
    let sts = statements(&v);
    let cic_wait = sts[0]["workload_max_wait_ms"].as_f64().unwrap_or(0.0);
    assert!(cic_wait < sts[1]["workload_max_wait_ms"].as_f64().expect("blamed"), "{}", sts[0]);
}

#[test]
fn budgets_exceeded_exit_1_naming_the_statement() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"ALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(0.6);\n"),
    ]);
    let o = trace(
        dir.path(),
        &["m", "--snapshot", "schema.sql", "--workload", "2", "--max-exclusive-ms", "200", "--max-blocked-ms", "150"],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    let exclusive = out.lines().find(|l| l.contains("error[max-exclusive-ms]")).expect(&out);
    assert!(
        exclusive.contains("m/001.sql:1") && exclusive.contains("public.t") && exclusive.contains("budget 200 ms"),
        "{exclusive}"
    );
    let blocked = out.lines().find(|l| l.contains("error[max-blocked-ms]")).expect(&out);
    assert!(blocked.contains("public.t") && blocked.contains("budget 150 ms"), "{blocked}");
    // Within budget: exit 0.
    let o = trace(dir.path(), &["m", "--snapshot", "schema.sql", "--workload", "0", "--max-exclusive-ms", "60000"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Markdown for a pull-request comment.
    let o = trace(
        dir.path(),
        &["m", "--snapshot", "schema.sql", "--workload", "0", "--format", "markdown", "--max-exclusive-ms", "1"],
    );
    let md = stdout(&o);
    assert!(
        md.starts_with("### sluice trace failed") && md.contains("| `m/001.sql:1` `ALTER TABLE t ADD COLUMN x int`"),
        "{md}"
    );
}

#[test]
fn check_rerun_catches_non_idempotent_migrations() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("fails/001.sql", b"ALTER TABLE t ADD COLUMN x int;\n"),
        ("drifts/001.sql", b"CREATE INDEX ON t (v);\n"),
        ("ok/001.sql", b"ALTER TABLE t ADD COLUMN IF NOT EXISTS x int;\nCREATE INDEX IF NOT EXISTS t_v ON t (v);\n"),
    ]);
    let run = |m: &str| {
        trace(dir.path(), &[m, "--snapshot", "schema.sql", "--workload", "0", "--check-rerun", "--format", "json"])
    };
    let o = run("fails");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(kinds(&v), ["rerun"]);
    let detail = v["checks"][0]["details"][0].as_str().expect("detail");
    assert!(detail.contains("fails/001.sql:1") && detail.contains("already exists"), "{detail}");
    let o = run("drifts");
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert!(v["checks"][0]["details"].to_string().contains("t_v_idx1"), "{v}");
    let o = run("ok");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json(&o)["checks"][0]["passed"], true);
}

#[test]
fn check_down_catches_a_destructive_rollback() {
    if !have_postgres() {
        return;
    }
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("bad/001_note.up.sql", b"ALTER TABLE t ADD COLUMN note text;\n"),
        (
            "bad/001_note.down.sql",
            b"DROP TABLE t;\nCREATE TABLE t (id int PRIMARY KEY, v int, label text NOT NULL DEFAULT 'x');\n",
        ),
        (
            "good/001_note.sql",
            b"-- migrate:up\nALTER TABLE t ADD COLUMN note text;\n-- migrate:down\nALTER TABLE t DROP COLUMN note;\n",
        ),
    ]);
    let run = |m: &str| {
        trace(dir.path(), &[m, "--snapshot", "schema.sql", "--workload", "0", "--check-down", "--format", "json"])
    };
    let o = run("bad");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(kinds(&v), ["down"]);
    let details = v["checks"][0]["details"].to_string();
    assert!(details.contains("table public.t was dropped"), "{details}");
    let o = run("good");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json(&o)["checks"][0]["passed"], true);
}

#[test]
fn the_migration_tool_orders_the_files_and_sets_the_transaction_mode() {
    if !have_postgres() {
        return;
    }
    // Flyway: V10 after V2 (path order has it first, and it would fail there), the undo file is
    // the down part.
    let dir = project(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/V1__a.sql", b"CREATE TABLE a (id int PRIMARY KEY);\n"),
        ("m/V2__b.sql", b"ALTER TABLE a ADD COLUMN b int;\n"),
        ("m/V10__c.sql", b"ALTER TABLE a RENAME COLUMN b TO c;\n"),
        ("m/U10__c.sql", b"ALTER TABLE a RENAME COLUMN c TO b;\n"),
        ("m/README.md", b"not a migration\n"),
    ]);
    let o = trace(dir.path(), &["m", "--workload", "0", "--check-down", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let paths: Vec<&str> =
        v["migrations"].as_array().expect("m").iter().map(|m| m["path"].as_str().expect("path")).collect();
    assert_eq!(paths, ["m/V1__a.sql", "m/V2__b.sql", "m/V10__c.sql"]);
    assert_eq!(v["checks"][0]["path"], "m/U10__c.sql");
    assert_eq!(v["checks"][0]["passed"], true);
    // The same files as a shell glob gives them (path order) run in Flyway's order too; forced to
    // plain files they run in path order and V10 fails.
    let glob = ["m/U10__c.sql", "m/V10__c.sql", "m/V1__a.sql", "m/V2__b.sql"];
    let o = trace(dir.path(), &[&glob[1..], &["--workload", "0"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = trace(dir.path(), &[&glob[1..], &["--workload", "0", "--framework", "plain", "--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(json(&o)["findings"][0]["location"], "m/V10__c.sql:1");

    // goose NO TRANSACTION: the ALTER's lock ends with its statement, not after the sleep.
    let migration = b"-- +goose NO TRANSACTION\n-- +goose Up\nALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(0.5);\n";
    let dir = project(&[("schema.sql", SCHEMA.as_bytes()), ("g/1_x.sql", migration)]);
    let args = ["g", "--snapshot", "schema.sql", "--workload", "0", "--max-exclusive-ms", "400", "--format", "json"];
    let o = trace(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(json(&o)["migrations"][0]["mode"], "per-statement");
    // The same file in a sluice.toml project fixed to plain files runs in one transaction.
    std::fs::write(dir.path().join("sluice.toml"), "framework = \"plain\"\n").expect("config");
    let o = trace(dir.path(), &args);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["migrations"][0]["mode"], "transaction");
    assert_eq!(kinds(&v), ["max-exclusive-ms"]);
}

fn cluster_dirs(tmp: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("sluice-trace-")))
        .collect()
}

#[test]
fn a_killed_run_is_cleaned_up_by_the_next_one() {
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
        .args(["trace", "slow", "--workload", "0"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait for a running server and the statement in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    let postmaster = loop {
        let ready = cluster_dirs(&tmp).into_iter().find_map(|d| {
            let pidfile = std::fs::read_to_string(d.join("data/postmaster.pid")).ok()?;
            let lines: Vec<&str> = pidfile.lines().collect();
            (lines.get(7).map(|s| s.trim()) == Some("ready")).then(|| lines[0].trim().parse::<i32>().ok()).flatten()
        });
        if let Some(pid) = ready {
            break pid;
        }
        assert!(Instant::now() < deadline, "no cluster started");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(1500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).expect("kill -9");
    let _ = child.wait();
    assert!(kill(Pid::from_raw(postmaster), None).is_ok(), "the killed run left its server behind");
    assert_eq!(cluster_dirs(&tmp).len(), 1);
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "quick", "--workload", "0"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(cluster_dirs(&tmp).is_empty(), "{:?}", cluster_dirs(&tmp));
    let deadline = Instant::now() + Duration::from_secs(10);
    while kill(Pid::from_raw(postmaster), None).is_ok() {
        let zombie = std::fs::read_to_string(format!("/proc/{postmaster}/stat")).is_ok_and(|s| s.contains(") Z "));
        assert!(zombie || Instant::now() < deadline, "orphaned postmaster {postmaster} still runs");
        if zombie {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Live processes whose working directory is under `dir` (servers and their backends run in
/// their data directory).
fn processes_under(dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c.starts_with(dir)))
        .filter(|pid| !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")))
        .collect()
}

/// Waits for `child` to exit (at most `limit`), then returns its output.
fn finish(mut child: std::process::Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sluice trace did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A project whose temporary directory (`tmp`, passed as TMPDIR) the server user can use.
fn project_with_tmp(files: &[(&str, &[u8])]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = project(files);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    (dir, tmp)
}

/// Checks the end of a run whose server was killed: exit 2, an error naming the statement, no
/// panic, no server process or directory left.
fn assert_lost_connection_reported(o: &Output, location: &str, tmp: &Path, prefix: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{}{err}", stdout(o));
    assert!(err.contains(location) && err.contains("connection to the server was lost"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let left: Vec<_> = std::fs::read_dir(tmp)
        .expect("tmp")
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(prefix)))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_under(tmp).is_empty() {
        assert!(Instant::now() < deadline, "server processes left: {:?}", processes_under(tmp));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_server_killed_mid_statement_is_an_error_naming_the_statement() {
    if !have_postgres() {
        return;
    }
    let (dir, tmp) = project_with_tmp(&[
        ("schema.sql", SCHEMA.as_bytes()),
        ("m/001.sql", b"ALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(60);\n"),
    ]);
    let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "m", "--snapshot", "schema.sql", "--workload", "2"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let psql = sluice_runner::cluster::PgBinaries::find().expect("bin").tool("psql");
    // Wait until the sleep runs, then kill the postmaster.
    let deadline = Instant::now() + Duration::from_secs(60);
    let postmaster = loop {
        let running = cluster_dirs(&tmp).into_iter().find_map(|d| {
            let out = Command::new(&psql)
                .args(["-X", "-At", "-p", "5432", "-U", "postgres", "-d", "postgres", "-h"])
                .arg(&d)
                .arg("-c")
                .arg("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")
                .output()
                .ok()?;
            let pidfile = std::fs::read_to_string(d.join("data/postmaster.pid")).ok()?;
            let pid = pidfile.lines().next()?.trim().parse::<i32>().ok()?;
            (String::from_utf8_lossy(&out.stdout).trim() == "1").then_some(pid)
        });
        if let Some(pid) = running {
            break pid;
        }
        assert!(Instant::now() < deadline, "the statement never ran");
        std::thread::sleep(Duration::from_millis(100));
    };
    kill(Pid::from_raw(postmaster), Signal::SIGKILL).expect("kill -9 the postmaster");
    let o = finish(child, Duration::from_secs(60));
    assert_lost_connection_reported(&o, "m/001.sql:2", &tmp, "sluice-trace-");
}

#[test]
fn mysql_dialect_detects_a_rebuild_gates_and_exit_codes() {
    if !have_mariadb() {
        return;
    }
    let dir = project(&[
        ("snap.sql", b"CREATE TABLE accounts (id int PRIMARY KEY, n int, label varchar(20));\n"),
        ("m/001.sql", b"ALTER TABLE accounts ADD COLUMN note text;\nALTER TABLE accounts MODIFY n bigint;\n"),
        ("bad/001.sql", b"ALTER TABLE missing ADD COLUMN c int;\n"),
        // LOCK=EXCLUSIVE holds the exclusive metadata lock for the whole index build, long enough
        // to be sampled (a copy takes it only for its brief final rename).
        ("x/001.sql", b"ALTER TABLE accounts ADD INDEX n_idx (n), ALGORITHM=INPLACE, LOCK=EXCLUSIVE;\n"),
    ]);
    let base = ["--dialect", "mysql", "--snapshot", "snap.sql", "--seed-rows", "20000", "--workload", "0"];
    let o = trace(dir.path(), &[&["m"], &base[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert!(v["server"].as_str().is_some_and(|s| s.starts_with("MariaDB")), "{v}");
    let sts = statements(&v);
    assert_eq!(sts.len(), 2);
    // ADD COLUMN at the end is instant; int -> bigint copies the table.
    assert_eq!(sts[0]["rewrites"].as_array().map(Vec::len), Some(0), "{}", sts[0]);
    assert_eq!(sts[1]["rewrites"][0]["object"], "accounts", "{}", sts[1]);
    let algorithms: Vec<&str> =
        v["algorithms"].as_array().expect("algorithms").iter().map(|a| a["algorithm"].as_str().expect("a")).collect();
    assert_eq!(algorithms, ["INSTANT", "COPY"]);
    // An exclusive metadata lock held longer than a budget of 0 ms fails the run, naming it.
    let x = ["x", "--dialect", "mysql", "--snapshot", "snap.sql", "--seed-rows", "100000", "--workload", "0"];
    let o = trace(dir.path(), &[&x[..], &["--max-exclusive-ms", "0"]].concat());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    let line = out.lines().find(|l| l.contains("error[max-exclusive-ms] x/001.sql:1")).expect(&out);
    assert!(line.contains("EXCLUSIVE on table accounts"), "{line}");
    // A statement the server rejects is a finding (exit 1); a URL without --in-place is refused (2).
    let o = trace(dir.path(), &[&["bad"], &base[..], &["--format", "json"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(kinds(&json(&o)), ["statement-failed"]);
    let o = trace(dir.path(), &["m", "--dialect", "mysql", "--database-url", "mysql://app:s3cret@localhost/db"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--in-place") && !stderr(&o).contains("s3cret"), "{}", stderr(&o));
}

#[test]
fn a_mariadb_server_killed_mid_statement_is_an_error_naming_the_statement() {
    if !have_mariadb() {
        return;
    }
    let (dir, tmp) = project_with_tmp(&[("m/001.sql", b"CREATE TABLE t (id int);\nSELECT SLEEP(60);\n")]);
    let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "m", "--dialect", "mysql", "--workload", "0"])
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(90);
    let server = loop {
        let running = std::fs::read_dir(&tmp).expect("tmp").flatten().find_map(|e| {
            let d = e.path();
            e.file_name().to_str().filter(|n| n.starts_with("sluice-mariadb-"))?;
            let out = Command::new("mariadb")
                .arg(format!("--socket={}", d.join("mariadbd.sock").display()))
                .args(["-uroot", "-N", "-e"])
                .arg("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'")
                .output()
                .ok()?;
            let pid = std::fs::read_to_string(d.join("mariadbd.pid")).ok()?.trim().parse::<i32>().ok()?;
            (String::from_utf8_lossy(&out.stdout).trim() == "1").then_some(pid)
        });
        if let Some(pid) = running {
            break pid;
        }
        assert!(Instant::now() < deadline, "the statement never ran");
        std::thread::sleep(Duration::from_millis(100));
    };
    kill(Pid::from_raw(server), Signal::SIGKILL).expect("kill -9 mariadbd");
    let o = finish(child, Duration::from_secs(60));
    assert_lost_connection_reported(&o, "m/001.sql:2", &tmp, "sluice-mariadb-");
}

#[test]
fn database_url_works_on_a_clone_and_never_prints_the_password() {
    if !have_postgres() {
        return;
    }
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["trace", "x.sql", "--database-url", "postgres://app:s3cret@localhost/db?host=/nonexistent-dir"])
        .current_dir(project(&[("x.sql", b"SELECT 1;\n")]).path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains("s3cret") && !stdout(&o).contains("s3cret"), "{err}");
    assert!(err.contains("app:***@"), "{err}");

    let bin = sluice_runner::cluster::PgBinaries::find().expect("bin");
    let cluster = sluice_runner::cluster::Cluster::start(&bin).expect("cluster");
    let url = format!("postgresql://postgres@/postgres?host={}", cluster.socket_dir().display());
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let client = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    rt.block_on(client.batch_execute(SCHEMA)).expect("schema");
    let dir = project(&[("m/001.sql", b"ALTER TABLE t ADD COLUMN y int;\n")]);
    // Another session on the source database prevents cloning; disconnect first.
    drop(client);
    std::thread::sleep(Duration::from_millis(200));
    let o = trace(dir.path(), &["m", "--database-url", &url, "--workload", "0", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["target"], "clone");
    assert!(has_lock(statements(&v)[0], "public.t", "ACCESS EXCLUSIVE"));
    let client = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    let left: i64 = rt
        .block_on(client.query_one(
            "SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'sluice_trace_%') \
                  + (SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'y')",
            &[],
        ))
        .expect("q")
        .get(0);
    assert_eq!(left, 0, "the clone is dropped and the source untouched");

    // In place, with a session holding a conflicting lock: a lock timeout is a finding.
    rt.block_on(client.batch_execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")).expect("lock");
    let o = trace(
        dir.path(),
        &["m", "--database-url", &url, "--in-place", "--workload", "0", "--lock-timeout", "300ms", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(kinds(&v), ["lock-timeout"]);
    assert_eq!(v["findings"][0]["location"], "m/001.sql:1");
    rt.block_on(client.batch_execute("ROLLBACK")).expect("rollback");
}
