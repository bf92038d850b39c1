//! Synthetic rows for the tables a migration touches, so that rewrites, scans and index builds
//! take realistic time, and the row expressions the workload inserts with.
//!
//! Every column gets an expression of the series value `i` suited to its type, cast to the
//! column type (domains included). Columns with a default, identity or generated columns are left
//! to the server. Unique and primary-key columns get distinct values because every expression
//! is injective in `i` (within the type's range); collisions with rows already present are skipped
//! (`ON CONFLICT DO NOTHING`). Foreign keys: a nullable foreign-key column is left NULL; a NOT NULL
//! one gets the series value, referenced tables are seeded first (so serial/identity keys `1..N`
//! line up), and the seeding session runs with `session_replication_role = replica`, which turns
//! off foreign-key triggers, so a value without a referenced row is kept rather than failing.

use crate::catalog::quote_qualified;
use crate::error::{db_message, Error, Result};
use tokio_postgres::Client;

/// A column as the seeder and the workload see it.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// `format_type()` of the column: `character varying(20)`, `numeric(10,2)`, `mood`...
    pub formatted: String,
    /// The base type's name (a domain's base type).
    pub base: String,
    pub category: String,
    pub not_null: bool,
    /// Default, identity or generated: the server fills it.
    pub server_filled: bool,
    pub foreign_key: bool,
    pub enum_labels: Vec<String>,
    /// For a single-column foreign key: a subquery giving an existing referenced value.
    pub existing_reference: Option<String>,
}

/// A table to seed or to send traffic to.
#[derive(Clone, Debug)]
pub struct Table {
    pub oid: u32,
    /// Quoted `"schema"."name"`.
    pub quoted: String,
    /// `schema.name` for reports.
    pub display: String,
    pub columns: Vec<Column>,
    /// The single integer primary-key column, for reads by key.
    pub int_pk: Option<String>,
    /// Tables this one references (by oid).
    pub references: Vec<u32>,
}

/// Reads the shape of table `oid`.
pub async fn table(c: &Client, oid: u32) -> Result<Table> {
    let head = c
        .query_one(
            "SELECT n.nspname, cl.relname FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = $1",
            &[&oid],
        )
        .await
        .map_err(|e| Error::db("reading a table", &e))?;
    let (schema, name): (String, String) = (head.get(0), head.get(1));
    let rows = c
        .query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), COALESCE(bt.typname, t.typname)::text, \
                    COALESCE(bt.typcategory, t.typcategory)::text, a.attnotnull, \
                    a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', \
                    EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = a.attrelid AND f.contype = 'f' \
                            AND a.attnum = ANY (f.conkey)), \
                    COALESCE((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e \
                              WHERE e.enumtypid = COALESCE(bt.oid, t.oid)), '{}'), \
                    (SELECT format('(SELECT %I FROM %I.%I ORDER BY 1 LIMIT 1)', ra.attname, rn.nspname, rc.relname) \
                       FROM pg_constraint f JOIN pg_class rc ON rc.oid = f.confrelid \
                       JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
                       JOIN pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = f.confkey[1] \
                      WHERE f.conrelid = a.attrelid AND f.contype = 'f' AND f.conkey = ARRAY[a.attnum] LIMIT 1) \
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
               LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype \
              WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(|e| Error::db("reading columns", &e))?;
    let columns = rows
        .iter()
        .map(|r| Column {
            name: r.get(0),
            formatted: r.get(1),
            base: r.get(2),
            category: r.get(3),
            not_null: r.get(4),
            server_filled: r.get(5),
            foreign_key: r.get(6),
            enum_labels: r.get(7),
            existing_reference: r.get(8),
        })
        .collect();
    let pk = c
        .query(
            "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_index i \
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
              WHERE i.indrelid = $1 AND i.indisprimary AND i.indnatts = 1",
            &[&oid],
        )
        .await
        .map_err(|e| Error::db("reading the primary key", &e))?;
    let int_pk = pk
        .first()
        .filter(|r| matches!(r.get::<_, &str>(1), "integer" | "bigint" | "smallint"))
        .map(|r| r.get::<_, String>(0));
    let refs = c
        .query("SELECT DISTINCT confrelid FROM pg_constraint WHERE conrelid = $1 AND contype = 'f'", &[&oid])
        .await
        .map_err(|e| Error::db("reading foreign keys", &e))?;
    Ok(Table {
        oid,
        quoted: quote_qualified(Some(&schema), &name),
        display: format!("{schema}.{name}"),
        columns,
        int_pk,
        references: refs.iter().map(|r| r.get(0)).filter(|r| *r != oid).collect(),
    })
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `numeric(p,s)` -> the number of integer digits it can hold.
fn numeric_int_digits(formatted: &str) -> Option<u32> {
    let inner = formatted.strip_prefix("numeric(")?.strip_suffix(')')?;
    let mut it = inner.split(',').map(|x| x.trim().parse::<i64>().ok());
    let p = it.next()??;
    let s = it.next().flatten().unwrap_or(0);
    u32::try_from((p - s).max(0)).ok()
}

/// An expression of `i` (bigint) for the column, or `None` when none is known.
pub fn value_expr(col: &Column) -> Option<String> {
    let ty = &col.formatted;
    let e = match col.base.as_str() {
        "int2" => "(i % 32767)".to_string(),
        "int4" => "(i % 2147483647)".to_string(),
        "int8" | "oid" => "i".to_string(),
        "numeric" => match numeric_int_digits(ty) {
            Some(d) if d < 18 => format!("(i % {})", 10i64.pow(d)),
            Some(_) | None => "i".to_string(),
        },
        "float4" | "float8" => "i::float8".to_string(),
        "money" => "i::numeric::money".to_string(),
        "text" | "varchar" | "bpchar" | "name" | "citext" => "i::text".to_string(),
        "bool" => "(i % 2 = 0)".to_string(),
        "date" => "(date '2000-01-01' + (i % 2000000)::int)".to_string(),
        "timestamp" => "(timestamp '2000-01-01' + i * interval '1 second')".to_string(),
        "timestamptz" => "(timestamptz '2000-01-01 00:00:00+00' + i * interval '1 second')".to_string(),
        "time" => "(time '00:00' + (i % 86400) * interval '1 second')".to_string(),
        "interval" => "(i * interval '1 second')".to_string(),
        "uuid" => "md5(i::text)::uuid".to_string(),
        "json" => "json_build_object('i', i)".to_string(),
        "jsonb" => "jsonb_build_object('i', i)".to_string(),
        "bytea" => "decode(md5(i::text), 'hex')".to_string(),
        "inet" => "('10.0.0.0'::inet + i)".to_string(),
        _ if !col.enum_labels.is_empty() => {
            let labels: Vec<String> = col.enum_labels.iter().map(|l| quote_literal(l)).collect();
            format!("(ARRAY[{}])[(1 + i % {})::int]", labels.join(", "), labels.len())
        }
        _ if col.category == "A" => "'{}'".to_string(),
        _ if col.not_null => "i::text".to_string(),
        _ => return None,
    };
    Some(format!("({e})::{ty}"))
}

/// The columns to write and their expressions (server-filled and nullable foreign-key columns
/// are left out). With `existing_references`, single-column foreign keys take an existing
/// referenced value instead of the series value.
pub fn insert_columns(t: &Table, existing_references: bool) -> (Vec<String>, Vec<String>) {
    t.columns
        .iter()
        .filter(|c| !c.server_filled && (!c.foreign_key || c.not_null))
        .filter_map(|c| {
            let e = match (&c.existing_reference, existing_references) {
                (Some(r), true) => Some(r.clone()),
                _ => value_expr(c),
            };
            e.map(|e| (format!("\"{}\"", c.name.replace('"', "\"\"")), e))
        })
        .unzip()
}

/// `INSERT ... SELECT ... FROM <from>` with `i` bound by `from`.
pub fn insert_sql(t: &Table, from: &str, existing_references: bool) -> String {
    let (cols, exprs) = insert_columns(t, existing_references);
    if cols.is_empty() {
        format!("INSERT INTO {} SELECT FROM {from} ON CONFLICT DO NOTHING", t.quoted)
    } else {
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {from} ON CONFLICT DO NOTHING",
            t.quoted,
            cols.join(", "),
            exprs.join(", ")
        )
    }
}

/// Referenced tables before the tables referencing them.
pub fn seed_order(tables: &[Table]) -> Vec<&Table> {
    let mut done: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    while out.len() < tables.len() {
        let before = out.len();
        for t in tables {
            if done.contains(&t.oid) {
                continue;
            }
            let ready = t.references.iter().all(|r| done.contains(r) || !tables.iter().any(|x| x.oid == *r));
            if ready {
                done.push(t.oid);
                out.push(t);
            }
        }
        if out.len() == before {
            // A reference cycle: the rest in the given order.
            out.extend(tables.iter().filter(|t| !done.contains(&t.oid)));
            break;
        }
    }
    out
}

/// Inserts `rows` synthetic rows into each table. Returns problems (one per table that failed).
pub async fn seed(c: &Client, tables: &[Table], rows: u64) -> Vec<String> {
    let mut problems = Vec::new();
    // Superuser only: without it foreign-key checks stay on.
    let replica = c.batch_execute("SET session_replication_role = replica").await.is_ok();
    for t in seed_order(tables) {
        let sql = insert_sql(t, &format!("generate_series(1::bigint, {rows}::bigint) AS g(i)"), false);
        if let Err(e) = c.batch_execute(&sql).await {
            problems.push(format!("seeding {} failed: {}", t.display, db_message(&e)));
            continue;
        }
        if let Err(e) = c.batch_execute(&format!("ANALYZE {}", t.quoted)).await {
            problems.push(format!("analyzing {} failed: {}", t.display, db_message(&e)));
        }
    }
    if replica {
        let _ = c.batch_execute("RESET session_replication_role").await;
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(base: &str, formatted: &str) -> Column {
        Column {
            name: "c".into(),
            formatted: formatted.into(),
            base: base.into(),
            category: "N".into(),
            not_null: true,
            server_filled: false,
            foreign_key: false,
            enum_labels: Vec::new(),
            existing_reference: None,
        }
    }

    #[test]
    fn expressions_fit_their_types() {
        assert_eq!(value_expr(&col("int4", "integer")).as_deref(), Some("((i % 2147483647))::integer"));
        assert_eq!(value_expr(&col("numeric", "numeric(5,2)")).as_deref(), Some("((i % 1000))::numeric(5,2)"));
        let mut e = col("mood", "mood");
        e.enum_labels = vec!["a".into(), "it's".into()];
        assert_eq!(value_expr(&e).as_deref(), Some("((ARRAY['a', 'it''s'])[(1 + i % 2)::int])::mood"));
        let mut x = col("xml", "xml");
        x.not_null = false;
        assert_eq!(value_expr(&x), None);
    }
}
