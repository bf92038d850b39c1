//! Plain-language description of what one operation does on the target server: the PostgreSQL
//! lock model ([`crate::pg_locks`]) or the MySQL online-DDL model ([`crate::online_ddl`]).
//! `sluice explain-sql` prints it and the language server shows it on hover.

use crate::catalog::Catalog;
use crate::context::{Settings, StatementContext};
use crate::ir::{AlterActionKind, Op};
use crate::online_ddl::{self, IndexKind, OnlineDdl};
use crate::pg_locks::{self, Target};
use crate::Dialect;

/// Lines describing `op` (without indentation), or `None` when it has no table-level effect.
/// `schema` is the schema just before the statement (from the migration history): PostgreSQL
/// locks name the tables of indexes and the other table of foreign keys it knows, and MySQL
/// `MODIFY`/`CHANGE` are judged against the column's old definition when it is known.
pub fn describe(op: &Op, settings: &Settings, ctx: &StatementContext, schema: Option<&Catalog>) -> Option<Vec<String>> {
    match settings.dialect {
        Dialect::Postgres => describe_pg(op, settings, ctx.in_transaction, schema),
        Dialect::MySql => describe_mysql(op, settings, ctx.foreign_key_checks_off, schema),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn describe_pg(op: &Op, settings: &Settings, in_transaction: bool, schema: Option<&Catalog>) -> Option<Vec<String>> {
    let e = pg_locks::effect_in(op, settings.pg_version, schema)?;
    let mut out = Vec::new();
    if e.locks.is_empty() {
        out.push("lock: none on existing tables".to_string());
    }
    for (target, mode) in &e.locks {
        let blocks = match target {
            Target::Type(_) | Target::Database => "",
            Target::DeadIndex(_) => " (no query can see the index by then: blocks nothing)",
            _ if mode.blocks_reads() => " (blocks reads and writes)",
            _ if mode.blocks_writes() => " (blocks writes)",
            _ => " (blocks neither reads nor writes)",
        };
        out.push(format!("lock: {} on {}{blocks}", mode.name(), target.describe()));
    }
    out.push(format!("rewrite: {}, scan: {}", yes_no(e.rewrite), yes_no(e.scan)));
    let tx = match (e.transactional, in_transaction) {
        (true, _) => "yes",
        (false, false) => "no",
        (false, true) => "no (but this statement runs inside one: it will fail)",
    };
    out.push(format!("in a transaction block: {tx}"));
    if !e.note.is_empty() {
        out.push(format!("note: {}", e.note));
    }
    Some(out)
}

fn describe_mysql(
    op: &Op,
    settings: &Settings,
    foreign_key_checks_off: bool,
    schema: Option<&Catalog>,
) -> Option<Vec<String>> {
    let target = online_ddl::Target { version: settings.mysql_version, foreign_key_checks_off };
    let ddl: OnlineDdl = match op {
        Op::AlterTable { name, actions, .. } => {
            if actions.iter().all(|a| matches!(a.kind, AlterActionKind::Algorithm(_) | AlterActionKind::Lock(_))) {
                return None;
            }
            match online_ddl::alter_table_in(actions, target, schema.and_then(|c| c.table(name))) {
                Some(d) => d.overall,
                None => return Some(vec!["algorithm: unknown (a clause is not modelled)".to_string()]),
            }
        }
        Op::CreateIndex { unique, .. } => {
            online_ddl::add_index(if *unique { IndexKind::Unique } else { IndexKind::Plain })
        }
        Op::DropIndex { .. } => online_ddl::drop_index(),
        Op::RenameTable { .. } => online_ddl::rename_table(target),
        _ => return None,
    };
    Some(vec![
        format!("algorithm: {}", ddl.best.keyword()),
        format!("rebuilds table: {}", yes_no(ddl.rebuilds_table)),
        format!("concurrent DML: {}", yes_no(ddl.concurrent_dml)),
        format!("reason: {}", ddl.reason),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Origin;
    use crate::parse::parse_file;

    /// The lines describing the last statement of `sql`, with the schema the others build.
    fn explain_last(sql: &str) -> Vec<String> {
        let f = parse_file(sql, Dialect::Postgres);
        let (last, setup) = f.statements.split_last().expect("statements");
        let mut catalog = Catalog::new(Dialect::Postgres);
        for op in setup.iter().flat_map(|s| s.ops.iter()) {
            catalog.apply(op, &Origin::default());
        }
        let settings = Settings { dialect: Dialect::Postgres, ..Settings::default() };
        let op = last.ops.first().expect("one op");
        describe(op, &settings, &StatementContext::default(), Some(&catalog)).expect("described")
    }

    #[test]
    fn postgres_locks_name_the_tables_the_history_knows() {
        let lines =
            explain_last("CREATE TABLE t (id int, a int); CREATE INDEX t_a_idx ON t (a); REINDEX INDEX t_a_idx;");
        assert!(lines.contains(&"lock: SHARE on table t (blocks writes)".to_string()), "{lines:?}");
        let lines = explain_last("REINDEX INDEX t_a_idx;");
        assert!(lines.contains(&"lock: SHARE on the table of index t_a_idx (blocks writes)".to_string()), "{lines:?}");
        let lines = explain_last(
            "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int, pid int REFERENCES p); \
             ALTER TABLE t DROP CONSTRAINT t_pid_fkey;",
        );
        assert!(
            lines.contains(&"lock: ACCESS EXCLUSIVE on referenced table p (blocks reads and writes)".to_string()),
            "{lines:?}"
        );
        let lines = explain_last(
            "CREATE TABLE t (id int, a int); CREATE INDEX t_a_idx ON t (a); DROP INDEX CONCURRENTLY t_a_idx;",
        );
        assert_eq!(
            lines[..2],
            [
                "lock: SHARE UPDATE EXCLUSIVE on table t (blocks neither reads nor writes)",
                "lock: ACCESS EXCLUSIVE on index t_a_idx, once dead (no query can see the index by then: blocks nothing)",
            ],
            "{lines:?}"
        );
    }
}
