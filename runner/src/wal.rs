//! The write-ahead log a statement generates: WAL bytes on PostgreSQL (the difference of
//! `pg_current_wal_insert_lsn()` before and after it), binlog bytes on MySQL/MariaDB (the growth
//! of the binary logs listed by `SHOW BINARY LOGS`), and the `--max-wal-mb` gate.
//!
//! Both positions are server-wide: what other sessions write while the statement runs (the
//! workload clients, other databases of the server) is counted too. Replicas replay this stream,
//! so it is what a replica has to catch up with after the statement.

use crate::report::{Finding, Report};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use tokio_postgres::Client;

/// Bytes in a megabyte as `--max-wal-mb` counts them (MiB).
pub const MB: u64 = 1024 * 1024;

/// The current WAL insert position in bytes, `None` when it cannot be read (a standby).
///
/// The insert position (not the write position of `pg_current_wal_lsn()`, which trails it until
/// the WAL buffers are written out) counts every record the moment it is inserted.
pub async fn pg_position(c: &Client) -> Option<u64> {
    let row = c.query_one("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint", &[]).await.ok()?;
    u64::try_from(row.get::<_, i64>(0)).ok()
}

/// The total size of the binary logs in bytes, `None` when binary logging is off or the account
/// may not list them.
pub async fn binlog_position(c: &mut Conn) -> Option<u64> {
    let rows: Vec<mysql_async::Row> = c.query("SHOW BINARY LOGS").await.ok()?;
    let mut total = 0u64;
    for row in rows {
        // Columns: Log_name, File_size (MySQL 8 adds Encrypted).
        let size: Option<u64> = row.get(1);
        total += size?;
    }
    Some(total)
}

/// The bytes written between two positions; `None` when either is unknown.
pub fn written(before: Option<u64>, after: Option<u64>) -> Option<u64> {
    Some(after?.saturating_sub(before?))
}

/// A human size: `812 B`, `14.2 kB`, `3.1 MB`, `1.20 GB` (binary units).
pub fn human_bytes(b: u64) -> String {
    let v = b as f64;
    if b < 1024 {
        format!("{b} B")
    } else if v < MB as f64 {
        format!("{:.1} kB", v / 1024.0)
    } else if v < (MB * 1024) as f64 {
        format!("{:.1} MB", v / MB as f64)
    } else {
        format!("{:.2} GB", v / (MB * 1024) as f64)
    }
}

/// The bytes of every statement together; `None` when no statement's bytes are known.
pub fn total(report: &Report) -> Option<u64> {
    let known: Vec<u64> = report.statements().filter_map(|s| s.wal_bytes).collect();
    (!known.is_empty()).then(|| known.iter().sum())
}

/// `--max-wal-mb N`: a finding for each statement that wrote more than N MB, and one for each
/// migration of several statements that wrote more than N MB in total.
pub fn gate(report: &mut Report, max_wal_mb: Option<u64>) {
    let Some(limit_mb) = max_wal_mb else { return };
    let limit = limit_mb.saturating_mul(MB);
    let what = if report.server.starts_with("PostgreSQL") { "WAL" } else { "binlog" };
    let mut found = Vec::new();
    for st in report.statements() {
        if let Some(b) = st.wal_bytes.filter(|b| *b > limit) {
            found.push(Finding {
                kind: "max-wal-mb".into(),
                location: Some(st.location()),
                message: format!(
                    "`{}` wrote {} of {what} (budget {limit_mb} MB): replicas must replay all of it; \
                     batch the change (`sluice backfill`) or split the statement",
                    st.sql,
                    human_bytes(b)
                ),
            });
        }
    }
    for m in &report.migrations {
        let total: u64 = m.statements.iter().filter_map(|s| s.wal_bytes).sum();
        if total > limit && m.statements.len() > 1 {
            found.push(Finding {
                kind: "max-wal-mb".into(),
                location: Some(m.path.clone()),
                message: format!(
                    "the migration wrote {} of {what} in total (budget {limit_mb} MB)",
                    human_bytes(total)
                ),
            });
        }
    }
    report.findings.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_differences() {
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(14 * 1024 + 200), "14.2 kB");
        assert_eq!(human_bytes(3 * MB + MB / 10), "3.1 MB");
        assert_eq!(written(Some(10), Some(25)), Some(15));
        assert_eq!(written(None, Some(25)), None);
        assert_eq!(written(Some(30), Some(25)), Some(0));
    }
}
