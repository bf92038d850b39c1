//! `sluice drift` on MySQL and MariaDB: the migration tool's history table read over a
//! `mysql://` URL and compared like on PostgreSQL ([`drift::compare`]), and the schema of the
//! URL's database compared with the schema the applied migrations produce on a throwaway MariaDB
//! server. Both schemas are described the same way from `information_schema` (tables, columns
//! with type, nullability, default, extra and collation, indexes, foreign keys, checks, views,
//! triggers, routines); every line found on one side only is a difference.

use crate::drift::{self, history_from_rows, history_query, LocalMigration, Options, Report, SchemaDifference, Sql};
use crate::error::{Error, Result};
use crate::mysql::{self, my_message, quote};
use crate::mysql_server::{MariaDbBinaries, MariaDbServer};
use crate::plan;
use crate::redact::redact_url;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Row};
use sluice_core::framework::FrameworkSetting;
use sluice_core::Dialect;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn my_err(context: impl Into<String>, e: &mysql_async::Error) -> Error {
    Error::Db { context: context.into(), message: my_message(e) }
}

/// The rows of `sql`, every value as text (the queries cast what is not text).
async fn text_rows(c: &mut Conn, sql: &str, what: &str) -> Result<Vec<Vec<Option<String>>>> {
    let rows: Vec<Row> = c.query(sql).await.map_err(|e| my_err(format!("reading {what}"), &e))?;
    Ok(rows
        .into_iter()
        .map(|r| (0..r.len()).map(|i| r.get_opt::<Option<String>, usize>(i).and_then(|v| v.ok()).flatten()).collect())
        .collect())
}

/// The history table: the tool's schema (database) first, then the URL's database, then any.
async fn find_table(c: &mut Conn, schema: Option<&str>, table: &str) -> Result<Option<(String, String)>> {
    let sql = format!(
        "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_NAME = '{table}' AND TABLE_TYPE = 'BASE TABLE' \
         ORDER BY (TABLE_SCHEMA = '{}') DESC, (TABLE_SCHEMA = DATABASE()) DESC, TABLE_SCHEMA LIMIT 1",
        schema.unwrap_or("")
    );
    let rows = text_rows(c, &sql, "information_schema.TABLES").await?;
    Ok(rows.into_iter().next().and_then(|r| match (r.first().cloned().flatten(), r.get(1).cloned().flatten()) {
        (Some(s), Some(t)) => Some((s, t)),
        _ => None,
    }))
}

/// One line of a schema description and the table it belongs to (for leaving out the history
/// table).
type Line = (Option<String>, String);

fn field(r: &[Option<String>], i: usize) -> String {
    r.get(i).cloned().flatten().unwrap_or_default()
}

/// The schema of the connection's current database as lines of text, history table excluded.
pub async fn schema_snapshot(c: &mut Conn, exclude_table: Option<&str>) -> Result<BTreeSet<String>> {
    let mut lines: Vec<Line> = Vec::new();
    let q = "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR), CAST(ENGINE AS CHAR) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
    for r in text_rows(c, q, "information_schema.TABLES").await? {
        let t = field(&r, 0);
        if field(&r, 1) == "BASE TABLE" {
            lines.push((Some(t.clone()), format!("table {t} {}", field(&r, 2))));
        }
    }
    let q = "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
             CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), \
             CAST(COLLATION_NAME AS CHAR) \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES \
                                WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE')";
    for r in text_rows(c, q, "information_schema.COLUMNS").await? {
        let t = field(&r, 0);
        let mut line = format!("column {t}.{} {}", field(&r, 1), field(&r, 2));
        line.push_str(if field(&r, 3) == "YES" { " NULL" } else { " NOT NULL" });
        // MariaDB writes a nullable column without a default as the text NULL.
        if let Some(d) = r.get(4).cloned().flatten().filter(|d| d != "NULL") {
            line.push_str(&format!(" DEFAULT {d}"));
        }
        let extra = field(&r, 5);
        if !extra.is_empty() {
            line.push_str(&format!(" {extra}"));
        }
        if let Some(coll) = r.get(6).cloned().flatten() {
            line.push_str(&format!(" COLLATE {coll}"));
        }
        lines.push((Some(t), line));
    }
    let q = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS CHAR), \
             CAST(COLUMN_NAME AS CHAR), CAST(SUB_PART AS CHAR), CAST(INDEX_TYPE AS CHAR), \
             CAST(EXPRESSION AS CHAR) \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
    // MySQL 8 has EXPRESSION (functional key parts); MariaDB does not.
    let rows = match text_rows(c, q, "information_schema.STATISTICS").await {
        Ok(rows) => rows,
        Err(_) => {
            let q = q.replace("CAST(EXPRESSION AS CHAR)", "NULL");
            text_rows(c, &q, "information_schema.STATISTICS").await?
        }
    };
    let mut current: Option<(String, String, String, Vec<String>)> = None;
    let flush = |cur: Option<(String, String, String, Vec<String>)>, lines: &mut Vec<Line>| {
        if let Some((t, name, head, cols)) = cur {
            lines.push((Some(t.clone()), format!("index {t}.{name} {head}({})", cols.join(", "))));
        }
    };
    for r in &rows {
        let (t, name) = (field(r, 0), field(r, 1));
        let part = match (r.get(3).cloned().flatten(), r.get(6).cloned().flatten()) {
            (Some(col), _) => match r.get(4).cloned().flatten() {
                Some(len) => format!("{col}({len})"),
                None => col,
            },
            (None, Some(expr)) => format!("({expr})"),
            (None, None) => String::new(),
        };
        match &mut current {
            Some((ct, cn, _, cols)) if *ct == t && *cn == name => cols.push(part),
            _ => {
                flush(current.take(), &mut lines);
                let unique = if field(r, 2) == "0" { "UNIQUE " } else { "" };
                current = Some((t, name, format!("{unique}{} ", field(r, 5)), vec![part]));
            }
        }
    }
    flush(current.take(), &mut lines);
    let q = "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), \
             CAST(GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', ') AS CHAR), \
             CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
             CAST(GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', ') AS CHAR), \
             CAST(rc.UPDATE_RULE AS CHAR), CAST(rc.DELETE_RULE AS CHAR) \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS rc \
               ON rc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
              AND rc.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME, rc.UPDATE_RULE, rc.DELETE_RULE";
    for r in text_rows(c, q, "information_schema.KEY_COLUMN_USAGE").await? {
        let t = field(&r, 0);
        lines.push((
            Some(t.clone()),
            format!(
                "foreign key {t}.{} ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
                field(&r, 1),
                field(&r, 2),
                field(&r, 3),
                field(&r, 4),
                field(&r, 5),
                field(&r, 6)
            ),
        ));
    }
    let q = "SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(cc.CONSTRAINT_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR) \
             FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc \
               ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME \
              AND tc.CONSTRAINT_TYPE = 'CHECK' \
             WHERE cc.CONSTRAINT_SCHEMA = DATABASE()";
    for r in text_rows(c, q, "information_schema.CHECK_CONSTRAINTS").await? {
        let t = field(&r, 0);
        lines.push((Some(t.clone()), format!("check {t}.{} {}", field(&r, 1), field(&r, 2))));
    }
    let q = "SELECT CAST(TABLE_NAME AS CHAR), CAST(VIEW_DEFINITION AS CHAR) FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = DATABASE()";
    for r in text_rows(c, q, "information_schema.VIEWS").await? {
        lines.push((None, format!("view {} {}", field(&r, 0), field(&r, 1))));
    }
    let q = "SELECT CAST(TRIGGER_NAME AS CHAR), CAST(ACTION_TIMING AS CHAR), CAST(EVENT_MANIPULATION AS CHAR), \
             CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(ACTION_STATEMENT AS CHAR) \
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()";
    for r in text_rows(c, q, "information_schema.TRIGGERS").await? {
        let t = field(&r, 3);
        lines.push((
            Some(t.clone()),
            format!("trigger {} {} {} ON {t} {}", field(&r, 0), field(&r, 1), field(&r, 2), field(&r, 4)),
        ));
    }
    let q = "SELECT CAST(ROUTINE_TYPE AS CHAR), CAST(ROUTINE_NAME AS CHAR), CAST(ROUTINE_DEFINITION AS CHAR) \
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()";
    for r in text_rows(c, q, "information_schema.ROUTINES").await? {
        lines.push((None, format!("{} {} {}", field(&r, 0).to_lowercase(), field(&r, 1), field(&r, 2))));
    }
    Ok(lines
        .into_iter()
        .filter(|(t, _)| t.is_none() || t.as_deref() != exclude_table)
        .map(|(_, l)| l.replace('\n', " "))
        .collect())
}

/// The server's version text (`MariaDB 10.11.6`, `MySQL 8.0.36`).
async fn server_name(c: &mut Conn) -> Result<String> {
    let v: Option<String> = c.query_first("SELECT VERSION()").await.map_err(|e| my_err("reading the version", &e))?;
    let v = v.unwrap_or_default();
    let number = v.split('-').next().unwrap_or(&v).to_string();
    Ok(if v.to_ascii_lowercase().contains("mariadb") { format!("MariaDB {number}") } else { format!("MySQL {number}") })
}

/// Applies `migrations` (their up parts) statement by statement on `c` (MySQL DDL commits on its
/// own, so no tool wraps a migration in one transaction that DDL would survive).
async fn replay(
    c: &mut Conn,
    migrations: &[LocalMigration],
    framework: sluice_core::framework::Framework,
) -> Result<()> {
    if migrations.is_empty() {
        return Ok(());
    }
    let paths: Vec<PathBuf> = migrations.iter().map(|m| m.path.clone()).collect();
    let plan = plan::load_with(&paths, FrameworkSetting::Fixed(framework), Dialect::MySql)?;
    for m in &plan {
        for s in mysql::statements(&m.up) {
            c.query_drop(&s.sql).await.map_err(|e| {
                Error::Input(format!(
                    "replaying the migrations on a throwaway MariaDB server: {}:{}: {}",
                    m.up.path,
                    s.line,
                    my_message(&e)
                ))
            })?;
        }
    }
    Ok(())
}

/// Runs the comparison against the MySQL or MariaDB database of `opts.database_url`.
pub async fn run(opts: &Options) -> Result<Report> {
    let shown = redact_url(&opts.database_url);
    let (schema, table) = drift::history_table_or_error(opts.framework)?;
    let url_opts =
        Opts::from_url(&opts.database_url).map_err(|e| Error::Input(format!("--database-url {shown}: {e}")))?;
    let Some(db) = url_opts.db_name().map(str::to_string) else {
        return Err(Error::Input(format!("--database-url {shown}: name the database in the URL")));
    };
    let mut live = Conn::new(url_opts).await.map_err(|e| my_err(format!("connecting to {shown}"), &e))?;
    let Some((hschema, htable)) = find_table(&mut live, schema, table).await? else {
        return Err(Error::Input(format!(
            "{shown}: no `{table}` table: the database has no {} history (wrong database, or nothing applied yet)",
            opts.framework.name()
        )));
    };
    let qualified = format!("{}.{}", quote(&hschema), quote(&htable));
    let rows = text_rows(&mut live, &history_query(opts.framework, &qualified, Sql::MySql), &qualified).await?;
    let history = history_from_rows(opts.framework, &rows);
    let (mut report, applied_local) = drift::compare(opts.framework, &history, &opts.migrations)?;
    report.database = shown;
    report.history_table = format!("{hschema}.{htable}");
    if opts.schema {
        let exclude = (hschema == db).then_some(htable.as_str());
        let live_schema = schema_snapshot(&mut live, exclude).await?;
        // The throwaway database gets the live one's name and defaults, so qualified names in
        // view definitions and default collations compare equal.
        let defaults = text_rows(
            &mut live,
            "SELECT CAST(DEFAULT_CHARACTER_SET_NAME AS CHAR), CAST(DEFAULT_COLLATION_NAME AS CHAR) \
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
            "information_schema.SCHEMATA",
        )
        .await?;
        let (charset, collation) =
            defaults.first().map(|r| (field(r, 0), field(r, 1))).unwrap_or_else(|| ("utf8mb4".into(), String::new()));
        let bin = MariaDbBinaries::find()?;
        let server = MariaDbServer::start(&bin).await?;
        let replayed = async {
            let mut admin =
                Conn::new(server.opts(None)).await.map_err(|e| my_err("connecting to the throwaway server", &e))?;
            let collate = if collation.is_empty() { String::new() } else { format!(" COLLATE {collation}") };
            admin
                .query_drop(format!("CREATE DATABASE {} CHARACTER SET {charset}{collate}", quote(&db)))
                .await
                .map_err(|e| my_err("creating the replay database", &e))?;
            let _ = admin.disconnect().await;
            let mut c = Conn::new(server.opts(Some(&db)))
                .await
                .map_err(|e| my_err("connecting to the throwaway server", &e))?;
            let name = server_name(&mut c).await?;
            replay(&mut c, &applied_local, opts.framework).await?;
            let expected = schema_snapshot(&mut c, None).await?;
            let _ = c.disconnect().await;
            Ok::<_, Error>((name, expected))
        }
        .await;
        drop(server);
        let (replay_server, expected) = replayed?;
        let mut differences: Vec<SchemaDifference> = live_schema
            .difference(&expected)
            .map(|o| SchemaDifference { side: "live-only", object: o.clone() })
            .collect();
        differences.extend(
            expected.difference(&live_schema).map(|o| SchemaDifference { side: "migrations-only", object: o.clone() }),
        );
        differences.sort_by(|a, b| a.object.cmp(&b.object).then(a.side.cmp(b.side)));
        report.schema = Some(drift::SchemaDrift { replayed: applied_local.len(), replay_server, differences });
    }
    let _ = live.disconnect().await;
    Ok(report)
}
