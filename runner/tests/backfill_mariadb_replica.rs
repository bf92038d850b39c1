//! `sluice backfill` on MariaDB with a real replica: two throwaway servers, the second
//! replicating from the first over TCP. While the replica's applier is held (a table lock on the
//! replica), the lag throttle (`--max-lag-seconds`, lag read through `--replica-url`) holds the
//! batches; once the replica catches up the backfill completes with every row updated once.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use sluice_runner::backfill::{self, Options};
use sluice_runner::mysql_server::{MariaDbBinaries, MariaDbServer, ServerOptions};
use std::time::{Duration, Instant};

mod common;

/// Rows of the backfilled table.
const ROWS: i64 = 60_000;

async fn count(c: &mut Conn, sql: &str) -> i64 {
    c.query_first::<i64, _>(sql).await.expect(sql).expect("a row")
}

/// `Seconds_Behind_Master` of the replica (`None` when NULL).
async fn seconds_behind(c: &mut Conn) -> Option<i64> {
    let row: Row = c.query_first("SHOW SLAVE STATUS").await.expect("status").expect("a replica");
    let at = row.columns_ref().iter().position(|c| c.name_str() == "Seconds_Behind_Master").expect("column");
    match row.as_ref(at) {
        Some(Value::Int(v)) => Some(*v),
        Some(Value::UInt(v)) => Some(*v as i64),
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).parse().ok(),
        _ => None,
    }
}

#[test]
fn lag_throttle_holds_batches_while_the_mariadb_replica_is_behind() {
    let bin = match MariaDbBinaries::find() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipped: {e}");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let primary =
        rt.block_on(MariaDbServer::start_with(&bin, ServerOptions { tcp: true, server_id: Some(1) })).expect("primary");
    let replica = rt
        .block_on(MariaDbServer::start_with(&bin, ServerOptions { tcp: false, server_id: Some(2) }))
        .expect("replica");
    let port = primary.port().expect("the primary listens on TCP");
    let (mut p, mut r) = rt.block_on(async {
        let mut p = Conn::new(primary.opts(None)).await.expect("connect to the primary");
        for sql in [
            "CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'repl-pw'".to_string(),
            "GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'".to_string(),
            "CREATE DATABASE app".to_string(),
            "CREATE TABLE app.orders (id bigint PRIMARY KEY, region_code varchar(8), updates int NOT NULL DEFAULT 0)"
                .to_string(),
            // The sequence engine's tables belong to the current database.
            "USE app".to_string(),
            format!("INSERT INTO orders (id) SELECT seq FROM seq_1_to_{ROWS}"),
            // Fires on the primary only: row-format events do not run triggers on the replica.
            "CREATE TRIGGER app.orders_count BEFORE UPDATE ON app.orders FOR EACH ROW \
             SET NEW.updates = OLD.updates + 1"
                .to_string(),
        ] {
            p.query_drop(&sql).await.expect(&sql);
        }
        let mut r = Conn::new(replica.opts(None)).await.expect("connect to the replica");
        r.query_drop(format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', \
             MASTER_PASSWORD='repl-pw', MASTER_USE_GTID=no"
        ))
        .await
        .expect("change master");
        r.query_drop("START SLAVE").await.expect("start slave");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let copied = r.query_first::<i64, _>("SELECT count(*) FROM app.orders").await.ok().flatten().unwrap_or(0);
            if copied == ROWS && seconds_behind(&mut r).await == Some(0) {
                break;
            }
            assert!(Instant::now() < deadline, "the replica did not catch up: {copied} rows");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (p, r)
    });
    let url = |s: &MariaDbServer| format!("mysql://root@localhost/app?socket={}", s.socket_path().display());
    let opts = Options {
        database_url: url(&primary),
        replica_url: Some(url(&replica)),
        table: "orders".into(),
        set: vec!["region_code = 'eu'".into()],
        batch: 1000,
        max_lag_seconds: Some(1.0),
        sleep_ms: 100,
        lock_timeout_ms: 2000,
        ..Options::default()
    };
    let done = "SELECT count(*) FROM app.orders WHERE updates > 0";
    let handle = std::thread::spawn(move || backfill::run(&opts, None));
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&mut p, done).await < 10_000 {
            assert!(Instant::now() < deadline, "no progress");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The replica's applier waits for this lock from its next event on; the lag then grows
        // by a second a second and passes the 1 s limit within about two seconds.
        r.query_drop("LOCK TABLES app.orders READ").await.expect("lock on the replica");
        tokio::time::sleep(Duration::from_millis(3000)).await;
        let held = count(&mut p, done).await;
        assert!(held < ROWS, "the run ended before the replica fell behind");
        tokio::time::sleep(Duration::from_millis(2000)).await;
        assert_eq!(count(&mut p, done).await, held, "a batch ran while the replica was behind");
        // Measured here: the replica lacks rows the primary has updated, and says it is behind.
        let on_replica = count(&mut r, "SELECT count(*) FROM app.orders WHERE region_code = 'eu'").await;
        assert!(on_replica < held, "the replica has {on_replica} of {held} updated rows");
        let mut status = Conn::new(replica.opts(None)).await.expect("connect to the replica");
        let behind = seconds_behind(&mut status).await;
        assert!(behind.is_some_and(|s| s > 3), "the replica was only {behind:?} s behind");
        eprintln!("held at {held} rows (replica at {on_replica}), replica {behind:?} s behind");
        let _ = status.disconnect().await;
        r.query_drop("UNLOCK TABLES").await.expect("unlock");
    });
    let out = handle.join().expect("thread").expect("backfill");
    common::print_outcome(&out);
    assert_eq!(out.rows_updated as i64, ROWS);
    assert_eq!(out.batches, 60);
    assert!(out.lag_waits >= 1 && out.lag_wait_ms > 2000.0, "{out:?}");
    assert!(out.max_lag_seconds_seen.expect("seen") > 3.0, "{out:?}");
    assert!(out.max_lag_seconds_at_batch_start.expect("seen") <= 1.0, "{out:?}");
    rt.block_on(async {
        assert_eq!(count(&mut p, "SELECT count(*) FROM app.orders WHERE updates = 1").await, ROWS);
        assert_eq!(count(&mut p, "SELECT count(*) FROM app.orders WHERE NOT (region_code <=> 'eu')").await, 0);
        let _ = p.disconnect().await;
        let _ = r.disconnect().await;
    });
    let dirs = [primary.root().to_path_buf(), replica.root().to_path_buf()];
    drop(replica);
    drop(primary);
    assert!(dirs.iter().all(|d| !d.exists()), "server directories left: {dirs:?}");
}
