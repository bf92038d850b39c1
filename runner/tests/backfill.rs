//! `sluice backfill` against a throwaway PostgreSQL cluster streaming to a replica: the lag
//! throttle holds the batches while the replica is behind (its replay paused) and no batch
//! starts above the limit; composite keys; refusals. Lag read on the standby (`--replica-url`)
//! and on the primary (`pg_stat_replication`).

use sluice_runner::backfill::{self, Options, Outcome};
use sluice_runner::cluster::Cluster;
use sluice_runner::replica::Replica;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

mod common;
use common::pg_binaries as binaries;

static SERIAL: Mutex<()> = Mutex::new(());

/// Rows of the throttled table.
const ROWS: i64 = 60_000;

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn conninfo(socket_dir: &std::path::Path) -> String {
    format!("host={} port=5432 user=postgres dbname=postgres", socket_dir.display())
}

async fn count(c: &Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.expect(sql).get(0)
}

/// Runs a backfill on a thread; pauses the replica's replay once `pause_at` rows are done, keeps
/// it paused for `hold`, and checks that no rows were updated in the second half of the pause.
fn throttled_run(
    rt: &tokio::runtime::Runtime,
    primary: &Client,
    replica: &Client,
    opts: Options,
    done_sql: &str,
) -> Outcome {
    let handle = std::thread::spawn(move || backfill::run(&opts, None));
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(primary, done_sql).await < 10_000 {
            assert!(Instant::now() < deadline, "no progress");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        replica.batch_execute("SELECT pg_wal_replay_pause()").await.expect("pause");
        // Within about a second the lag passes the 1 s limit; a batch running then may finish.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let held = count(primary, done_sql).await;
        assert!(held < ROWS, "the run ended before the replica fell behind");
        tokio::time::sleep(Duration::from_millis(2000)).await;
        assert_eq!(count(primary, done_sql).await, held, "a batch ran while the replica was behind");
        // Measured here, independently of the backfill: the replica was well behind meanwhile.
        let behind: f64 = replica
            .query_one("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8", &[])
            .await
            .expect("lag")
            .get(0);
        assert!(behind > 2.0, "the replica was only {behind} s behind");
        replica.batch_execute("SELECT pg_wal_replay_resume()").await.expect("resume");
    });
    let out = handle.join().expect("thread").expect("backfill");
    common::print_outcome(&out);
    out
}

#[test]
fn lag_throttle_holds_batches_while_the_replica_is_behind() {
    let _serial = serial();
    let Some(bin) = binaries() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let cluster = Cluster::start(&bin).expect("cluster");
    let replica = rt.block_on(Replica::start(&bin, &cluster)).expect("replica");
    let (p, r) = rt.block_on(async {
        let p = sluice_runner::catalog::connect(&cluster.config("postgres"), "primary").await.expect("primary");
        p.batch_execute(&format!(
            "CREATE TABLE orders (id bigint PRIMARY KEY, region_code text, flag int);\n\
             INSERT INTO orders SELECT i, NULL, 0 FROM generate_series(1, {ROWS}) i;"
        ))
        .await
        .expect("schema");
        let r = sluice_runner::catalog::connect(&replica.config("postgres"), "replica").await.expect("replica");
        (p, r)
    });
    let base = Options {
        database_url: conninfo(cluster.socket_dir()),
        table: "orders".into(),
        batch: 1000,
        max_lag_seconds: Some(1.0),
        sleep_ms: 30,
        lock_timeout_ms: 2000,
        ..Options::default()
    };
    // Lag read on the standby.
    let out = throttled_run(
        &rt,
        &p,
        &r,
        Options { set: vec!["region_code = 'eu'".into()], replica_url: Some(conninfo(replica.root())), ..base.clone() },
        "SELECT count(*) FROM orders WHERE region_code = 'eu'",
    );
    assert_eq!(out.rows_updated as i64, ROWS);
    assert_eq!(out.batches, 60);
    assert!(out.lag_waits >= 1 && out.lag_wait_ms > 2000.0, "{out:?}");
    assert!(out.max_lag_seconds_seen.expect("seen") > 1.0, "{out:?}");
    // Lag read on the primary (pg_stat_replication).
    let out = throttled_run(
        &rt,
        &p,
        &r,
        Options { set: vec!["flag = 1".into()], ..base.clone() },
        "SELECT count(*) FROM orders WHERE flag = 1",
    );
    assert_eq!(out.rows_updated as i64, ROWS);
    assert!(out.lag_waits >= 1 && out.lag_wait_ms > 1000.0, "{out:?}");
    assert!(out.max_lag_seconds_seen.expect("seen") > 1.0, "{out:?}");
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    drop(replica);
    drop(cluster);
}

#[test]
fn composite_keys_where_and_refusals() {
    let _serial = serial();
    let Some(bin) = binaries() else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let cluster = Cluster::start(&bin).expect("cluster");
    let p = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "primary")).expect("connect");
    rt.block_on(p.batch_execute(
        "CREATE SCHEMA app;\n\
         CREATE TABLE app.\"Pairs\" (a int, b text, v int, PRIMARY KEY (a, b));\n\
         INSERT INTO app.\"Pairs\" SELECT i % 7, 'k' || i, NULL FROM generate_series(1, 10000) i;\n\
         CREATE TABLE nokey (a int, v int);",
    ))
    .expect("schema");
    let url = conninfo(cluster.socket_dir());
    let opts = Options {
        database_url: url.clone(),
        table: "app.\"Pairs\"".into(),
        set: vec!["v = a * 10".into()],
        where_clause: Some("a < 5".into()),
        batch: 333,
        lock_timeout_ms: 1000,
        ..Options::default()
    };
    let out = backfill::run(&opts, None).expect("backfill");
    let expected = rt.block_on(count(&p, "SELECT count(*) FROM app.\"Pairs\" WHERE a < 5"));
    assert_eq!(out.rows_updated as i64, expected);
    assert_eq!(out.key, ["a", "b"]);
    assert_eq!(out.table, "app.\"Pairs\"");
    assert_eq!(out.batches as i64, expected / 333 + 1);
    assert_eq!(rt.block_on(count(&p, "SELECT count(*) FROM app.\"Pairs\" WHERE v = a * 10")), expected);
    assert_eq!(rt.block_on(count(&p, "SELECT count(*) FROM app.\"Pairs\" WHERE v IS NOT NULL AND a >= 5")), 0);
    assert_eq!(backfill::run(&opts, None).expect("again").rows_updated, 0, "nothing left to do");
    // Without a replica connected, a lag limit has nothing to wait for and says so.
    let out = backfill::run(&Options { where_clause: None, max_lag_seconds: Some(1.0), ..opts.clone() }, None)
        .expect("backfill");
    assert_eq!(out.rows_updated as i64, 10_000 - expected);
    assert!(out.notes.iter().any(|n| n.contains("no replica is connected")), "{:?}", out.notes);
    let refused = |o: Options| backfill::run(&o, None).expect_err("refused").to_string();
    let e = refused(Options { table: "nokey".into(), ..opts.clone() });
    assert!(e.contains("no primary key"), "{e}");
    let e = refused(Options { set: vec!["b = 'x'".into()], ..opts.clone() });
    assert!(e.contains("part of the primary key"), "{e}");
    let e = refused(Options { set: vec!["missing = 1".into()], ..opts.clone() });
    assert!(e.contains("has no column"), "{e}");
    let e = refused(Options { replica_url: Some(url.clone()), max_lag_seconds: Some(1.0), ..opts.clone() });
    assert!(e.contains("is not a standby"), "{e}");
    let e = refused(Options { batch: 0, ..opts.clone() });
    assert!(e.contains("--batch"), "{e}");
    // A row locked by another session: the batch hits its lock timeout, is rolled back and tried
    // again until the lock is gone.
    let locker = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "locker")).expect("c");
    rt.block_on(locker.batch_execute("BEGIN; SELECT * FROM app.\"Pairs\" WHERE a = 6 LIMIT 1 FOR UPDATE"))
        .expect("lock");
    let started = std::time::Instant::now();
    let o = Options { set: vec!["v = -1".into()], where_clause: None, lock_timeout_ms: 100, ..opts };
    let handle = std::thread::spawn(move || backfill::run(&o, None));
    std::thread::sleep(Duration::from_millis(700));
    rt.block_on(locker.batch_execute("COMMIT")).expect("unlock");
    let out = handle.join().expect("thread").expect("backfill");
    assert!(out.lock_retries >= 1, "{out:?}");
    assert_eq!(out.rows_updated, 10_000);
    assert!(started.elapsed() >= Duration::from_millis(700));
    drop(cluster);
}
