//! Catalog queries: connections, the relations and their `relfilenode`s, the locks a backend
//! holds, a comparable snapshot of the schema, and the identity of tables and columns.

use crate::error::{Error, Result};
use sluice_core::pg_locks::LockMode;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio_postgres::{Client, Config, NoTls};

/// Schemas that belong to the server, not to the migrations.
pub const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// Connects and drives the connection on the runtime.
pub async fn connect(cfg: &Config, what: &str) -> Result<Client> {
    let (client, conn) = cfg.connect(NoTls).await.map_err(|e| Error::db(format!("connecting ({what})"), &e))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// A relation as the catalog shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rel {
    pub name: String,
    pub kind: &'static str,
    pub filenode: u32,
}

fn relkind(k: &str) -> &'static str {
    match k {
        "r" => "table",
        "p" => "partitioned table",
        "i" => "index",
        "I" => "partitioned index",
        "S" => "sequence",
        "v" => "view",
        "m" => "materialized view",
        "f" => "foreign table",
        "c" => "composite type",
        "t" => "toast table",
        _ => "relation",
    }
}

/// Every user relation by oid, as the connection sees it (uncommitted changes of its own
/// transaction included).
pub async fn relations(c: &Client) -> Result<HashMap<u32, Rel>> {
    let sql = format!(
        "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind::text, c.relfilenode \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS}"
    );
    let rows = c.query(sql.as_str(), &[]).await.map_err(|e| Error::db("reading pg_class", &e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let kind: String = r.get(2);
            (r.get::<_, u32>(0), Rel { name: r.get(1), kind: relkind(&kind), filenode: r.get(3) })
        })
        .collect())
}

/// The user-defined types (enums, domains, stand-alone composites, ranges; not the row types of
/// tables) that exist now, by oid, with their names as `format_type` writes them.
pub async fn type_names(c: &Client) -> Result<BTreeMap<u32, String>> {
    let sql = format!(
        "SELECT t.oid, format_type(t.oid, NULL) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE {USER_SCHEMAS} AND t.typtype IN ('e', 'd', 'c', 'r', 'm') \
           AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')"
    );
    let rows = c.query(sql.as_str(), &[]).await.map_err(|e| Error::db("reading pg_type", &e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// What a lock is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LockObject {
    Relation(u32),
    Type(u32),
}

/// One granted lock of a backend.
#[derive(Clone, Debug)]
pub struct HeldLock {
    pub object: LockObject,
    pub mode: LockMode,
    /// The type's name for type locks (relations are named from [`relations`]).
    pub type_name: Option<String>,
}

/// `AccessExclusiveLock` -> ACCESS EXCLUSIVE.
pub fn mode_from_pg(name: &str) -> Option<LockMode> {
    let base = name.strip_suffix("Lock").unwrap_or(name);
    let mut spaced = String::new();
    for (i, ch) in base.chars().enumerate() {
        if i > 0 && ch.is_ascii_uppercase() {
            spaced.push(' ');
        }
        spaced.push(ch);
    }
    LockMode::from_name(&spaced)
}

/// The SQL listing relation and type locks of backend `$1` (granted ones only).
pub const LOCKS_SQL: &str = "SELECT l.locktype, l.relation, l.objid, l.mode, \
       CASE WHEN l.locktype = 'object' THEN format_type(l.objid, NULL) END \
     FROM pg_locks l \
     WHERE l.pid = $1 AND l.granted \
       AND (l.locktype = 'relation' OR (l.locktype = 'object' AND l.classid = 'pg_type'::regclass))";

/// The granted relation and type locks of backend `pid`.
pub async fn locks_of(c: &Client, pid: i32) -> std::result::Result<Vec<HeldLock>, tokio_postgres::Error> {
    let rows = c.query(LOCKS_SQL, &[&pid]).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let locktype: String = r.get(0);
            let mode = mode_from_pg(r.get::<_, &str>(3))?;
            let object = if locktype == "relation" {
                LockObject::Relation(r.get::<_, Option<u32>>(1)?)
            } else {
                LockObject::Type(r.get::<_, Option<u32>>(2)?)
            };
            Some(HeldLock { object, mode, type_name: r.get(4) })
        })
        .collect())
}

/// A comparable description of the schema: relations, columns, indexes, constraints, triggers,
/// enum labels and functions, one line each, sorted.
pub async fn schema_snapshot(c: &Client) -> Result<BTreeSet<String>> {
    let sql = format!(
        "SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') \
         UNION ALL \
         SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' \
                || format_type(a.atttypid, a.atttypmod) \
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
                || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') \
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
           WHERE {USER_SCHEMAS} AND a.attnum > 0 AND NOT a.attisdropped \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') \
         UNION ALL \
         SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END \
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {USER_SCHEMAS} \
         UNION ALL \
         SELECT 'constraint ' || n.nspname || '.' || c.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid) \
           FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {USER_SCHEMAS} \
         UNION ALL \
         SELECT 'trigger ' || pg_get_triggerdef(t.oid) \
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {USER_SCHEMAS} AND NOT t.tgisinternal \
         UNION ALL \
         SELECT 'enum ' || n.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) \
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE {USER_SCHEMAS} GROUP BY n.nspname, t.typname \
         UNION ALL \
         SELECT 'function ' || p.oid::regprocedure::text \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_SCHEMAS}"
    );
    let rows = c.query(sql.as_str(), &[]).await.map_err(|e| Error::db("reading the schema", &e))?;
    Ok(rows.iter().filter_map(|r| r.get::<_, Option<String>>(0)).collect())
}

/// Lines only in `before` (prefixed `-`) and only in `after` (`+`).
pub fn schema_diff(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Vec<String> {
    before
        .difference(after)
        .map(|l| format!("- {l}"))
        .chain(after.difference(before).map(|l| format!("+ {l}")))
        .collect()
}

/// Tables (by oid) and their columns (by attribute number), with names, to tell a column that
/// survived from one dropped and re-created under the same name.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    pub tables: HashMap<u32, String>,
    pub columns: HashMap<(u32, i16), String>,
}

pub async fn identities(c: &Client) -> Result<Identities> {
    let sql = format!(
        "SELECT c.oid, a.attnum, n.nspname || '.' || c.relname, a.attname \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
           WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p')"
    );
    let rows = c.query(sql.as_str(), &[]).await.map_err(|e| Error::db("reading tables and columns", &e))?;
    let mut out = Identities::default();
    for r in &rows {
        let oid: u32 = r.get(0);
        let table: String = r.get(2);
        out.columns.insert((oid, r.get(1)), format!("{table}.{}", r.get::<_, String>(3)));
        out.tables.insert(oid, table);
    }
    Ok(out)
}

/// Tables and columns of `before` that no longer exist in `after` (dropped, even when an object
/// of the same name was created again).
pub fn dropped(before: &Identities, after: &Identities) -> Vec<String> {
    let mut out: Vec<String> = before
        .tables
        .iter()
        .filter(|(oid, _)| !after.tables.contains_key(oid))
        .map(|(_, n)| format!("table {n} was dropped"))
        .chain(
            before
                .columns
                .iter()
                .filter(|((oid, _), _)| after.tables.contains_key(oid))
                .filter(|(k, _)| !after.columns.contains_key(k))
                .map(|(_, n)| format!("column {n} was dropped")),
        )
        .collect();
    out.sort();
    out
}

/// `"schema"."name"` for a possibly qualified name.
pub fn quote_qualified(schema: Option<&str>, name: &str) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    match schema {
        Some(s) => format!("{}.{}", q(s), q(name)),
        None => q(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_lock_names() {
        assert_eq!(mode_from_pg("AccessExclusiveLock"), Some(LockMode::AccessExclusive));
        assert_eq!(mode_from_pg("ShareUpdateExclusiveLock"), Some(LockMode::ShareUpdateExclusive));
        assert_eq!(mode_from_pg("RowExclusiveLock"), Some(LockMode::RowExclusive));
        assert_eq!(mode_from_pg("ShareLock"), Some(LockMode::Share));
        assert_eq!(mode_from_pg("SIReadLock"), None);
    }

    #[test]
    fn diffs_and_drops() {
        let a: BTreeSet<String> = ["x".to_string(), "y".to_string()].into();
        let b: BTreeSet<String> = ["y".to_string(), "z".to_string()].into();
        assert_eq!(schema_diff(&a, &b), vec!["- x", "+ z"]);
        let mut before = Identities::default();
        before.tables.insert(1, "public.t".into());
        before.tables.insert(2, "public.u".into());
        before.columns.insert((1, 1), "public.t.a".into());
        before.columns.insert((1, 2), "public.t.b".into());
        before.columns.insert((2, 1), "public.u.a".into());
        let mut after = Identities::default();
        after.tables.insert(1, "public.t".into());
        after.columns.insert((1, 1), "public.t.a".into());
        after.columns.insert((1, 3), "public.t.b".into());
        assert_eq!(dropped(&before, &after), vec!["column public.t.b was dropped", "table public.u was dropped"]);
        assert_eq!(quote_qualified(Some("s"), "a\"b"), "\"s\".\"a\"\"b\"");
    }
}
