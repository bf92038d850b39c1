//! The result of a trace run: per statement what the server did, the workload's experience, the
//! checks and the findings (gates that failed, lock timeouts, statements the server rejected).
//! Serialised as the JSON output documented in `docs/trace.md`.

use serde::Serialize;

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `PostgreSQL 15.18`.
    pub server: String,
    /// `throwaway`, `clone` or `in-place`.
    pub target: String,
    pub seed_rows: u64,
    pub workload_clients: usize,
    pub lock_timeout_ms: u64,
    pub migrations: Vec<MigrationReport>,
    /// Per pre-existing touched table, what the concurrent clients experienced.
    pub workload: Vec<TableTraffic>,
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub total_ms: f64,
    /// MySQL/MariaDB only: for each `ALTER TABLE`, the algorithm the server accepted on a scratch
    /// copy of the table. Absent from PostgreSQL reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<AlgorithmProbe>,
    /// WAL (PostgreSQL) or binlog (MySQL/MariaDB) bytes the traced statements wrote, together;
    /// `None` when the position cannot be read (binary logging off).
    pub wal_bytes: Option<u64>,
    /// With `--replica`: the streaming replica's lag over the whole run.
    pub replica: Option<ReplicaLag>,
}

/// How far the streaming replica fell behind, from `pg_stat_replication` on the primary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplicaLag {
    /// The longest `replay_lag` reported.
    pub max_lag_ms: f64,
    /// The largest distance between the primary's WAL insert position and the replica's replay
    /// position.
    pub max_lag_bytes: u64,
    /// How many times the lag was read.
    pub samples: u64,
    /// Time from the end of the last statement until the replica had replayed everything.
    pub catch_up_ms: Option<f64>,
}

/// The best algorithm the server accepted for one `ALTER TABLE`, tried on an empty copy of the
/// table (`CREATE TABLE ... LIKE`): `ALGORITHM=INSTANT`, then `ALGORITHM=INPLACE, LOCK=NONE`, then
/// `ALGORITHM=INPLACE`; `COPY` when none was accepted.
#[derive(Clone, Debug, Serialize)]
pub struct AlgorithmProbe {
    /// `path:line` of the statement.
    pub location: String,
    pub table: String,
    /// `INSTANT`, `INPLACE` or `COPY`.
    pub algorithm: String,
    /// `LOCK=NONE` was accepted: reads and writes continue while it runs.
    pub concurrent_dml: bool,
    /// The accepted operation gave the copy a new InnoDB table id (every row rewritten).
    pub rebuilds_table: bool,
    /// The static model's verdict (`INSTANT`, `INPLACE`, `COPY`), when it models the statement.
    pub model: Option<String>,
    /// The server's refusal of the cheaper algorithms, for the first refused one.
    pub refused: Option<String>,
}

impl Report {
    /// True when no finding was reported.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// Every statement, in apply order.
    pub fn statements(&self) -> impl Iterator<Item = &StatementReport> {
        self.migrations.iter().flat_map(|m| m.statements.iter())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct MigrationReport {
    pub path: String,
    /// `transaction`: the whole file in one transaction; `per-statement`: each statement on its
    /// own (the file has explicit transaction control, statements that cannot run in a
    /// transaction block, or its tool runs it without a transaction).
    pub mode: String,
    pub duration_ms: f64,
    pub statements: Vec<StatementReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatementReport {
    pub path: String,
    /// 1-based line of the statement's first token.
    pub line: usize,
    /// The statement's first line, shortened.
    pub sql: String,
    /// `transaction` (measured in the open transaction after the statement) or `sampled`
    /// (the statement cannot run in a transaction block; a second connection polled `pg_locks`
    /// while it ran).
    pub observed: String,
    pub duration_ms: f64,
    /// Locks taken by this statement that the migration did not hold before it.
    pub locks: Vec<LockReport>,
    /// Relations whose `relfilenode` changed: rewritten tables, rebuilt indexes.
    pub rewrites: Vec<RewriteReport>,
    /// The longest wait of a workload statement that started while this statement ran.
    pub workload_max_wait_ms: Option<f64>,
    /// Workload statements that failed (timeout or error) and started while this statement ran.
    pub workload_failed: u64,
    /// The server's error, when the statement failed.
    pub error: Option<String>,
    /// WAL (PostgreSQL) or binlog (MySQL/MariaDB) bytes the server wrote while the statement ran.
    pub wal_bytes: Option<u64>,
    /// With `--replica`: the longest replay lag read while the statement was the latest one
    /// started.
    pub replica_max_lag_ms: Option<f64>,
    /// With `--replica`: the largest replay distance read in the same time.
    pub replica_max_lag_bytes: Option<u64>,
}

impl StatementReport {
    pub fn location(&self) -> String {
        format!("{}:{}", self.path, self.line)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LockReport {
    /// `schema.name` of the relation or type.
    pub object: String,
    /// `table`, `index`, `sequence`, `view`, `materialized view`, `type`, ...
    pub kind: String,
    /// `ACCESS EXCLUSIVE`, ...
    pub mode: String,
    /// The object existed before the migration run (locks on objects it creates block nobody).
    pub pre_existing: bool,
    /// Time from the start of the statement that took the lock until its transaction ended
    /// (sampled statements: from the first to the last sample that saw it).
    pub held_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RewriteReport {
    pub object: String,
    pub kind: String,
    pub pre_existing: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TableTraffic {
    pub table: String,
    pub statements: u64,
    pub failed: u64,
    pub max_wait_ms: f64,
    /// The migration statement (`path:line`) running when the longest wait started.
    pub max_wait_during: Option<String>,
    /// The first error a workload statement on the table got (timeouts included).
    pub first_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// `rerun` or `down`.
    pub kind: String,
    pub path: String,
    pub passed: bool,
    /// What differed or failed; empty when passed.
    pub details: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// `statement-failed`, `lock-timeout`, `max-exclusive-ms`, `max-blocked-ms`, `max-wal-mb`,
    /// `max-lag-ms`, `rerun`, `down`, `seed`.
    pub kind: String,
    /// `path:line` when the finding belongs to a statement.
    pub location: Option<String>,
    pub message: String,
}
