use crate::declare_rule;
use crate::rule::{OpRef, Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::catalog::Origin;
use sluice_core::ir::{AlterActionKind, ObjectKind, Op, QualifiedName};
use sluice_core::lexer::Token;
use sluice_core::{Applicability, Dialect, Edit, Fix, PgVersion, Span, Statement};

declare_rule! {
    /// ## What it does
    /// Flags `CREATE TABLE`, `CREATE INDEX`, `CREATE SCHEMA`, `CREATE SEQUENCE`,
    /// `CREATE EXTENSION`, `CREATE MATERIALIZED VIEW` (and MySQL `CREATE DATABASE`) without
    /// `IF NOT EXISTS`, on PostgreSQL `ALTER TABLE ... ADD COLUMN` without `IF NOT EXISTS`, and
    /// the objects whose re-runnable form is `OR REPLACE` or a guard: `CREATE VIEW` and
    /// `CREATE FUNCTION` / `PROCEDURE` without `OR REPLACE`, `CREATE TRIGGER` without
    /// `OR REPLACE` (PostgreSQL 14+) or `IF NOT EXISTS` (MySQL 8.0.29+, MariaDB), and
    /// PostgreSQL `CREATE TYPE` / `CREATE DOMAIN`, which have neither.
    ///
    /// Column and index guards are flagged only where the target server accepts them: MySQL
    /// has no `IF NOT EXISTS` for `CREATE INDEX` or `ADD COLUMN` (MariaDB has both, and they
    /// are flagged there). Where the server has no guard for the object (types, triggers
    /// before PostgreSQL 14 or MySQL 8.0.29), the finding says what to run before it. Objects
    /// dropped earlier in the same file are not flagged: `DROP TABLE IF EXISTS x;` followed by
    /// `CREATE TABLE x (...)` already runs twice without error. Nor are statements of a `DO`
    /// block or function body that run in a branch of `IF` / `CASE` (the existence check of a
    /// re-runnable body) or inside a block whose `EXCEPTION` clause catches the failure.
    ///
    /// ## Why it is bad
    /// Migrations get run again: MySQL commits every DDL statement on its own, so a migration
    /// that fails halfway leaves its first statements applied, and the retry stops at the first
    /// `CREATE` with "already exists". On PostgreSQL the same happens after a manual fix-up, a
    /// tool that runs the file outside a transaction, or a `CREATE INDEX CONCURRENTLY` that
    /// failed. An unnamed index is worse: every run silently adds another copy of it.
    ///
    /// ## Example
    /// ```sql
    /// CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL);
    /// CREATE INDEX invoices_total_idx ON invoices (total);
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE TABLE IF NOT EXISTS invoices (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL);
    /// CREATE INDEX IF NOT EXISTS invoices_total_idx ON invoices (total);
    /// ```
    /// `IF NOT EXISTS` only checks the name: an existing object with a different definition is
    /// kept as it is. The fix inserts `IF NOT EXISTS`; an unnamed index needs a name first.
    /// Views and functions take `CREATE OR REPLACE`, which the fix inserts; a type is created
    /// in a `DO` block that catches the error of a second run:
    /// ```sql
    /// DO $$ BEGIN
    ///   CREATE TYPE invoice_state AS ENUM ('open', 'paid');
    /// EXCEPTION WHEN duplicate_object THEN NULL;
    /// END $$;
    /// ```
    pub struct CreateWithoutIfNotExists {
        name: "create-without-if-not-exists",
        dialects: [Postgres, MySql],
        category: Idempotency,
        severity: Warning,
        fix: Safe,
    }
}

/// The last code token of `stmt` that ends at or before `offset`, when it is one of `keywords`.
pub(super) fn keyword_before(
    cx: &RuleContext<'_>,
    stmt: &Statement,
    offset: usize,
    keywords: &[&str],
) -> Option<Token> {
    let tok = cx.code_tokens(stmt).rev().find(|t| t.span.end <= offset)?;
    keywords.iter().any(|k| tok.is_word(cx.text(), k)).then_some(*tok)
}

/// The first code token of `stmt` at or after `from` that is the word `first`, or the word
/// `then` right after it when present (`INDEX CONCURRENTLY`, `ADD COLUMN`).
fn keyword_at(cx: &RuleContext<'_>, stmt: &Statement, from: usize, first: &str, then: Option<&str>) -> Option<Token> {
    let mut toks = cx.code_tokens(stmt).filter(|t| t.span.start >= from);
    let found = *toks.find(|t| t.is_word(cx.text(), first))?;
    match (then, toks.next()) {
        (Some(w), Some(next)) if next.is_word(cx.text(), w) => Some(*next),
        _ => Some(found),
    }
}

fn same_kind(a: ObjectKind, b: ObjectKind) -> bool {
    let norm = |k| if k == ObjectKind::Database { ObjectKind::Schema } else { k };
    norm(a) == norm(b)
}

/// The drops of a file, collected once so each lookup costs the number of drops, not the number
/// of statements (files with thousands of statements stay linear). Positions are those of
/// [`RuleContext::ops`], so a drop earlier in the same statement (a `DO` block dropping and then
/// creating) counts too.
struct Drops<'a> {
    /// (operation position, kind, name)
    objects: Vec<(usize, ObjectKind, &'a QualifiedName)>,
    /// (operation position, table, column)
    columns: Vec<(usize, &'a QualifiedName, &'a str)>,
}

impl<'a> Drops<'a> {
    fn collect(cx: &RuleContext<'a>) -> Self {
        let mut d = Drops { objects: Vec::new(), columns: Vec::new() };
        for (at, o) in cx.ops().enumerate() {
            match o.op {
                Op::Drop { kind, names, .. } => d.objects.extend(names.iter().map(|n| (at, *kind, n))),
                Op::DropIndex { names, .. } => d.objects.extend(names.iter().map(|n| (at, ObjectKind::Index, n))),
                Op::AlterTable { name, actions, .. } => {
                    for a in actions {
                        if let AlterActionKind::DropColumn { name: c, .. } = &a.kind {
                            d.columns.push((at, name, c.name.as_str()));
                        }
                    }
                }
                _ => {}
            }
        }
        d
    }

    /// True when an operation before position `at` dropped an object of this kind and name, or
    /// the schema it is qualified with (which takes every object in it along).
    fn dropped_earlier(&self, kind: ObjectKind, name: &QualifiedName, at: usize) -> bool {
        self.objects.iter().any(|(i, k, n)| {
            *i < at
                && ((same_kind(*k, kind) && n.same_object(name))
                    || (same_kind(*k, ObjectKind::Schema)
                        && n.schema.is_none()
                        && name.schema.as_ref().is_some_and(|s| s.eq_ignore_ascii_case(&n.name))))
        })
    }

    /// True when an operation before position `at` dropped column `column` of `table` (or the
    /// table).
    fn column_dropped_earlier(&self, table: &QualifiedName, column: &str, at: usize) -> bool {
        self.dropped_earlier(ObjectKind::Table, table, at)
            || self.columns.iter().any(|(i, t, c)| *i < at && t.same_object(table) && c.eq_ignore_ascii_case(column))
    }
}

/// What the target server accepts `IF NOT EXISTS` on.
struct Support {
    index: bool,
    add_column: bool,
    schema: bool,
    sequence: bool,
    extension: bool,
    database: bool,
    materialized_view: bool,
    /// `CREATE OR REPLACE TRIGGER` (PostgreSQL 14+).
    replace_trigger: bool,
    /// `CREATE FUNCTION/PROCEDURE/TRIGGER IF NOT EXISTS` (MySQL 8.0.29+, MariaDB 10.1.4+).
    routine_if_not_exists: bool,
}

fn support(cx: &RuleContext<'_>) -> Support {
    match cx.dialect() {
        Dialect::Postgres => {
            let pg = cx.fcx.settings.pg_version;
            Support {
                index: pg >= PgVersion::new(9, 5),
                add_column: pg >= PgVersion::new(9, 6),
                schema: pg >= PgVersion::new(9, 3),
                sequence: pg >= PgVersion::new(9, 5),
                extension: true,
                database: false,
                materialized_view: pg >= PgVersion::new(9, 5),
                replace_trigger: pg >= PgVersion::new(14, 0),
                routine_if_not_exists: false,
            }
        }
        Dialect::MySql => {
            let v = cx.fcx.settings.mysql_version;
            Support {
                index: v.mariadb_at_least(10, 1),
                add_column: v.mariadb_at_least(10, 0),
                schema: true,
                sequence: v.mariadb_at_least(10, 3),
                extension: false,
                database: true,
                materialized_view: false,
                replace_trigger: false,
                routine_if_not_exists: if v.is_mariadb() { v.mariadb_at_least(10, 1) } else { v.mysql_at_least(8, 0, 29) },
            }
        }
    }
}

/// Why the statement runs again, for the messages of the idempotency rules.
pub(super) fn rerun_note(cx: &RuleContext<'_>, o: &OpRef<'_>) -> &'static str {
    match cx.dialect() {
        // Inside a transaction a failure rolls everything back; what remains is a re-run of a
        // migration that was already applied (by hand, or with its history row lost).
        Dialect::Postgres if o.ctx.in_transaction => {
            "a re-run of an already applied migration (applied by hand, or with its history entry lost) stops here"
        }
        Dialect::MySql if cx.fcx.settings.mysql_version.is_mariadb() => {
            "MariaDB commits each DDL statement, so a retry after a partial failure stops here"
        }
        Dialect::MySql => "MySQL commits each DDL statement, so a retry after a partial failure stops here",
        Dialect::Postgres => "a re-run after a partial failure or a manual fix-up stops here",
    }
}

impl Rule for CreateWithoutIfNotExists {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let sup = support(cx);
        let drops = Drops::collect(cx);
        for (at, o) in cx.ops().enumerate() {
            // An existence check or an exception handler in the body already makes it re-runnable.
            if o.stmt.is_guarded_op(o.op) {
                continue;
            }
            match o.op {
                Op::CreateTable { name, if_not_exists: false, temporary: false, .. } => {
                    if drops.dropped_earlier(ObjectKind::Table, name, at) {
                        continue;
                    }
                    let kw = keyword_at(cx, o.stmt, o.stmt.span.start, "table", None);
                    report(cx, out, &o, name.span, "table", &name.display(), kw);
                    let existing =
                        cx.fcx.catalog_before(o.index).table(name).filter(|t| !t.stub).map(|t| cx.fcx.origin(&t.origin).into_owned());
                    if let Some(origin) = existing {
                        already_exists(out, "table", &name.display(), &origin);
                    }
                }
                Op::CreateIndex { name, table, if_not_exists: false, keyword_span, .. } if sup.index => match name {
                    Some(ident) => {
                        let q =
                            QualifiedName { schema: table.schema.clone(), name: ident.name.clone(), span: ident.span };
                        if drops.dropped_earlier(ObjectKind::Index, &q, at) {
                            continue;
                        }
                        let kw = keyword_at(cx, o.stmt, o.stmt.span.start, "index", Some("concurrently"));
                        report(cx, out, &o, ident.span, "index", &ident.name, kw);
                        let existing =
                            cx.fcx.catalog_before(o.index).index(&q, Some(table)).map(|i| cx.fcx.origin(&i.origin).into_owned());
                        if let Some(origin) = existing {
                            already_exists(out, "index", &ident.name, &origin);
                        }
                    }
                    None => {
                        let d = out.report(
                            o.stmt,
                            *keyword_span,
                            format!(
                                "this unnamed index on `{}` is created again, under a new name, every time the migration runs",
                                table.display()
                            ),
                        );
                        d.help = Some("give the index a name and add `IF NOT EXISTS`".into());
                    }
                },
                Op::Create { kind, name: Some(name), if_not_exists: false, or_replace: false, table }
                    if matches!(
                        kind,
                        ObjectKind::View | ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger | ObjectKind::Type
                    ) && !drops.dropped_earlier(*kind, name, at)
                        // A trigger goes with its table.
                        && !table.as_ref().is_some_and(|t| drops.dropped_earlier(ObjectKind::Table, t, at)) =>
                {
                    report_replaceable(cx, out, &o, &sup, *kind, name, table.as_ref());
                }
                Op::CreateEnumType { name, .. } if !drops.dropped_earlier(ObjectKind::Type, name, at) => {
                    report_replaceable(cx, out, &o, &sup, ObjectKind::Type, name, None);
                }
                Op::Create { kind, name, if_not_exists: false, or_replace: false, .. } => {
                    let (what, keyword, supported) = match kind {
                        ObjectKind::Schema => ("schema", "schema", sup.schema),
                        ObjectKind::Database => ("database", "database", sup.database),
                        ObjectKind::Sequence => ("sequence", "sequence", sup.sequence),
                        ObjectKind::Extension => ("extension", "extension", sup.extension),
                        ObjectKind::MaterializedView => ("materialized view", "view", sup.materialized_view),
                        _ => continue,
                    };
                    if !supported {
                        continue;
                    }
                    let (span, display, kw) = match name {
                        Some(n) => {
                            if drops.dropped_earlier(*kind, n, at) {
                                continue;
                            }
                            (n.span, n.display(), keyword_at(cx, o.stmt, o.stmt.span.start, keyword, None))
                        }
                        None => (o.stmt.span, String::new(), None),
                    };
                    report(cx, out, &o, span, what, &display, kw);
                }
                Op::AlterTable { name, actions, .. } if sup.add_column => {
                    for a in actions {
                        let AlterActionKind::AddColumn { column, if_not_exists: false } = &a.kind else { continue };
                        if drops.column_dropped_earlier(name, &column.name.name, at) {
                            continue;
                        }
                        let kw = keyword_at(cx, o.stmt, a.span.start, "add", Some("column"));
                        let d = out.report(
                            o.stmt,
                            column.name.span,
                            format!(
                                "adding column `{}` to `{}` without `IF NOT EXISTS` fails if the migration runs again: {}",
                                column.name.name,
                                name.display(),
                                rerun_note(cx, &o)
                            ),
                        );
                        d.help = Some("write `ADD COLUMN IF NOT EXISTS`".into());
                        if let Some(kw) = kw {
                            let text =
                                if kw.is_word(cx.text(), "add") { " COLUMN IF NOT EXISTS" } else { " IF NOT EXISTS" };
                            d.fix = Some(Fix {
                                description: "Add IF NOT EXISTS".into(),
                                applicability: Applicability::Safe,
                                edits: vec![Edit::insert(kw.span.end, text)],
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Rewords the finding just reported when the history shows the object already exists: the
/// statement then fails on its first run, not only on a re-run.
fn already_exists(out: &mut Reporter, what: &str, name: &str, origin: &Origin) {
    let help = format!(
        "drop the duplicate, give it another name, or write `CREATE {} IF NOT EXISTS` if both are meant to be the same",
        what.to_ascii_uppercase()
    );
    already_exists_with(out, what, name, origin, help);
}

/// [`already_exists`] with its own help.
fn already_exists_with(out: &mut Reporter, what: &str, name: &str, origin: &Origin, help: String) {
    let Some(d) = out.diagnostics.last_mut() else { return };
    let by = match &origin.file {
        Some(f) => format!("`{f}` creates it"),
        None => "an earlier statement of this file creates it".to_string(),
    };
    d.message = format!("{what} `{name}` already exists ({by}): this statement fails the first time it runs");
    d.help = Some(help);
}

/// Views, routines, triggers and types: re-runnable with `OR REPLACE`, with `IF NOT EXISTS` where
/// the server has it, or only with a guard written around them.
fn report_replaceable(
    cx: &RuleContext<'_>,
    out: &mut Reporter,
    o: &OpRef<'_>,
    sup: &Support,
    kind: ObjectKind,
    name: &QualifiedName,
    table: Option<&QualifiedName>,
) {
    let what = kind.name();
    let upper = what.to_ascii_uppercase();
    let mysql = cx.dialect() == Dialect::MySql;
    // None inside a function body or DO block: those statements get no fix.
    let create = cx.word_before(o.stmt, name.span.start, "create");
    // A temporary view (or an object in pg_temp) lives as long as the session: the next run
    // starts without it. MySQL has no temporary views (`DEFINER=temp@...` is a user name).
    let temporary = !mysql
        && (name.schema.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("pg_temp"))
            || create.is_some_and(|c| {
                cx.code_tokens(o.stmt)
                    .filter(|t| t.span.start >= c.span.end && t.span.end <= name.span.start)
                    .any(|t| t.is_word(cx.text(), "temp") || t.is_word(cx.text(), "temporary"))
            }));
    if temporary {
        return;
    }
    // (missing clause, help, where to insert it and what)
    let (clause, help, insert) = match kind {
        ObjectKind::View => ("`OR REPLACE`", format!("write `CREATE OR REPLACE {upper}`"), create.map(|t| (t, " OR REPLACE"))),
        // No fix: sqlparser does not read this form yet, so the fixed statement would only be
        // partly parsed.
        ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger if mysql && sup.routine_if_not_exists => (
            "`IF NOT EXISTS`",
            format!("write `CREATE {upper} IF NOT EXISTS`, or run `DROP {upper} IF EXISTS {}` before it", name.display()),
            None,
        ),
        ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Trigger if mysql => (
            "a guard",
            format!(
                "run `DROP {upper} IF EXISTS {}` before it (this server has no `CREATE {upper} IF NOT EXISTS`)",
                name.display()
            ),
            None,
        ),
        ObjectKind::Function | ObjectKind::Procedure => {
            ("`OR REPLACE`", format!("write `CREATE OR REPLACE {upper}`"), create.map(|t| (t, " OR REPLACE")))
        }
        ObjectKind::Trigger => {
            let on = table.map(|t| format!(" ON {}", t.display())).unwrap_or_default();
            let drop = format!("or run `DROP TRIGGER IF EXISTS {}{on}` before it", name.display());
            // Constraint triggers take no `OR REPLACE`.
            let constraint = create.is_some_and(|c| {
                cx.code_tokens(o.stmt).find(|t| t.span.start >= c.span.end).is_some_and(|t| t.is_word(cx.text(), "constraint"))
            });
            if sup.replace_trigger && !constraint {
                ("`OR REPLACE`", format!("write `CREATE OR REPLACE TRIGGER` {drop}"), create.map(|t| (t, " OR REPLACE")))
            } else {
                ("a guard", format!("run `DROP TRIGGER IF EXISTS {}{on}` before it", name.display()), None)
            }
        }
        _ => (
            "a guard",
            "PostgreSQL has no `CREATE TYPE IF NOT EXISTS`: create it in a `DO` block with \
             `EXCEPTION WHEN duplicate_object THEN NULL`, or check `pg_type` first"
                .to_string(),
            None,
        ),
    };
    let d = out.report(
        o.stmt,
        name.span,
        format!(
            "creating {what} `{}` without {clause} fails if the migration runs again: {}",
            name.display(),
            rerun_note(cx, o)
        ),
    );
    d.help = Some(help);
    // The history already has this view or type (PostgreSQL functions are left out: another
    // overload may share the name; triggers: another table's may): the statement fails on its
    // first run, and replacing what an earlier migration created is not a fix to apply unseen.
    let existing = matches!(kind, ObjectKind::View | ObjectKind::Type)
        .then(|| cx.fcx.catalog_before(o.index).object(kind, name).map(|origin| cx.fcx.origin(origin).into_owned()))
        .flatten();
    if let Some(origin) = existing {
        let replace = if kind == ObjectKind::View {
            "write `CREATE OR REPLACE VIEW` only if it is meant to replace the existing view"
        } else {
            "PostgreSQL cannot replace a type"
        };
        already_exists_with(out, what, &name.display(), &origin, format!("drop the duplicate or give it another name; {replace}"));
        return;
    }
    if let Some((kw, text)) = insert {
        d.fix = Some(Fix {
            description: format!("Add {}", text.trim()),
            applicability: Applicability::Safe,
            edits: vec![Edit::insert(kw.span.end, text)],
        });
    }
}

fn report(
    cx: &RuleContext<'_>,
    out: &mut Reporter,
    o: &OpRef<'_>,
    span: Span,
    what: &str,
    name: &str,
    keyword: Option<Token>,
) {
    let named = if name.is_empty() { String::new() } else { format!(" `{name}`") };
    let d = out.report(
        o.stmt,
        span,
        format!(
            "creating {what}{named} without `IF NOT EXISTS` fails if the migration runs again: {}",
            rerun_note(cx, o)
        ),
    );
    d.help = Some(format!("write `CREATE {} IF NOT EXISTS`", what.to_ascii_uppercase()));
    if let Some(kw) = keyword {
        d.fix = Some(Fix {
            description: "Add IF NOT EXISTS".into(),
            applicability: Applicability::Safe,
            edits: vec![Edit::insert(kw.span.end, " IF NOT EXISTS")],
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::fix_text;
    use crate::rules::test_util::{self, mysql};
    use sluice_core::MySqlVersion;

    fn findings(sql: &str, version: MySqlVersion) -> usize {
        test_util::findings(sql, &mysql(version), "create-without-if-not-exists").len()
    }

    const SQL: &str = "CREATE INDEX idx_orders_status ON orders (status);\n\
                       ALTER TABLE customers ADD COLUMN billing_email VARCHAR(255) NULL, ADD billing_phone VARCHAR(32);\n";

    #[test]
    fn mysql_has_no_if_not_exists_for_indexes_and_columns() {
        assert_eq!(findings(SQL, MySqlVersion::mysql(8, 0, 35)), 0);
    }

    #[test]
    fn mariadb_has_them_and_the_fix_inserts_them() {
        let v = MySqlVersion::mariadb(10, 11, 0);
        assert_eq!(findings(SQL, v), 3);
        let (fixed, _) = fix_text(SQL, &mysql(v), false);
        assert!(fixed.contains("CREATE INDEX IF NOT EXISTS idx_orders_status"), "{fixed}");
        assert!(fixed.contains("ADD COLUMN IF NOT EXISTS billing_email"), "{fixed}");
        assert!(fixed.contains("ADD COLUMN IF NOT EXISTS billing_phone"), "{fixed}");
        assert_eq!(findings(&fixed, v), 0);
    }
}

#[cfg(test)]
mod replaceable_tests {
    use crate::rules::test_util::{findings, mysql, postgres};
    use sluice_core::{MySqlVersion, PgVersion};

    const TRIGGER: &str = "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();";

    #[test]
    fn or_replace_trigger_is_offered_from_postgres_14() {
        let at = |v| findings(TRIGGER, &postgres(v), "create-without-if-not-exists");
        let old = at(PgVersion::new(13, 0));
        assert_eq!(old.len(), 1);
        assert!(old[0].fix.is_none(), "{:?}", old[0].fix);
        assert_eq!(old[0].help.as_deref(), Some("run `DROP TRIGGER IF EXISTS t_touch ON t` before it"));
        let new = at(PgVersion::new(14, 0));
        assert_eq!(new.len(), 1);
        assert!(new[0].fix.is_some());
    }

    #[test]
    fn mysql_routines_name_the_guard_the_server_has() {
        let sql = "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1;";
        let help = |v| findings(sql, &mysql(v), "create-without-if-not-exists")[0].help.clone().unwrap_or_default();
        assert!(help(MySqlVersion::mysql(8, 0, 28)).contains("has no `CREATE FUNCTION IF NOT EXISTS`"));
        assert!(help(MySqlVersion::mysql(8, 0, 29)).starts_with("write `CREATE FUNCTION IF NOT EXISTS`"));
        assert!(help(MySqlVersion::mariadb(10, 6, 0)).starts_with("write `CREATE FUNCTION IF NOT EXISTS`"));
    }

    #[test]
    fn mysql_definer_names_are_not_temporary_and_pg_temp_objects_are() {
        let my = "CREATE DEFINER=temp@localhost VIEW v AS SELECT 1;";
        assert_eq!(findings(my, &mysql(MySqlVersion::mysql(8, 0, 35)), "create-without-if-not-exists").len(), 1);
        let pg = "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'select 1';";
        assert!(findings(pg, &postgres(PgVersion::new(16, 0)), "create-without-if-not-exists").is_empty());
    }

    #[test]
    fn objects_of_a_dropped_schema_or_table_are_not_flagged() {
        let sql = "DROP SCHEMA IF EXISTS r CASCADE;\nCREATE SCHEMA r;\n\
                   CREATE FUNCTION r.f() RETURNS int LANGUAGE sql AS 'select 1';\nCREATE VIEW r.v AS SELECT 1;\n\
                   CREATE TABLE r.t (id int);\n\
                   DROP TABLE IF EXISTS audit;\nCREATE TABLE audit (id int);\n\
                   CREATE TRIGGER audit_touch BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION r.f();\n\
                   CREATE VIEW other.v AS SELECT 1;\n";
        let found = findings(sql, &postgres(PgVersion::new(13, 0)), "create-without-if-not-exists");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`other.v`"), "{}", found[0].message);
    }

    #[test]
    fn temporary_views_and_replaced_objects_are_not_flagged() {
        let sql = "CREATE TEMP VIEW a AS SELECT 1;\nCREATE OR REPLACE VIEW b AS SELECT 1;\n\
                   DROP FUNCTION IF EXISTS f();\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';\n\
                   DROP TYPE IF EXISTS e;\nCREATE TYPE e AS ENUM ('x');\n";
        assert!(findings(sql, &postgres(PgVersion::new(16, 0)), "create-without-if-not-exists").is_empty());
    }
}

#[cfg(test)]
mod history_tests {
    use crate::rules::test_util::after_history;

    fn messages(earlier: &str, later: &str) -> Vec<String> {
        after_history(earlier, later, "create-without-if-not-exists").into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn a_name_an_earlier_migration_created_fails_on_the_first_run() {
        let m = messages(
            "CREATE TABLE orders (id int); CREATE INDEX orders_id_idx ON orders (id);",
            "CREATE INDEX orders_id_idx ON orders (id);\nCREATE TABLE orders (id int);\nCREATE INDEX orders_new_idx ON orders (id);",
        );
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].starts_with("index `orders_id_idx` already exists (`V1__a.sql` creates it)"), "{}", m[0]);
        assert!(m[1].starts_with("table `orders` already exists"), "{}", m[1]);
        assert!(m[2].contains("fails if the migration runs again"), "{}", m[2]);
    }

    #[test]
    fn a_view_an_earlier_migration_created_gets_no_replacing_fix() {
        let found = after_history(
            "CREATE VIEW active AS SELECT 1;",
            "CREATE VIEW active AS SELECT 2;\nCREATE VIEW other AS SELECT 1;",
            "create-without-if-not-exists",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.starts_with("view `active` already exists (`V1__a.sql` creates it)"), "{}", found[0].message);
        assert!(found[0].fix.is_none());
        assert!(found[1].fix.is_some());
    }
}
