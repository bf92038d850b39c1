//! `sluice backfill` on MySQL/MariaDB (a `mysql://` URL): the same keyset batches as on
//! PostgreSQL. A batch selects the keys of the next rows needing the change (in primary-key
//! order, after the last key of the previous batch), then updates the rows needing the change
//! between the first and the last selected key, in one transaction with
//! `innodb_lock_wait_timeout` (and `lock_wait_timeout`) set. Composite keys are compared
//! column by column (`a > ? OR (a = ? AND b > ?)`), which both servers turn into index ranges.
//!
//! The lag of a replica is read on the replica (`--replica-url`): `Seconds_Behind_Source`
//! (MySQL 8.0.22+, `SHOW REPLICA STATUS`) or `Seconds_Behind_Master` (MariaDB, older MySQL,
//! `SHOW SLAVE STATUS`). A primary does not know its replicas' lag.

use crate::backfill::LOCK_RETRIES;
use crate::backfill::{needs, parse_assignment, wait_for_lag, Assignment, Control, LagSource, Options, Outcome, Pace};
use crate::error::{Error, Result};
use crate::mysql::{my_message, quote};
use crate::redact::redact_url;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Row, Value};
use std::time::{Duration, Instant};

/// `ER_LOCK_WAIT_TIMEOUT`.
const LOCK_WAIT_TIMEOUT: u16 = 1205;

async fn connect(url: &str, what: &str) -> Result<Conn> {
    let opts = Opts::from_url(url).map_err(|e| Error::Input(format!("{what} {}: {e}", redact_url(url))))?;
    Conn::new(opts)
        .await
        .map_err(|e| Error::Db { context: format!("connecting to {}", redact_url(url)), message: my_message(&e) })
}

fn db_err(context: impl Into<String>, e: &mysql_async::Error) -> Error {
    Error::Db { context: context.into(), message: my_message(e) }
}

/// `a > ? OR (a = ? AND b > ?)`: the rows after (`cmp` `>`) or up to (`<`, last `<=`) a key, with
/// the key index of each `?`.
fn key_range(cols: &[String], cmp: &str, last_cmp: &str) -> (String, Vec<usize>) {
    let mut alts = Vec::new();
    let mut params = Vec::new();
    for i in 0..cols.len() {
        let mut conj = Vec::new();
        for (j, c) in cols.iter().enumerate().take(i) {
            conj.push(format!("{c} = ?"));
            params.push(j);
        }
        let op = if i + 1 == cols.len() { last_cmp } else { cmp };
        conj.push(format!("{} {op} ?", cols[i]));
        params.push(i);
        alts.push(if conj.len() == 1 { conj.join("") } else { format!("({})", conj.join(" AND ")) });
    }
    let sql = if alts.len() == 1 { alts.join("") } else { format!("({})", alts.join(" OR ")) };
    (sql, params)
}

/// The two statements of a batch: the key selection (after the previous batch's last key when
/// `after`) and the update between the first key (exclusive of the previous batch) and the
/// last selected one.
struct BatchSql {
    select_first: String,
    select_next: String,
    select_next_params: Vec<usize>,
    update_first: String,
    update_first_params: Vec<usize>,
    update_next: String,
    /// Key indexes of the lower bound's `?`, then of the upper bound's.
    update_next_params: (Vec<usize>, Vec<usize>),
}

fn batch_sql(table: &str, key: &[String], sets: &[Assignment], needs: &str, n: u64) -> BatchSql {
    let list = key.join(", ");
    let (after, after_p) = key_range(key, ">", ">");
    let (upto, upto_p) = key_range(key, "<", "<=");
    let assign: Vec<String> = sets.iter().map(|s| format!("{} = ({})", quote(&s.column), s.expr)).collect();
    let assign = assign.join(", ");
    BatchSql {
        select_first: format!("SELECT {list} FROM {table} WHERE {needs} ORDER BY {list} LIMIT {n}"),
        select_next: format!("SELECT {list} FROM {table} WHERE {after} AND {needs} ORDER BY {list} LIMIT {n}"),
        select_next_params: after_p.clone(),
        update_first: format!("UPDATE {table} SET {assign} WHERE {upto} AND {needs}"),
        update_first_params: upto_p.clone(),
        update_next: format!("UPDATE {table} SET {assign} WHERE {after} AND {upto} AND {needs}"),
        update_next_params: (after_p, upto_p),
    }
}

/// The replica's lag in seconds from `SHOW REPLICA STATUS` (or `SHOW SLAVE STATUS`).
pub(crate) async fn replica_lag(c: &mut Conn) -> Result<f64> {
    let rows: Vec<Row> = match c.query("SHOW REPLICA STATUS").await {
        Ok(r) => r,
        Err(_) => c.query("SHOW SLAVE STATUS").await.map_err(|e| db_err("reading the replica status", &e))?,
    };
    lag_of(rows.first())
}

/// The lag of a replica status row.
fn lag_of(row: Option<&Row>) -> Result<f64> {
    let row =
        row.ok_or_else(|| Error::Input("--replica-url is not a replica (SHOW REPLICA STATUS returned no row)".into()))?;
    let columns = row.columns_ref();
    let at = columns
        .iter()
        .position(|c| matches!(c.name_str().as_ref(), "Seconds_Behind_Source" | "Seconds_Behind_Master"))
        .ok_or_else(|| Error::Input("the replica status has no Seconds_Behind_Source column".into()))?;
    match row.as_ref(at) {
        Some(Value::NULL) | None => Err(Error::Input(
            "the replica reports no lag (Seconds_Behind_Source is NULL: replication is not running); \
             the backfill stopped, run the same command again once the replica runs"
                .into(),
        )),
        Some(Value::Int(v)) => Ok(*v as f64),
        Some(Value::UInt(v)) => Ok(*v as f64),
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b)
            .trim()
            .parse::<f64>()
            .map_err(|_| Error::Input("the replica's Seconds_Behind_Source is not a number".into())),
        Some(other) => Err(Error::Input(format!("unexpected Seconds_Behind_Source {other:?}"))),
    }
}

/// The optimizer's estimate of the rows matching `needs` (`rows` times `filtered` of EXPLAIN).
async fn estimate(c: &mut Conn, table: &str, needs: &str) -> u64 {
    let Ok(Some(row)) = c.query_first::<Row, _>(format!("EXPLAIN SELECT 1 FROM {table} WHERE {needs}")).await else {
        return 0;
    };
    let get = |name: &str| -> Option<f64> {
        let i = row.columns_ref().iter().position(|c| c.name_str().eq_ignore_ascii_case(name))?;
        match row.as_ref(i)? {
            Value::Int(v) => Some(*v as f64),
            Value::UInt(v) => Some(*v as f64),
            Value::Float(v) => Some(f64::from(*v)),
            Value::Double(v) => Some(*v),
            Value::Bytes(b) => String::from_utf8_lossy(b).trim().parse().ok(),
            _ => None,
        }
    };
    let rows = get("rows").unwrap_or(0.0);
    let filtered = get("filtered").unwrap_or(100.0);
    (rows * filtered / 100.0).max(0.0) as u64
}

/// A key value as text (for the report).
fn key_text(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.as_sql(false),
    }
}

pub(crate) async fn run(opts: &Options, ctl: &Control) -> Result<Outcome> {
    let started = Instant::now();
    let sets = opts.set.iter().map(|s| parse_assignment(s, true)).collect::<Result<Vec<_>>>()?;
    if opts.max_lag_seconds.is_some() && opts.replica_url.is_none() {
        return Err(Error::Input(
            "--max-lag-seconds on MySQL/MariaDB needs --replica-url: a primary does not know its replicas' lag".into(),
        ));
    }
    let url = &opts.database_url;
    if Opts::from_url(url)
        .map_err(|e| Error::Input(format!("--database-url {}: {e}", redact_url(url))))?
        .db_name()
        .is_none()
    {
        return Err(Error::Input(format!("--database-url {}: name the database in the URL", redact_url(url))));
    }
    let mut c = connect(url, "--database-url").await?;
    let mut replica = match &opts.replica_url {
        Some(u) if opts.max_lag_seconds.is_some() => Some(connect(u, "--replica-url").await?),
        _ => None,
    };
    let name = opts.table.trim().trim_matches('`').to_string();
    let exists: Option<String> = c
        .exec_first(
            "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (&name,),
        )
        .await
        .map_err(|e| db_err(format!("looking up table {name}"), &e))?;
    match exists.as_deref() {
        Some("BASE TABLE") => {}
        Some(_) => return Err(Error::Input(format!("--table {name}: not a base table"))),
        None => return Err(Error::Input(format!("--table {name}: no such table in the URL's database"))),
    }
    let key_names: Vec<String> = c
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            (&name,),
        )
        .await
        .map_err(|e| db_err(format!("reading the primary key of {name}"), &e))?;
    if key_names.is_empty() {
        return Err(Error::Input(format!(
            "--table {name}: no primary key; batches are ordered and resumed by the primary key"
        )));
    }
    let columns: Vec<String> = c
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (&name,),
        )
        .await
        .map_err(|e| db_err(format!("reading the columns of {name}"), &e))?;
    for s in &sets {
        // MySQL column names compare case-insensitively.
        if !columns.iter().any(|col| col.eq_ignore_ascii_case(&s.column)) {
            return Err(Error::Input(format!("--set: {name} has no column {}", quote(&s.column))));
        }
        if key_names.iter().any(|k| k.eq_ignore_ascii_case(&s.column)) {
            return Err(Error::Input(format!(
                "--set: {} is part of the primary key the batches are ordered by; a backfill cannot change it",
                quote(&s.column)
            )));
        }
    }
    let table = quote(&name);
    let key: Vec<String> = key_names.iter().map(|k| quote(k)).collect();
    let needs = needs(&sets, opts.where_clause.as_deref(), true);
    let sql = batch_sql(&table, &key, &sets, &needs, opts.batch);
    let lock_s = opts.lock_timeout_ms.div_ceil(1000).max(1);
    let session = format!("SET SESSION innodb_lock_wait_timeout = {lock_s}, lock_wait_timeout = {lock_s}");
    let mut out =
        Outcome { table: name.clone(), dialect: "mysql".into(), key: key_names.clone(), ..Outcome::default() };
    out.estimated_rows = estimate(&mut c, &table, &needs).await;
    if opts.dry_run {
        out.sql.push(format!(
            "{session};\nSTART TRANSACTION;\n{};\n{};  -- ? = the last key selected\nCOMMIT;",
            sql.select_first, sql.update_first
        ));
        out.sql.push(format!(
            "START TRANSACTION;\n{};  -- ? = the last key of the previous batch\n{};  -- ? = that key, then the last key selected\nCOMMIT;",
            sql.select_next, sql.update_next
        ));
        out.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        return Ok(out);
    }
    c.query_drop(&session).await.map_err(|e| db_err("setting the lock wait timeouts", &e))?;
    if let Some(p) = &ctl.progress {
        p.begin(out.estimated_rows);
    }
    let pace = Pace::new(opts);
    let mut last: Option<Vec<Value>> = None;
    loop {
        if ctl.stopping() {
            out.interrupted = true;
            break;
        }
        if let (Some(limit), Some(r)) = (opts.max_lag_seconds, replica.as_mut()) {
            let mut source = LagSource::MySql(r);
            wait_for_lag(limit, &mut source, &mut out, ctl).await?;
            if ctl.stopping() {
                out.interrupted = true;
                break;
            }
        }
        let mut attempt = 0;
        let (updated, selected, key_row) = loop {
            let batch = one_batch(&mut c, &sql, last.as_deref());
            let r = tokio::select! {
                r = batch => r,
                _ = ctl.abort.notified() => return Err(Error::Interrupted("a second signal")),
            };
            match r {
                Ok(v) => break v,
                Err(e) => {
                    let _ = c.query_drop("ROLLBACK").await;
                    let timeout = matches!(&e, mysql_async::Error::Server(s) if s.code == LOCK_WAIT_TIMEOUT);
                    if timeout && attempt < LOCK_RETRIES {
                        attempt += 1;
                        out.lock_retries += 1;
                        ctl.note(&format!("lock wait timeout; trying the batch again ({attempt}/{LOCK_RETRIES})"));
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                        continue;
                    }
                    return Err(Error::Db {
                        context: format!(
                            "batch {} of the backfill of {name} ({} rows updated by this run; the same command continues)",
                            out.batches + 1,
                            out.rows_updated
                        ),
                        message: my_message(&e),
                    });
                }
            }
        };
        if selected == 0 {
            break;
        }
        out.batches += 1;
        out.rows_updated += updated;
        if let Some(k) = key_row {
            out.last_key = Some(k.iter().map(key_text).collect());
            last = Some(k);
        }
        if let Some(p) = &ctl.progress {
            p.batch(out.rows_updated);
        }
        if selected < opts.batch {
            break;
        }
        pace.after_batch(out.rows_updated, ctl).await;
    }
    let _ = c.disconnect().await;
    if let Some(r) = replica {
        let _ = r.disconnect().await;
    }
    out.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(out)
}

/// One batch in its own transaction: (rows updated, keys selected, last key selected).
async fn one_batch(
    c: &mut Conn,
    sql: &BatchSql,
    after: Option<&[Value]>,
) -> std::result::Result<(u64, u64, Option<Vec<Value>>), mysql_async::Error> {
    let pick =
        |idx: &[usize], key: &[Value]| -> Vec<Value> { idx.iter().filter_map(|i| key.get(*i).cloned()).collect() };
    c.query_drop("START TRANSACTION").await?;
    let rows: Vec<Row> = match after {
        None => c.query(&sql.select_first).await?,
        Some(k) => c.exec(&sql.select_next, pick(&sql.select_next_params, k)).await?,
    };
    let Some(last_row) = rows.last() else {
        c.query_drop("COMMIT").await?;
        return Ok((0, 0, None));
    };
    let last: Vec<Value> = (0..last_row.len()).filter_map(|i| last_row.as_ref(i).cloned()).collect();
    match after {
        None => c.exec_drop(&sql.update_first, pick(&sql.update_first_params, &last)).await?,
        Some(k) => {
            let mut params = pick(&sql.update_next_params.0, k);
            params.extend(pick(&sql.update_next_params.1, &last));
            c.exec_drop(&sql.update_next, params).await?
        }
    }
    let updated = c.affected_rows();
    c.query_drop("COMMIT").await?;
    Ok((updated, rows.len() as u64, Some(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_key_ranges() {
        let k = vec!["`a`".to_string(), "`b`".to_string()];
        assert_eq!(key_range(&k, ">", ">"), ("(`a` > ? OR (`a` = ? AND `b` > ?))".to_string(), vec![0, 0, 1]));
        assert_eq!(key_range(&k, "<", "<="), ("(`a` < ? OR (`a` = ? AND `b` <= ?))".to_string(), vec![0, 0, 1]));
        assert_eq!(key_range(&k[..1], "<", "<="), ("`a` <= ?".to_string(), vec![0]));
    }

    #[test]
    fn batches_never_use_offset() {
        let s = vec![Assignment { column: "c".into(), expr: "1".into() }];
        let b = batch_sql("`t`", &["`id`".to_string()], &s, "NOT (`c` <=> (1))", 100);
        assert_eq!(b.select_next, "SELECT `id` FROM `t` WHERE `id` > ? AND NOT (`c` <=> (1)) ORDER BY `id` LIMIT 100");
        assert_eq!(b.update_next, "UPDATE `t` SET `c` = (1) WHERE `id` > ? AND `id` <= ? AND NOT (`c` <=> (1))");
        assert!(!b.select_first.contains("OFFSET"));
    }
}
