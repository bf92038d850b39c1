//! Drift between a migration directory and a live database.
//!
//! Applied-history drift: the migration tool's history table is read and compared with the
//! directory the way the tool compares them: applied migrations whose file changed since (where
//! the tool stores a checksum: Flyway's CRC-32, sqlx's SHA-384, Prisma's SHA-256, Atlas's
//! chained `atlas.sum` hash), applied versions the directory no longer has, failed or dirty
//! applications, and pending migrations.
//!
//! Schema drift: the migrations the history says were applied are replayed on a throwaway
//! cluster; both schemas are described by [`catalog::schema_snapshot`] and every difference is
//! listed (an object changed by hand, outside the migrations).

use crate::catalog::{self, schema_diff};
use crate::cluster::{Cluster, PgBinaries};
use crate::drift_checksum;
use crate::error::{db_message, Error, Result};
use crate::exec;
use crate::plan;
use crate::redact::redact_url;
use serde::Serialize;
use sluice_core::framework::Framework;
use sluice_core::PgVersion;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use tokio_postgres::{Client, Config};

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One migration file of the directory, in apply order (rollback-only files excluded).
#[derive(Clone, Debug)]
pub struct LocalMigration {
    /// The version as the tool names it (`1.1`, `20240101120000`); empty for repeatables.
    pub version: String,
    pub description: String,
    /// Where the file is (read for checksums and replay).
    pub path: PathBuf,
    /// The path shown in reports (relative to the migration directory).
    pub display: String,
    /// Flyway `R__` migration.
    pub repeatable: bool,
}

/// What to compare.
#[derive(Clone, Debug)]
pub struct Options {
    /// `postgres://...` (or a key=value string) for PostgreSQL, `mysql://...` for MySQL/MariaDB.
    pub database_url: String,
    /// The server's dialect: PostgreSQL, or MySQL/MariaDB (read over `mysql_async`, schema
    /// replayed on a throwaway MariaDB server).
    pub dialect: sluice_core::Dialect,
    pub framework: Framework,
    pub migrations: Vec<LocalMigration>,
    /// Compare the live schema with the replayed migrations (needs PostgreSQL server binaries).
    pub schema: bool,
}

/// One migration the comparison reports.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Item {
    pub version: String,
    pub description: String,
    /// The local file, when there is one.
    pub path: Option<String>,
    pub message: String,
}

/// A line of the schema description found on one side only.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SchemaDifference {
    /// `live-only` (in the database, not produced by the migrations) or `migrations-only`.
    pub side: &'static str,
    pub object: String,
}

/// The schema comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SchemaDrift {
    /// How many local migrations were replayed.
    pub replayed: usize,
    /// The server the replay ran on (`PostgreSQL 16.4`, `MariaDB 10.11.6`).
    pub replay_server: String,
    pub differences: Vec<SchemaDifference>,
}

/// The result of `sluice drift`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub framework: String,
    /// The database, password redacted.
    pub database: String,
    /// `schema.table` of the history table read.
    pub history_table: String,
    /// Migrations the history records as applied.
    pub applied: usize,
    /// Applied migrations whose file changed since.
    pub changed: Vec<Item>,
    /// Applied migrations the directory does not have.
    pub missing: Vec<Item>,
    /// Applications that failed or left the database dirty.
    pub failed: Vec<Item>,
    /// Migrations of the directory not applied yet (not drift).
    pub pending: Vec<Item>,
    /// `None` when the schema comparison was not asked for.
    pub schema: Option<SchemaDrift>,
    /// True when anything but pending migrations was found.
    pub drift: bool,
}

/// The history table each tool keeps (`schema` is where it is looked for first; `None`: the
/// connection's current schema, then any schema).
pub fn history_table(framework: Framework) -> Option<(Option<&'static str>, &'static str)> {
    match framework {
        Framework::Flyway => Some((None, "flyway_schema_history")),
        Framework::Sqlx => Some((None, "_sqlx_migrations")),
        Framework::GolangMigrate | Framework::Dbmate => Some((None, "schema_migrations")),
        Framework::Goose => Some((None, "goose_db_version")),
        Framework::Diesel => Some((None, "__diesel_schema_migrations")),
        Framework::Atlas => Some((Some("atlas_schema_revisions"), "atlas_schema_revisions")),
        Framework::Prisma => Some((None, "_prisma_migrations")),
        Framework::Plain => None,
    }
}

/// A version as the tools compare them: numbers without leading zeros; Flyway's dot- or
/// underscore-separated parts without trailing zero parts (`1.0` is `1`).
pub fn version_key(framework: Framework, v: &str) -> String {
    let num = |p: &str| {
        let t = p.trim_start_matches('0');
        if t.is_empty() {
            "0".to_string()
        } else {
            t.to_string()
        }
    };
    if framework == Framework::Flyway {
        let mut parts: Vec<String> = v.split(['.', '_']).map(num).collect();
        while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
            parts.pop();
        }
        return parts.join(".");
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        num(v)
    } else {
        v.to_string()
    }
}

/// The history table of `framework`, or the error saying it has none.
pub(crate) fn history_table_or_error(framework: Framework) -> Result<(Option<&'static str>, &'static str)> {
    history_table(framework).ok_or_else(|| {
        Error::Input(format!(
            "no history table to read: the migration tool of this directory is `{}`; set `framework` in \
             sluice.toml (flyway, sqlx, golang-migrate, dbmate, goose, diesel, prisma, atlas)",
            framework.name()
        ))
    })
}

/// Orders version keys as the tool orders them: Prisma by migration name as text, the others
/// numerically part by part (Flyway, golang-migrate, goose).
fn version_cmp(framework: Framework, a: &str, b: &str) -> std::cmp::Ordering {
    if framework == Framework::Prisma {
        return a.cmp(b);
    }
    let split = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
    let (pa, pb) = (split(a), split(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// What the history table says about one version.
#[derive(Clone, Debug, Default)]
struct AppliedRow {
    version: String,
    description: String,
    /// Flyway's CRC-32 as text, sqlx's SHA-384 or Prisma's SHA-256 as hex, Atlas's base64 hash.
    checksum: Option<String>,
}

/// The history as read: applied versions in order, failures, and tool specifics.
#[derive(Default)]
pub(crate) struct History {
    applied: Vec<AppliedRow>,
    failed: Vec<Item>,
    /// Flyway: the baseline version; local versions up to it are not pending.
    baseline: Option<String>,
    /// Flyway repeatables: description -> checksum of the latest application.
    repeatables: BTreeMap<String, Option<String>>,
    /// golang-migrate: only the current version is stored; every local version up to it counts
    /// as applied.
    current_only: bool,
}

async fn find_table(c: &Client, schema: Option<&str>, table: &str) -> Result<Option<(String, String)>> {
    let sql = "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relname = $1 AND c.relkind IN ('r', 'p') \
               ORDER BY (n.nspname = $2) DESC, (n.nspname = current_schema()) DESC, n.nspname LIMIT 1";
    let want = schema.unwrap_or("");
    let rows = c.query(sql, &[&table, &want]).await.map_err(|e| Error::db("looking for the history table", &e))?;
    Ok(rows.first().map(|r| (r.get(0), r.get(1))))
}

/// How a history column is read as text.
#[derive(Clone, Copy)]
pub(crate) enum Col {
    /// An expression, cast to text.
    Text(&'static str),
    /// A binary column, as lower-case hexadecimal.
    Hex(&'static str),
}

/// The SQL dialect of the database holding the history table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sql {
    Postgres,
    MySql,
}

/// The query reading `framework`'s history from `qualified`, every column as text (booleans as
/// `true`/`false` on PostgreSQL, `1`/`0` on MySQL).
pub(crate) fn history_query(framework: Framework, qualified: &str, sql: Sql) -> String {
    use Col::{Hex, Text};
    let (cols, order): (&[Col], &str) = match framework {
        Framework::Flyway => {
            (&[Text("version"), Text("description"), Text("type"), Text("checksum"), Text("success")], "installed_rank")
        }
        Framework::Sqlx => (&[Text("version"), Text("description"), Text("success"), Hex("checksum")], "version"),
        Framework::GolangMigrate => (&[Text("version"), Text("dirty")], "version"),
        Framework::Dbmate | Framework::Diesel => (&[Text("version")], "version"),
        Framework::Goose => (&[Text("version_id"), Text("is_applied")], "id"),
        Framework::Atlas => (
            &[Text("version"), Text("description"), Text("applied"), Text("total"), Text("error"), Text("hash")],
            "version",
        ),
        Framework::Prisma => (
            &[
                Text("migration_name"),
                Text("checksum"),
                Text("finished_at IS NOT NULL"),
                Text("rolled_back_at IS NOT NULL"),
                Text("logs"),
            ],
            "started_at, migration_name",
        ),
        Framework::Plain => (&[], ""),
    };
    let list: Vec<String> = cols
        .iter()
        .map(|c| match (c, sql) {
            (Text(e), Sql::Postgres) => format!("({e})::text"),
            (Hex(e), Sql::Postgres) => format!("encode({e}, 'hex')"),
            (Text(e), Sql::MySql) => format!("CAST(({e}) AS CHAR)"),
            (Hex(e), Sql::MySql) => format!("LOWER(HEX({e}))"),
        })
        .collect();
    format!("SELECT {} FROM {qualified} ORDER BY {order}", list.join(", "))
}

async fn read_history(c: &Client, framework: Framework, qualified: &str) -> Result<History> {
    let rows = c
        .query(history_query(framework, qualified, Sql::Postgres).as_str(), &[])
        .await
        .map_err(|e| Error::db(format!("reading {qualified}"), &e))?;
    let rows: Vec<Vec<Option<String>>> =
        rows.iter().map(|r| (0..r.len()).map(|i| r.get::<_, Option<String>>(i)).collect()).collect();
    Ok(history_from_rows(framework, &rows))
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "t" | "1"))
}

/// The history from the rows of [`history_query`].
pub(crate) fn history_from_rows(framework: Framework, rows: &[Vec<Option<String>>]) -> History {
    let mut h = History::default();
    let key = |v: &str| version_key(framework, v);
    let col = |r: &[Option<String>], i: usize| r.get(i).cloned().flatten();
    let text = |r: &[Option<String>], i: usize| col(r, i).unwrap_or_default();
    let flag = |r: &[Option<String>], i: usize| truthy(r.get(i).and_then(|v| v.as_deref()));
    match framework {
        Framework::Flyway => {
            let mut applied: Vec<AppliedRow> = Vec::new();
            for r in rows {
                let description = text(r, 1);
                let kind = text(r, 2);
                let checksum = col(r, 3);
                let success = flag(r, 4);
                let Some(version) = col(r, 0) else {
                    if success {
                        h.repeatables.insert(description, checksum);
                    } else {
                        h.failed.push(Item {
                            version: String::new(),
                            description,
                            path: None,
                            message: "repeatable migration failed".into(),
                        });
                    }
                    continue;
                };
                let k = key(&version);
                match kind.as_str() {
                    "SCHEMA" => {}
                    "BASELINE" => h.baseline = Some(k),
                    "DELETE" => applied.retain(|a| a.version != k),
                    k2 if k2.starts_with("UNDO") => {
                        if success {
                            applied.retain(|a| a.version != k);
                        }
                    }
                    _ if !success => h.failed.push(Item {
                        version: version.clone(),
                        description,
                        path: None,
                        message: "failed (success = false); run `flyway repair` after fixing it".into(),
                    }),
                    _ => applied.push(AppliedRow { version: k, description, checksum }),
                }
            }
            h.applied = applied;
        }
        Framework::Sqlx => {
            for r in rows {
                let (version, description) = (text(r, 0), text(r, 1));
                if flag(r, 2) {
                    h.applied.push(AppliedRow { version: key(&version), description, checksum: col(r, 3) });
                } else {
                    h.failed.push(Item {
                        version,
                        description,
                        path: None,
                        message: "dirty (success = false): the migration failed part way".into(),
                    });
                }
            }
        }
        Framework::GolangMigrate => {
            h.current_only = true;
            for r in rows {
                let version = text(r, 0);
                if flag(r, 1) {
                    h.failed.push(Item {
                        version: version.clone(),
                        description: String::new(),
                        path: None,
                        message: "dirty: the migration failed part way; fix it and run `migrate force`".into(),
                    });
                }
                h.applied.push(AppliedRow { version: key(&version), ..AppliedRow::default() });
            }
        }
        Framework::Dbmate | Framework::Diesel => {
            h.applied =
                rows.iter().map(|r| AppliedRow { version: key(&text(r, 0)), ..AppliedRow::default() }).collect();
        }
        Framework::Goose => {
            // The latest row of a version says whether it is applied; version 0 is goose's own.
            let mut state: BTreeMap<i64, bool> = BTreeMap::new();
            for r in rows {
                if let Ok(v) = text(r, 0).parse::<i64>() {
                    state.insert(v, flag(r, 1));
                }
            }
            h.applied = state
                .into_iter()
                .filter(|(v, applied)| *applied && *v != 0)
                .map(|(v, _)| AppliedRow { version: key(&v.to_string()), ..AppliedRow::default() })
                .collect();
        }
        Framework::Atlas => {
            for r in rows {
                let (version, description) = (text(r, 0), text(r, 1));
                let num = |i: usize| text(r, i).parse::<i64>().unwrap_or(0);
                let (applied, total) = (num(2), num(3));
                let error = col(r, 4);
                if applied < total || error.as_deref().is_some_and(|e| !e.is_empty()) {
                    h.failed.push(Item {
                        version,
                        description,
                        path: None,
                        message: format!(
                            "partially applied ({applied} of {total} statements){}",
                            error.map(|e| format!(": {e}")).unwrap_or_default()
                        ),
                    });
                } else {
                    h.applied.push(AppliedRow {
                        version: key(&version),
                        description,
                        checksum: col(r, 5).filter(|h| !h.is_empty()),
                    });
                }
            }
        }
        Framework::Prisma => {
            for r in rows {
                prisma_row(&mut h, text(r, 0), text(r, 1), flag(r, 2), flag(r, 3), col(r, 4));
            }
        }
        Framework::Plain => {}
    }
    h
}

/// One row of `_prisma_migrations`: finished and not rolled back is applied (the latest row of a
/// name wins); neither finished nor rolled back is a failure `prisma migrate deploy` stops at;
/// rolled back (`prisma migrate resolve --rolled-back`) is neither.
fn prisma_row(
    h: &mut History,
    name: String,
    checksum: String,
    finished: bool,
    rolled_back: bool,
    logs: Option<String>,
) {
    if rolled_back {
        return;
    }
    h.applied.retain(|a| a.version != name);
    if finished {
        h.failed.retain(|f| f.version != name);
        h.applied.push(AppliedRow { version: name, description: String::new(), checksum: Some(checksum) });
    } else {
        let first_log_line = logs.as_deref().and_then(|l| l.lines().find(|l| !l.trim().is_empty())).map(str::trim);
        h.failed.push(Item {
            version: name,
            description: String::new(),
            path: None,
            message: format!(
                "failed (started, not finished): `prisma migrate deploy` refuses to continue until it is resolved \
                 with `prisma migrate resolve`{}",
                first_log_line.map(|l| format!(": {l}")).unwrap_or_default()
            ),
        });
    }
}

/// The checksums the tool would store for the local migrations, by version key: what a report
/// shows, and how a recorded value is matched.
struct LocalChecksums {
    framework: Framework,
    /// Atlas: each file's chained hash, by version key, and the keys in directory order.
    atlas: HashMap<String, String>,
}

impl LocalChecksums {
    fn new(framework: Framework, local: &[LocalMigration]) -> Result<Self> {
        let mut atlas = HashMap::new();
        if framework == Framework::Atlas {
            // Atlas hashes every .sql file of the directory in name order.
            let mut files: Vec<&LocalMigration> = local.iter().collect();
            files.sort_by(|a, b| a.display.cmp(&b.display));
            let named: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|m| Ok((m.display.rsplit('/').next().unwrap_or(&m.display).to_string(), read_file(m)?)))
                .collect::<Result<_>>()?;
            for (m, hash) in files.iter().zip(drift_checksum::atlas_hashes(&named)) {
                atlas.insert(version_key(framework, &m.version), hash);
            }
        }
        Ok(Self { framework, atlas })
    }

    /// `None` when the recorded value matches the file (or the tool stores none); otherwise the
    /// local value to show.
    fn mismatch(&self, m: &LocalMigration, recorded: &str) -> Result<Option<String>> {
        let computed = match self.framework {
            Framework::Flyway => drift_checksum::flyway(&read_file(m)?).to_string(),
            Framework::Sqlx => drift_checksum::hex(&drift_checksum::sqlx(&read_file(m)?)),
            Framework::Prisma => {
                let bytes = read_file(m)?;
                if drift_checksum::prisma_matches(recorded, &bytes) {
                    return Ok(None);
                }
                drift_checksum::prisma(&bytes)
            }
            Framework::Atlas => match self.atlas.get(&version_key(self.framework, &m.version)) {
                Some(h) => h.trim_start_matches("h1:").to_string(),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        Ok((computed != recorded.trim_start_matches("h1:")).then_some(computed))
    }
}

fn read_file(m: &LocalMigration) -> Result<Vec<u8>> {
    std::fs::read(&m.path).map_err(|e| Error::io(format!("reading {}", m.path.display()), e))
}

/// Compares the history with the directory. Returns the report's history parts and the local
/// migrations that count as applied (for the replay), in apply order.
pub(crate) fn compare(
    framework: Framework,
    h: &History,
    local: &[LocalMigration],
) -> Result<(Report, Vec<LocalMigration>)> {
    let key = |v: &str| version_key(framework, v);
    let checksums = LocalChecksums::new(framework, local)?;
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        framework: framework.name().to_string(),
        database: String::new(),
        history_table: String::new(),
        applied: h.applied.len(),
        changed: Vec::new(),
        missing: Vec::new(),
        failed: h.failed.clone(),
        pending: Vec::new(),
        schema: None,
        drift: false,
    };
    let versioned: Vec<&LocalMigration> = local.iter().filter(|m| !m.repeatable).collect();
    let by_version: HashMap<String, &LocalMigration> = versioned.iter().map(|m| (key(&m.version), *m)).collect();
    let mut applied_local = Vec::new();
    let failed_versions: BTreeSet<String> = h.failed.iter().map(|f| key(&f.version)).collect();
    for f in &mut report.failed {
        f.path = by_version.get(&key(&f.version)).map(|m| m.display.clone());
    }
    if h.current_only {
        let current = h.applied.first().map(|a| a.version.clone());
        if let Some(cur) = &current {
            if !by_version.contains_key(cur) {
                report.missing.push(Item {
                    version: cur.clone(),
                    description: String::new(),
                    path: None,
                    message: "the database is at this version, which the directory does not have".into(),
                });
            }
        }
        for m in &versioned {
            let k = key(&m.version);
            let done = current.as_deref().is_some_and(|c| version_cmp(framework, &k, c).is_le());
            if done {
                applied_local.push((*m).clone());
            } else {
                report.pending.push(pending(m, None));
            }
        }
        report.applied = applied_local.len();
    } else {
        let applied: HashMap<&str, &AppliedRow> = h.applied.iter().map(|a| (a.version.as_str(), a)).collect();
        let latest = h.applied.iter().map(|a| a.version.as_str()).max_by(|a, b| version_cmp(framework, a, b));
        // Atlas: a hash covers the files before it, so only the first difference is reported.
        let mut atlas_chain_broken = false;
        for a in &h.applied {
            match by_version.get(&a.version) {
                None => report.missing.push(Item {
                    version: a.version.clone(),
                    description: a.description.clone(),
                    path: None,
                    message: "applied, but the directory has no migration with this version".into(),
                }),
                Some(m) => {
                    let Some(recorded) = &a.checksum else { continue };
                    let Some(computed) = checksums.mismatch(m, recorded)? else { continue };
                    if framework == Framework::Atlas {
                        if atlas_chain_broken {
                            continue;
                        }
                        atlas_chain_broken = true;
                    }
                    let message = if framework == Framework::Atlas {
                        format!(
                            "its atlas.sum hash, which covers this file and every file before it, differs from the \
                             one recorded when it was applied (recorded {recorded}, directory now {computed}): this \
                             file or an earlier one was edited, added, renamed or removed since; later hashes \
                             follow from it"
                        )
                    } else {
                        format!("edited after it was applied: checksum recorded {recorded}, file now {computed}")
                    };
                    report.changed.push(Item {
                        version: a.version.clone(),
                        description: a.description.clone(),
                        path: Some(m.display.clone()),
                        message,
                    });
                }
            }
        }
        for m in &versioned {
            let k = key(&m.version);
            if applied.contains_key(k.as_str()) {
                applied_local.push((*m).clone());
                continue;
            }
            if failed_versions.contains(&k) {
                continue;
            }
            if framework == Framework::Flyway
                && h.baseline.as_deref().is_some_and(|b| version_cmp(framework, &k, b).is_le())
            {
                continue;
            }
            let older = latest.is_some_and(|l| version_cmp(framework, &k, l).is_lt());
            let note = older.then_some(
                "older than the latest applied version: out of order (most tools skip or refuse it unless \
                 out-of-order application is enabled)",
            );
            report.pending.push(pending(m, note));
        }
    }
    if framework == Framework::Flyway {
        let local_rep: BTreeMap<&str, &LocalMigration> =
            local.iter().filter(|m| m.repeatable).map(|m| (m.description.as_str(), m)).collect();
        for desc in h.repeatables.keys() {
            if !local_rep.contains_key(desc.as_str()) {
                report.missing.push(Item {
                    version: String::new(),
                    description: desc.clone(),
                    path: None,
                    message: "repeatable migration applied, but the directory no longer has it".into(),
                });
            }
        }
        for (desc, m) in &local_rep {
            match h.repeatables.get(*desc) {
                None => report.pending.push(pending(m, Some("repeatable, never applied"))),
                Some(recorded) => {
                    let changed = match recorded {
                        Some(r) => checksums.mismatch(m, r)?.is_some(),
                        None => true,
                    };
                    if changed {
                        report.pending.push(pending(m, Some("repeatable, changed since it was last applied")));
                    }
                    applied_local.push((*m).clone());
                }
            }
        }
    }
    Ok((report, applied_local))
}

fn pending(m: &LocalMigration, note: Option<&str>) -> Item {
    Item {
        version: m.version.clone(),
        description: m.description.clone(),
        path: Some(m.display.clone()),
        message: note.unwrap_or("not applied yet").to_string(),
    }
}

/// True for a schema line that describes the history table itself (or its sequence).
fn is_history_line(line: &str, schema: &str, table: &str) -> bool {
    let name = format!("{schema}.{table}");
    let mut from = 0;
    while let Some(i) = line[from..].find(&name) {
        let end = from + i + name.len();
        let before_ok = from + i == 0 || matches!(line.as_bytes()[from + i - 1], b' ' | b'(');
        let after = line.as_bytes().get(end);
        if before_ok && matches!(after, None | Some(b' ' | b'.' | b'(')) {
            return true;
        }
        if before_ok && line.starts_with("relation ") && line.ends_with(" S") && after == Some(&b'_') {
            return true;
        }
        from = end;
    }
    false
}

async fn server_version(c: &Client) -> Result<(PgVersion, String)> {
    let row = c
        .query_one("SELECT current_setting('server_version_num')::int, current_setting('server_version')", &[])
        .await
        .map_err(|e| Error::db("reading the server version", &e))?;
    let num = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
    Ok((PgVersion::new(num / 10000, num % 10000), format!("PostgreSQL {}", row.get::<_, String>(1))))
}

/// Applies `migrations` (their up parts) on `c`, as their tool runs them: a part in one
/// transaction as one multi-statement query, otherwise statement by statement.
async fn replay(c: &Client, migrations: &[LocalMigration]) -> Result<()> {
    if migrations.is_empty() {
        return Ok(());
    }
    let (version, _) = server_version(c).await?;
    let paths: Vec<PathBuf> = migrations.iter().map(|m| m.path.clone()).collect();
    let plan = plan::load(&paths)?;
    for m in &plan {
        let part = &m.up;
        let fail = |line: usize, e: &tokio_postgres::Error| {
            Error::Input(format!(
                "replaying the migrations on a throwaway cluster: {}:{line}: {}",
                part.path,
                db_message(e)
            ))
        };
        if part.in_transaction {
            let text = part.text.get(part.range.clone()).unwrap_or_default();
            if let Err(e) = c.batch_execute(text).await {
                let line = part.text[..part.range.start].lines().count() + 1;
                return Err(fail(line, &e));
            }
        } else {
            for s in exec::statements(part, version) {
                c.batch_execute(&s.sql).await.map_err(|e| fail(s.line, &e))?;
            }
        }
    }
    Ok(())
}

/// Runs the comparison.
pub fn run(opts: &Options) -> Result<Report> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let mut report = if opts.dialect == sluice_core::Dialect::MySql {
        rt.block_on(crate::drift_mysql::run(opts))?
    } else {
        rt.block_on(run_async(opts))?
    };
    report.drift = !report.changed.is_empty()
        || !report.missing.is_empty()
        || !report.failed.is_empty()
        || report.schema.as_ref().is_some_and(|s| !s.differences.is_empty());
    Ok(report)
}

async fn run_async(opts: &Options) -> Result<Report> {
    let shown = redact_url(&opts.database_url);
    let (schema, table) = history_table_or_error(opts.framework)?;
    let cfg: Config = opts.database_url.parse().map_err(|e| Error::Input(format!("--database-url {shown}: {e}")))?;
    let live = catalog::connect(&cfg, &shown).await?;
    let Some((hschema, htable)) = find_table(&live, schema, table).await? else {
        return Err(Error::Input(format!(
            "{shown}: no `{table}` table: the database has no {} history (wrong database, or nothing applied yet)",
            opts.framework.name()
        )));
    };
    let qualified = catalog::quote_qualified(Some(&hschema), &htable);
    let history = read_history(&live, opts.framework, &qualified).await?;
    let (mut report, applied_local) = compare(opts.framework, &history, &opts.migrations)?;
    report.database = shown;
    report.history_table = format!("{hschema}.{htable}");
    if opts.schema {
        let live_schema: BTreeSet<String> = catalog::schema_snapshot(&live)
            .await?
            .into_iter()
            .filter(|l| !is_history_line(l, &hschema, &htable))
            .collect();
        let bin = PgBinaries::find()?;
        let cluster = Cluster::start(&bin)?;
        let replayed = async {
            let c = catalog::connect(&cluster.config("postgres"), "throwaway cluster").await?;
            let (_, server) = server_version(&c).await?;
            replay(&c, &applied_local).await?;
            let s = catalog::schema_snapshot(&c).await?;
            Ok::<_, Error>((server, s))
        }
        .await;
        drop(cluster);
        let (replay_server, expected) = replayed?;
        let differences = schema_diff(&expected, &live_schema)
            .into_iter()
            .filter_map(|l| {
                if let Some(o) = l.strip_prefix("+ ") {
                    Some(SchemaDifference { side: "live-only", object: o.to_string() })
                } else {
                    l.strip_prefix("- ").map(|o| SchemaDifference { side: "migrations-only", object: o.to_string() })
                }
            })
            .collect();
        report.schema = Some(SchemaDrift { replayed: applied_local.len(), replay_server, differences });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(v: &str) -> LocalMigration {
        LocalMigration {
            version: v.into(),
            description: format!("m{v}"),
            path: PathBuf::from(format!("/nonexistent/{v}.sql")),
            display: format!("{v}.sql"),
            repeatable: false,
        }
    }

    #[test]
    fn versions_compare_as_the_tools_do() {
        assert_eq!(version_key(Framework::Flyway, "1_1"), "1.1");
        assert_eq!(version_key(Framework::Flyway, "1.0"), "1");
        assert_eq!(version_key(Framework::Flyway, "01.02.0"), "1.2");
        assert_eq!(version_key(Framework::GolangMigrate, "000003"), "3");
        assert_eq!(version_key(Framework::Dbmate, "20240101"), "20240101");
        assert!(version_cmp(Framework::Flyway, "9", "10").is_lt());
        assert!(version_cmp(Framework::Flyway, "1.10", "1.9").is_gt());
        assert!(version_cmp(Framework::Flyway, "1", "1.1").is_lt());
        assert!(version_cmp(Framework::Prisma, "20240101000000_init", "20240102000000_b").is_lt());
    }

    #[test]
    fn golang_migrate_current_version_splits_applied_and_pending() {
        let h = History {
            applied: vec![AppliedRow { version: "2".into(), ..AppliedRow::default() }],
            current_only: true,
            ..History::default()
        };
        let files = [local("000001"), local("000002"), local("000003")];
        let (r, applied) = compare(Framework::GolangMigrate, &h, &files).expect("compare");
        assert_eq!(applied.len(), 2);
        assert_eq!(r.pending.iter().map(|p| p.version.as_str()).collect::<Vec<_>>(), ["000003"]);
        assert!(r.missing.is_empty());
        let h = History {
            applied: vec![AppliedRow { version: "7".into(), ..AppliedRow::default() }],
            current_only: true,
            ..History::default()
        };
        let (r, _) = compare(Framework::GolangMigrate, &h, &files).expect("compare");
        assert_eq!(r.missing.len(), 1);
        assert!(r.pending.is_empty());
    }

    #[test]
    fn out_of_order_pending_is_noted() {
        let h = History {
            applied: vec![
                AppliedRow { version: "1".into(), ..AppliedRow::default() },
                AppliedRow { version: "3".into(), ..AppliedRow::default() },
                AppliedRow { version: "4".into(), ..AppliedRow::default() },
            ],
            ..History::default()
        };
        let (r, applied) = compare(Framework::Dbmate, &h, &[local("1"), local("2"), local("3")]).expect("compare");
        assert_eq!(applied.len(), 2);
        assert_eq!(r.missing.iter().map(|m| m.version.as_str()).collect::<Vec<_>>(), ["4"]);
        assert_eq!(r.pending.len(), 1);
        assert!(r.pending[0].message.contains("out of order"), "{:?}", r.pending);
    }

    #[test]
    fn prisma_rows_applied_failed_and_rolled_back() {
        let mut h = History::default();
        let row = |h: &mut History, name: &str, finished: bool, rolled_back: bool| {
            prisma_row(
                h,
                name.into(),
                "c".into(),
                finished,
                rolled_back,
                Some("\nERROR: relation \"x\" exists\n".into()),
            )
        };
        row(&mut h, "20240101000000_a", true, false);
        // Failed, marked rolled back, applied again.
        row(&mut h, "20240102000000_b", false, true);
        row(&mut h, "20240102000000_b", true, false);
        // Failed and not resolved.
        row(&mut h, "20240103000000_c", false, false);
        let applied: Vec<&str> = h.applied.iter().map(|a| a.version.as_str()).collect();
        assert_eq!(applied, ["20240101000000_a", "20240102000000_b"]);
        assert_eq!(h.failed.len(), 1);
        assert_eq!(h.failed[0].version, "20240103000000_c");
        assert!(
            h.failed[0].message.ends_with("`prisma migrate resolve`: ERROR: relation \"x\" exists"),
            "{:?}",
            h.failed
        );
    }

    fn files(dir: &std::path::Path, fw: Framework, names: &[(&str, &str)]) -> Vec<LocalMigration> {
        names
            .iter()
            .map(|(name, body)| {
                let path = dir.join(name);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&path, body).expect("write");
                let entry = sluice_core::framework::classify(fw, name).expect("a migration name");
                LocalMigration {
                    version: entry.version,
                    description: entry.description,
                    path,
                    display: (*name).to_string(),
                    repeatable: false,
                }
            })
            .collect()
    }

    #[test]
    fn atlas_hashes_are_compared_and_only_the_first_difference_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = [
            ("1_a.sql", "CREATE TABLE a (id int);\n"),
            ("2_b.sql", "CREATE TABLE b (id int);\n"),
            ("3_c.sql", "SELECT 1;\n"),
        ];
        let local = files(dir.path(), Framework::Atlas, &names);
        let named: Vec<(String, Vec<u8>)> = names.iter().map(|(n, b)| (n.to_string(), b.as_bytes().to_vec())).collect();
        let hashes = drift_checksum::atlas_hashes(&named);
        let applied = |hashes: &[String]| History {
            applied: (0..3)
                .map(|i| AppliedRow {
                    version: (i + 1).to_string(),
                    description: String::new(),
                    checksum: Some(hashes[i].clone()),
                })
                .collect(),
            ..History::default()
        };
        let (r, replay) = compare(Framework::Atlas, &applied(&hashes), &local).expect("compare");
        assert!(r.changed.is_empty(), "{:?}", r.changed);
        assert_eq!(replay.len(), 3);
        // The second file edited: its hash and the third's differ; one finding, on the second.
        std::fs::write(dir.path().join("2_b.sql"), "CREATE TABLE b (id bigint);\n").expect("edit");
        let (r, _) = compare(Framework::Atlas, &applied(&hashes), &local).expect("compare");
        assert_eq!(r.changed.len(), 1, "{:?}", r.changed);
        assert_eq!(r.changed[0].path.as_deref(), Some("2_b.sql"));
        assert!(r.changed[0].message.contains(&format!("recorded {}", hashes[1])), "{:?}", r.changed);
    }

    #[test]
    fn prisma_checksums_are_compared_across_line_endings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = files(
            dir.path(),
            Framework::Prisma,
            &[
                ("20240101000000_a/migration.sql", "CREATE TABLE a (id int);\r\n"),
                ("20240102000000_b/migration.sql", "SELECT 1;\n"),
            ],
        );
        let mut h = History::default();
        // Applied from a checkout with LF endings.
        prisma_row(
            &mut h,
            "20240101000000_a".into(),
            drift_checksum::prisma(b"CREATE TABLE a (id int);\n"),
            true,
            false,
            None,
        );
        let (r, replay) = compare(Framework::Prisma, &h, &local).expect("compare");
        assert!(r.changed.is_empty(), "{:?}", r.changed);
        assert_eq!(replay.len(), 1);
        assert_eq!(r.pending.iter().map(|p| p.version.as_str()).collect::<Vec<_>>(), ["20240102000000_b"]);
        std::fs::write(dir.path().join("20240101000000_a/migration.sql"), "CREATE TABLE a (id bigint);\n")
            .expect("edit");
        let (r, _) = compare(Framework::Prisma, &h, &local).expect("compare");
        assert_eq!(r.changed.len(), 1);
        assert!(r.changed[0].message.starts_with("edited after it was applied: checksum recorded "), "{:?}", r.changed);
    }

    #[test]
    fn history_lines_are_recognised() {
        let (s, t) = ("public", "flyway_schema_history");
        assert!(is_history_line("relation public.flyway_schema_history r", s, t));
        assert!(is_history_line("column public.flyway_schema_history.version character varying(50)", s, t));
        assert!(is_history_line(
            "index CREATE INDEX flyway_schema_history_s_idx ON public.flyway_schema_history USING btree (success)",
            s,
            t
        ));
        assert!(is_history_line("relation public.goose_db_version_id_seq S", "public", "goose_db_version"));
        assert!(!is_history_line("relation public.flyway_schema_history_archive r", s, t));
        assert!(!is_history_line("column public.users.flyway_schema_history integer", s, t));
    }
}
