//! Concurrent clients that send representative traffic to the touched tables for the whole run:
//! reads by primary key, bounded counts, one-row inserts and one-row updates, each statement with
//! a short `statement_timeout`. Every statement's latency is recorded; the slow and the failed
//! ones are kept with their start time so they can be attributed to the migration statement
//! running when they started.

use crate::catalog;
use crate::seed::{insert_sql, Table};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_postgres::Config;

/// Statements slower than this are kept as events.
const SLOW_MS: f64 = 5.0;
/// Pause between two statements of one client.
const PACE: Duration = Duration::from_millis(5);

/// A slow or failed workload statement.
#[derive(Clone, Debug)]
pub struct Event {
    pub table: usize,
    pub start_ms: f64,
    pub wait_ms: f64,
    pub failed: bool,
}

/// Per table: statements, failures, the longest wait.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub statements: u64,
    pub failed: u64,
    pub max_wait_ms: f64,
    /// The first error a statement on the table got.
    pub first_error: Option<String>,
}

#[derive(Default)]
struct ClientResult {
    stats: HashMap<usize, Stats>,
    events: Vec<Event>,
}

/// A running workload.
pub struct Workload {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<ClientResult>>,
    pub tables: Vec<String>,
}

/// What the workload saw.
pub struct Outcome {
    pub tables: Vec<String>,
    pub stats: Vec<Stats>,
    pub events: Vec<Event>,
}

fn statements_for(t: &Table, n: u64) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(pk) = &t.int_pk {
        v.push(format!("SELECT * FROM {} WHERE \"{}\" = {}", t.quoted, pk.replace('"', "\"\""), 1 + n % 1000));
    }
    v.push(format!("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 100) s", t.quoted));
    // Values far above the seeded series, distinct per client statement.
    v.push(insert_sql(t, &format!("(SELECT {}::bigint AS i) g", 1_000_000_000 + n), true));
    if let Some(c) = t.columns.iter().find(|c| !c.server_filled).or(t.columns.first()) {
        let q = format!("\"{}\"", c.name.replace('"', "\"\""));
        v.push(format!("UPDATE {t} SET {q} = {q} WHERE ctid = (SELECT ctid FROM {t} LIMIT 1)", t = t.quoted));
    }
    v
}

/// Starts `clients` clients on `tables`. `t0` is the run's time origin.
pub async fn start(
    cfg: &Config,
    tables: &[Table],
    clients: usize,
    timeout_ms: u64,
    t0: Instant,
) -> crate::Result<Workload> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for id in 0..clients {
        let client = catalog::connect(cfg, "workload").await?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = '{timeout_ms}ms'; SET application_name = 'sluice workload'"
            ))
            .await
            .map_err(|e| crate::Error::db("configuring a workload client", &e))?;
        // Warm-up, not measured: the first statements of a session fill its catalog caches.
        for (k, t) in tables.iter().enumerate() {
            for sql in statements_for(t, (id * 1000 + k) as u64 + 9_000_000_000) {
                let _ = client.simple_query(&sql).await;
            }
        }
        let tables = tables.to_vec();
        let stop = stop.clone();
        handles.push(tokio::spawn(async move {
            let mut out = ClientResult::default();
            let mut n: u64 = (id as u64) * 10_000_000;
            while !stop.load(Ordering::Relaxed) {
                for (ti, t) in tables.iter().enumerate() {
                    let stmts = statements_for(t, n);
                    let sql = &stmts[(n as usize + id) % stmts.len()];
                    n += 1;
                    let start = Instant::now();
                    let r = client.simple_query(sql).await;
                    let wait_ms = start.elapsed().as_secs_f64() * 1000.0;
                    let s = out.stats.entry(ti).or_default();
                    s.statements += 1;
                    s.failed += u64::from(r.is_err());
                    if let (Err(e), None) = (&r, &s.first_error) {
                        s.first_error = Some(crate::error::db_message(e));
                    }
                    s.max_wait_ms = s.max_wait_ms.max(wait_ms);
                    if wait_ms >= SLOW_MS || r.is_err() {
                        let start_ms = start.duration_since(t0).as_secs_f64() * 1000.0;
                        out.events.push(Event { table: ti, start_ms, wait_ms, failed: r.is_err() });
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(PACE).await;
                }
            }
            out
        }));
    }
    Ok(Workload { stop, handles, tables: tables.iter().map(|t| t.display.clone()).collect() })
}

impl Workload {
    /// Stops the clients and gathers what they saw.
    pub async fn finish(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        let mut stats = vec![Stats::default(); self.tables.len()];
        let mut events = Vec::new();
        for h in self.handles {
            if let Ok(r) = h.await {
                for (ti, s) in r.stats {
                    if let Some(t) = stats.get_mut(ti) {
                        t.statements += s.statements;
                        t.failed += s.failed;
                        t.max_wait_ms = t.max_wait_ms.max(s.max_wait_ms);
                        if t.first_error.is_none() {
                            t.first_error = s.first_error;
                        }
                    }
                }
                events.extend(r.events);
            }
        }
        events.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        Outcome { tables: self.tables, stats, events }
    }
}
