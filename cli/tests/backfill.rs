//! `sluice backfill` end to end against throwaway PostgreSQL and MariaDB servers the tests start
//! themselves: 200,000 rows in batches, a run killed with SIGKILL and one stopped with SIGINT,
//! both resumed without updating any row twice (a trigger counts the updates of every row).

mod common;

use common::{have_mariadb, have_postgres, mariadb_query, stderr, stdout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use sluice_runner::cluster::{Cluster, PgBinaries};
use sluice_runner::mysql_server::{MariaDbBinaries, MariaDbServer};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 200_000;
const BATCH: i64 = 1000;

fn backfill(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sluice"));
    c.arg("backfill").args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

/// Waits until `done()` reaches `at_least` rows, then sends `signal` to the child.
fn stop_midway(child: &mut Child, signal: Signal, at_least: i64, mut done: impl FnMut() -> i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while done() < at_least {
        assert!(Instant::now() < deadline, "the backfill did not progress");
        assert!(child.try_wait().expect("wait").is_none(), "the backfill ended before it was stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(child.id() as i32), signal).expect("signal");
}

fn pg_url(cluster: &Cluster) -> String {
    // A key/value conninfo string with a password (trust authentication ignores it): it must
    // never be printed.
    format!("host={} port=5432 user=postgres dbname=postgres password=s3cret-pw", cluster.socket_dir().display())
}

#[test]
fn postgres_backfill_is_batched_and_resumes_after_kill_and_ctrl_c() {
    if !have_postgres() {
        return;
    }
    let cluster = Cluster::start(&PgBinaries::find().expect("bin")).expect("cluster");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let client = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    rt.block_on(client.batch_execute(&format!(
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount int NOT NULL, region_code text, updates int NOT NULL DEFAULT 0);\n\
         INSERT INTO orders (id, amount) SELECT i, i % 97 FROM generate_series(1, {ROWS}) i;\n\
         -- 500 rows already have the value: they never need the change.\n\
         UPDATE orders SET region_code = 'eu' WHERE id % 400 = 0;\n\
         ANALYZE orders;\n\
         CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN NEW.updates := OLD.updates + 1; RETURN NEW; END $$;\n\
         CREATE TRIGGER orders_count BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION count_update();"
    )))
    .expect("schema");
    let count = |sql: &str| -> i64 { rt.block_on(client.query_one(sql, &[])).expect("count").get(0) };
    let needing = ROWS - ROWS / 400;
    let url = pg_url(&cluster);
    let base = ["--database-url", &url, "--table", "orders", "--set", "region_code = 'eu'"];
    let batch = BATCH.to_string();

    // Dry run: the SQL and the estimate; nothing changes.
    let o = backfill(&[&base[..], &["--batch", &batch, "--dry-run"]].concat()).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("need the change (planner estimate)") && out.contains("LIMIT 1000"), "{out}");
    assert!(out.contains("\"region_code\" IS DISTINCT FROM ('eu')") && !out.contains("OFFSET"), "{out}");
    assert_eq!(count("SELECT count(*) FROM orders WHERE updates > 0"), 0);

    // Killed with SIGKILL midway: every committed batch stays done, in whole batches.
    let mut child = backfill(&[&base[..], &["--batch", &batch, "--sleep-ms", "15"]].concat()).spawn().expect("spawn");
    stop_midway(&mut child, Signal::SIGKILL, 20_000, || count("SELECT count(*) FROM orders WHERE updates > 0"));
    let _ = child.wait();
    let after_kill = count("SELECT count(*) FROM orders WHERE updates > 0");
    assert!(after_kill >= 20_000 && after_kill < needing, "{after_kill}");
    assert_eq!(after_kill % BATCH, 0, "only whole batches are committed");

    // Stopped with SIGINT: it finishes its batch, prints how to continue, exits 130.
    let mut child = backfill(&[&base[..], &["--batch", &batch, "--sleep-ms", "15", "--format", "json"]].concat())
        .spawn()
        .expect("spawn");
    stop_midway(&mut child, Signal::SIGINT, after_kill + 20_000, || {
        count("SELECT count(*) FROM orders WHERE updates > 0")
    });
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["interrupted"], true);
    let second = v["rows_updated"].as_i64().expect("rows");
    let after_int = count("SELECT count(*) FROM orders WHERE updates > 0");
    assert_eq!(after_int, after_kill + second, "the run reports exactly the rows it changed");
    let err = stderr(&o);
    assert!(err.contains("the same command continues") && err.contains("sluice backfill"), "{err}");
    assert!(err.contains("password=***") && !err.contains("s3cret-pw"), "{err}");

    // Resumed: only the rest is updated; every row needing the change got exactly one update.
    let o = backfill(&[&base[..], &["--batch", &batch, "--format", "json"]].concat()).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let third = v["rows_updated"].as_i64().expect("rows");
    assert_eq!(after_kill + second + third, needing, "no row updated twice, none missed");
    assert!(v["batches"].as_i64().expect("batches") >= third / BATCH);
    assert_eq!(count("SELECT count(*) FROM orders WHERE updates = 1"), needing);
    assert_eq!(count("SELECT count(*) FROM orders WHERE updates > 1"), 0);
    assert_eq!(count("SELECT count(*) FROM orders WHERE region_code IS DISTINCT FROM 'eu'"), 0);
    // A run with nothing left to do changes nothing.
    let o = backfill(&[&base[..], &["--format", "json"]].concat()).output().expect("run");
    assert_eq!(json(&o)["rows_updated"], 0);
    assert_eq!(count("SELECT count(*) FROM orders WHERE updates > 1"), 0);
    // Human summary; an unknown table is a clear error that never shows the password.
    let o = backfill(&[&base[..], &["--where", "amount = 3"]].concat()).output().expect("run");
    assert!(stdout(&o).starts_with("public.orders: 0 rows updated in 0 batches"), "{}", stdout(&o));
    let o = backfill(&["--database-url", &url, "--table", "nope", "--set", "a = 1"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--table nope: no such table") && !stderr(&o).contains("s3cret"), "{}", stderr(&o));
    drop(cluster);
}

#[test]
fn mariadb_backfill_is_batched_and_resumes_after_kill() {
    if !have_mariadb() {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let server = rt.block_on(MariaDbServer::start(&MariaDbBinaries::find().expect("bin"))).expect("server");
    let query = |sql: &str| mariadb_query(&server.socket_path(), sql);
    for sql in [
        "CREATE DATABASE shop".to_string(),
        "CREATE TABLE shop.orders (id bigint PRIMARY KEY, amount int NOT NULL, region_code varchar(8), \
         updates int NOT NULL DEFAULT 0)"
            .to_string(),
        format!("USE shop; INSERT INTO orders (id, amount) SELECT seq, seq % 97 FROM seq_1_to_{ROWS}"),
        "UPDATE shop.orders SET region_code = 'eu' WHERE id % 400 = 0".to_string(),
        "CREATE TRIGGER shop.orders_count BEFORE UPDATE ON shop.orders FOR EACH ROW \
         SET NEW.updates = OLD.updates + 1"
            .to_string(),
    ] {
        query(&sql);
    }
    let count = |sql: &str| -> i64 { query(sql).parse().unwrap_or(-1) };
    let needing = ROWS - ROWS / 400;
    let url = format!("mysql://root:s3cret-pw@localhost/shop?socket={}", server.socket_path().display());
    let base = ["--database-url", &url, "--table", "orders", "--set", "region_code = 'eu'"];
    let batch = BATCH.to_string();
    let done = "SELECT count(*) FROM shop.orders WHERE updates > 0";

    let o = backfill(&[&base[..], &["--dry-run"]].concat()).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "root has no password: the URL's is refused");
    assert!(!stderr(&o).contains("s3cret-pw"), "{}", stderr(&o));
    let url = format!("mysql://root@localhost/shop?socket={}", server.socket_path().display());
    let base = ["--database-url", &url, "--table", "orders", "--set", "region_code = 'eu'"];
    let o = backfill(&[&base[..], &["--dry-run", "--batch", &batch]].concat()).output().expect("run");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.contains("NOT (`region_code` <=> ('eu'))") && out.contains("LIMIT 1000"), "{out}");
    assert!(out.contains("innodb_lock_wait_timeout = 2"), "{out}");

    let mut child = backfill(&[&base[..], &["--batch", &batch, "--sleep-ms", "15"]].concat()).spawn().expect("spawn");
    stop_midway(&mut child, Signal::SIGKILL, 20_000, || count(done));
    let _ = child.wait();
    let after_kill = count(done);
    assert!(after_kill >= 20_000 && after_kill < needing, "{after_kill}");
    assert_eq!(after_kill % BATCH, 0, "only whole batches are committed");

    let o = backfill(&[&base[..], &["--batch", &batch, "--format", "json"]].concat()).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(after_kill + v["rows_updated"].as_i64().expect("rows"), needing, "no row updated twice");
    assert_eq!(count("SELECT count(*) FROM shop.orders WHERE updates = 1"), needing);
    assert_eq!(count("SELECT count(*) FROM shop.orders WHERE updates > 1"), 0);
    assert_eq!(count("SELECT count(*) FROM shop.orders WHERE NOT (region_code <=> 'eu')"), 0);
    let o = backfill(&[&base[..], &["--format", "json"]].concat()).output().expect("run");
    assert_eq!(json(&o)["rows_updated"], 0);
    // Without a replica to read, a lag limit is refused on MySQL.
    let o = backfill(&[&base[..], &["--max-lag-seconds", "1"]].concat()).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs --replica-url"), "{}", stderr(&o));
    // The lag reader on real status rows: a server that is no replica, then one whose replication
    // is configured but not running (no source to connect to: Seconds_Behind_Master is NULL).
    let lagged = [&base[..], &["--max-lag-seconds", "1", "--replica-url", &url]].concat();
    let o = backfill(&lagged).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a replica"), "{}", stderr(&o));
    query("CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 1, MASTER_CONNECT_RETRY = 60; START SLAVE");
    let o = backfill(&lagged).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("replication is not running"), "{}", stderr(&o));
    query("STOP SLAVE; RESET SLAVE ALL");
    drop(server);
}
