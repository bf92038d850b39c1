//! A streaming replica of the throwaway cluster (`sluice trace --replica`), and the replay lag
//! sampled on the primary while migrations run.
//!
//! The replica is a base backup of the primary (`pg_basebackup -R`: WAL streamed during the copy,
//! `standby.signal` and `primary_conninfo` written) in a second temporary directory, started as
//! the same unprivileged user on its own Unix socket, and removed when the [`Replica`] is dropped.
//! Its directory is named under the cluster prefix (`sluice-trace-replica-*`) with the same layout
//! and owner marker, so the orphan scan of [`crate::cluster::remove_orphans`] stops and removes
//! one left behind by a killed run exactly as it does a primary.
//!
//! The lag is read from `pg_stat_replication` on the primary every few milliseconds: `replay_lag`
//! (the time between the primary flushing WAL and the replica reporting it replayed) and the
//! distance in bytes between the primary's WAL insert position and the replica's replay position.

use crate::catalog;
use crate::cluster::{Cluster, PgBinaries, PgServer, DIR_PREFIX, PORT, SUPERUSER};
use crate::error::{Error, Result};
use crate::exec::Window;
use crate::owned::run_setup;
use crate::report::{Finding, ReplicaLag, Report};
use nix::unistd::{Gid, Uid};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, Config};

/// The replica's `cluster_name`: its WAL receiver's `application_name` on the primary.
pub const NAME: &str = "sluice_replica";
/// Pause between two lag samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How long the replica may take to catch up before and after the migrations.
const CATCH_UP: Duration = Duration::from_secs(120);

/// The replica directory prefix (inside the cluster prefix: one orphan scan covers both).
pub fn dir_prefix() -> String {
    format!("{DIR_PREFIX}replica-")
}

/// A running streaming replica. Dropping it stops the server and removes its directory.
#[derive(Debug)]
pub struct Replica {
    server: PgServer,
}

impl Replica {
    /// Makes sure the primary accepts a replication connection, takes a base backup of it and
    /// starts the replica, then waits until the primary shows it streaming.
    pub async fn start(bin: &PgBinaries, primary: &Cluster) -> Result<Replica> {
        let admin = catalog::connect(&primary.config("postgres"), "replication setup").await?;
        prepare_primary(&admin, primary).await?;
        let meta =
            fs::metadata(primary.data_dir()).map_err(|e| Error::io("reading the primary's data directory", e))?;
        // As root: the replica runs as the user that owns (and runs) the primary.
        let user = Uid::effective().is_root().then(|| (Uid::from_raw(meta.uid()), Gid::from_raw(meta.gid())));
        let mut server = PgServer::create(&dir_prefix(), user)?;
        let mut backup = Command::new(bin.tool("pg_basebackup"));
        backup
            .arg("-D")
            .arg(server.data_dir())
            .arg("-h")
            .arg(primary.socket_dir())
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"])
            .current_dir(server.root())
            .stdin(Stdio::null());
        run_setup(&mut backup, user, "pg_basebackup")?;
        let settings = [
            "fsync=off",
            "hot_standby=on",
            // A hot standby needs at least the primary's max_connections.
            "max_connections=200",
            "shared_buffers=64MB",
            &format!("cluster_name={NAME}"),
            "wal_receiver_status_interval=1",
        ];
        server.spawn(bin, user, &settings, &["ready", "standby"], "the replica")?;
        let replica = Replica { server };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let streaming = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'",
                    &[&NAME],
                )
                .await
                .map_err(|e| Error::db("reading pg_stat_replication", &e))?
                .try_get::<_, i64>(0)
                .unwrap_or(0);
            if streaming > 0 {
                return Ok(replica);
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(format!(
                    "the replica is not streaming after 60 s:\n{}",
                    replica.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn root(&self) -> &Path {
        self.server.root()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.server.data_dir()
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// Connection settings for `dbname` on the replica (read only).
    pub fn config(&self, dbname: &str) -> Config {
        self.server.config(dbname)
    }

    fn log_tail(&self) -> String {
        self.server.log_tail()
    }

    /// Stops the server (fast shutdown, then immediate, then SIGKILL) and removes the directory.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

async fn prepare_primary(admin: &Client, primary: &Cluster) -> Result<()> {
    let row = admin
        .query_one(
            "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int, \
             (SELECT count(*) FROM pg_hba_file_rules WHERE type = 'local' AND 'replication' = ANY(database))",
            &[],
        )
        .await
        .map_err(|e| Error::db("reading the replication settings", &e))?;
    let level: String = row.try_get(0).map_err(|e| Error::db("reading wal_level", &e))?;
    let senders: i32 = row.try_get(1).map_err(|e| Error::db("reading max_wal_senders", &e))?;
    let hba: i64 = row.try_get(2).map_err(|e| Error::db("reading pg_hba_file_rules", &e))?;
    if level == "minimal" || senders < 1 {
        return Err(Error::Cluster(format!(
            "the cluster cannot stream to a replica (wal_level = {level}, max_wal_senders = {senders})"
        )));
    }
    if hba == 0 {
        let path = primary.data_dir().join("pg_hba.conf");
        let mut text = fs::read_to_string(&path).map_err(|e| Error::io("reading pg_hba.conf", e))?;
        text.push_str("\nlocal replication all trust\n");
        fs::write(&path, text).map_err(|e| Error::io("writing pg_hba.conf", e))?;
        admin.batch_execute("SELECT pg_reload_conf()").await.map_err(|e| Error::db("reloading pg_hba.conf", &e))?;
    }
    Ok(())
}

/// One reading of the replica's lag.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Milliseconds since the start of the run.
    pub at_ms: f64,
    pub lag_ms: f64,
    pub lag_bytes: u64,
}

/// The readings of a run and how long the replica took to catch up after the last statement.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    pub catch_up_ms: Option<f64>,
}

/// Reads `pg_stat_replication` for the replica: `(replay_lag ms, replay distance bytes)`. The lag
/// is 0 once the replica has replayed everything (`replay_lag` keeps its last value a while).
pub async fn read_lag(c: &Client) -> Result<Option<(f64, u64)>> {
    let rows = c
        .query(
            "SELECT GREATEST(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), replay_lsn), 0)::bigint, \
             COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0)::float8 \
             FROM pg_stat_replication WHERE application_name = $1",
            &[&NAME],
        )
        .await
        .map_err(|e| Error::db("reading pg_stat_replication", &e))?;
    let Some(row) = rows.first() else { return Ok(None) };
    let bytes: Option<i64> = row.try_get(0).map_err(|e| Error::db("reading the replay distance", &e))?;
    let lag: f64 = row.try_get(1).map_err(|e| Error::db("reading replay_lag", &e))?;
    let bytes = u64::try_from(bytes.unwrap_or(0)).unwrap_or(0);
    Ok(Some((if bytes == 0 { 0.0 } else { lag }, bytes)))
}

/// Samples the lag on its own connection to the primary while the migrations run.
pub struct LagSampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Result<Samples>>,
}

impl LagSampler {
    /// Waits until the replica has replayed everything written so far (the snapshot, the seed
    /// rows), then samples every 10 ms from `t0`.
    pub async fn start(cfg: &Config, t0: Instant) -> Result<LagSampler> {
        let client = catalog::connect(cfg, "replica lag connection").await?;
        wait_caught_up(&client).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = tokio::spawn(async move {
            let mut out = Samples::default();
            let mut stopped_at: Option<Instant> = None;
            loop {
                let Some((lag_ms, lag_bytes)) = read_lag(&client).await? else {
                    return Err(Error::Cluster("the replica stopped streaming during the run".into()));
                };
                let now = Instant::now();
                out.samples.push(Sample { at_ms: now.duration_since(t0).as_secs_f64() * 1000.0, lag_ms, lag_bytes });
                if flag.load(Ordering::SeqCst) {
                    let since = *stopped_at.get_or_insert(now);
                    if lag_bytes == 0 {
                        out.catch_up_ms = Some(now.duration_since(since).as_secs_f64() * 1000.0);
                        return Ok(out);
                    }
                    if now.duration_since(since) > CATCH_UP {
                        return Ok(out);
                    }
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        });
        Ok(LagSampler { stop, handle })
    }

    /// Keeps sampling until the replica has caught up (at most two minutes), then returns.
    pub async fn finish(self) -> Result<Samples> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.await.map_err(|e| Error::Cluster(format!("the replica lag sampler failed: {e}")))?
    }
}

async fn wait_caught_up(c: &Client) -> Result<()> {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        match read_lag(c).await? {
            None => return Err(Error::Cluster("no replica is streaming from the cluster".into())),
            Some((_, 0)) => return Ok(()),
            Some(_) if Instant::now() > deadline => {
                return Err(Error::Cluster("the replica did not catch up with the seeded cluster".into()))
            }
            Some(_) => tokio::time::sleep(SAMPLE_EVERY).await,
        }
    }
}

/// Puts each sample on the statement that was the latest one started when it was read (lag
/// after a statement is the statement's), and the run's maxima on the report.
pub fn attribute(report: &mut Report, windows: &[Window], s: &Samples) {
    let mut lag = ReplicaLag { samples: s.samples.len() as u64, catch_up_ms: s.catch_up_ms, ..ReplicaLag::default() };
    for st in report.migrations.iter_mut().flat_map(|m| m.statements.iter_mut()) {
        st.replica_max_lag_ms = Some(0.0);
        st.replica_max_lag_bytes = Some(0);
    }
    for sample in &s.samples {
        lag.max_lag_ms = lag.max_lag_ms.max(sample.lag_ms);
        lag.max_lag_bytes = lag.max_lag_bytes.max(sample.lag_bytes);
        let Some(w) = windows.iter().rev().find(|w| w.start_ms <= sample.at_ms) else { continue };
        for st in report.migrations.iter_mut().flat_map(|m| m.statements.iter_mut()) {
            if st.location() == w.label {
                st.replica_max_lag_ms = Some(st.replica_max_lag_ms.unwrap_or(0.0).max(sample.lag_ms));
                st.replica_max_lag_bytes = Some(st.replica_max_lag_bytes.unwrap_or(0).max(sample.lag_bytes));
            }
        }
    }
    report.replica = Some(lag);
}

/// `--max-lag-ms N`: a finding for each statement during or after which the replica's replay lag
/// exceeded N ms, and one for the run when that happened outside any statement.
pub fn gate(report: &mut Report, max_lag_ms: Option<u64>) {
    let (Some(limit), Some(lag)) = (max_lag_ms, report.replica.clone()) else { return };
    let mut found = Vec::new();
    for st in report.statements() {
        if let Some(ms) = st.replica_max_lag_ms.filter(|ms| *ms > limit as f64) {
            found.push(Finding {
                kind: "max-lag-ms".into(),
                location: Some(st.location()),
                message: format!(
                    "the replica fell {ms:.0} ms behind (budget {limit} ms, {} of WAL not yet replayed) during or after `{}`",
                    crate::wal::human_bytes(st.replica_max_lag_bytes.unwrap_or(0)),
                    st.sql
                ),
            });
        }
    }
    if found.is_empty() && lag.max_lag_ms > limit as f64 {
        found.push(Finding {
            kind: "max-lag-ms".into(),
            location: None,
            message: format!("the replica fell {:.0} ms behind (budget {limit} ms)", lag.max_lag_ms),
        });
    }
    report.findings.extend(found);
}
