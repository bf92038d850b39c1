use super::create_without_if_not_exists::{keyword_before, rerun_note};
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ObjectKind, Op, QualifiedName};
use sluice_core::lexer::Token;
use sluice_core::{Applicability, Dialect, Edit, Fix, Span, Statement};

declare_rule! {
    /// ## What it does
    /// Flags `DROP TABLE`, `DROP INDEX`, `DROP VIEW`, `DROP SEQUENCE`, `DROP SCHEMA`,
    /// `DROP TYPE`, `DROP FUNCTION` and the other `DROP` statements without `IF EXISTS`, and
    /// `ALTER TABLE ... DROP COLUMN` / `DROP CONSTRAINT` without `IF EXISTS`.
    ///
    /// Only forms the target server accepts are flagged: MySQL has no `IF EXISTS` for
    /// `DROP INDEX`, `DROP COLUMN` or `DROP CONSTRAINT` (MariaDB has them, and they are flagged
    /// there). Objects created earlier in the same file are not flagged, nor are statements of a
    /// `DO` block or function body that run in a branch of `IF` / `CASE` or inside a block whose
    /// `EXCEPTION` clause catches the failure.
    ///
    /// ## Why it is bad
    /// Migrations get run again: MySQL commits every DDL statement on its own, so a migration
    /// that fails halfway leaves its first statements applied, and the retry stops at the first
    /// `DROP` of something that is already gone. On PostgreSQL the same happens after a manual
    /// fix-up or when the tool runs the file outside a transaction.
    ///
    /// ## Example
    /// ```sql
    /// DROP INDEX orders_legacy_status_idx;
    /// ALTER TABLE orders DROP COLUMN legacy_status;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// DROP INDEX IF EXISTS orders_legacy_status_idx;
    /// ALTER TABLE orders DROP COLUMN IF EXISTS legacy_status;
    /// ```
    /// The fix inserts `IF EXISTS`. Other rules still judge whether the drop itself is safe.
    pub struct DropWithoutIfExists {
        name: "drop-without-if-exists",
        dialects: [Postgres, MySql],
        category: Idempotency,
        severity: Warning,
        fix: Safe,
    }
}

/// Keywords that directly precede the first name of a `DROP` statement.
const DROP_KEYWORDS: &[&str] = &[
    "table",
    "view",
    "sequence",
    "schema",
    "database",
    "type",
    "domain",
    "function",
    "procedure",
    "trigger",
    "extension",
    "index",
    "concurrently",
];

fn kind_name(kind: ObjectKind) -> Option<&'static str> {
    (kind != ObjectKind::Other).then(|| kind.name())
}

/// Whether the target server accepts `IF EXISTS` on this kind of `DROP`.
fn drop_supported(cx: &RuleContext<'_>, kind: ObjectKind) -> bool {
    let v = cx.fcx.settings.mysql_version;
    match cx.dialect() {
        Dialect::Postgres => kind != ObjectKind::Other,
        Dialect::MySql => match kind {
            ObjectKind::Table
            | ObjectKind::View
            | ObjectKind::Schema
            | ObjectKind::Database
            | ObjectKind::Function
            | ObjectKind::Procedure
            | ObjectKind::Trigger => true,
            ObjectKind::Index => v.mariadb_at_least(10, 1),
            ObjectKind::Sequence => v.mariadb_at_least(10, 3),
            _ => false,
        },
    }
}

/// True when an earlier statement of the file created this object.
fn created_earlier(cx: &RuleContext<'_>, kind: ObjectKind, name: &QualifiedName, index: usize) -> bool {
    if kind == ObjectKind::Table {
        return cx.is_new_table(name, index);
    }
    cx.ops_before(index).any(|o| match o.op {
        Op::Create { kind: k, name: Some(n), .. } => *k == kind && n.same_object(name),
        Op::CreateIndex { name: Some(n), .. } => kind == ObjectKind::Index && n.name.eq_ignore_ascii_case(&name.name),
        _ => false,
    })
}

fn with_fix(out: &mut Reporter, stmt: &Statement, span: Span, message: String, help: &str, edit: Option<Edit>) {
    let d = out.report(stmt, span, message);
    d.help = Some(help.into());
    if let Some(edit) = edit {
        d.fix =
            Some(Fix { description: "Add IF EXISTS".into(), applicability: Applicability::Safe, edits: vec![edit] });
    }
}

fn insert_after(tok: Option<Token>, text: &str) -> Option<Edit> {
    tok.map(|t| Edit::insert(t.span.end, text))
}

impl Rule for DropWithoutIfExists {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let v = cx.fcx.settings.mysql_version;
        let pg = cx.dialect() == Dialect::Postgres;
        for o in cx.ops() {
            // An existence check or an exception handler in the body already makes it re-runnable.
            if o.stmt.is_guarded_op(o.op) {
                continue;
            }
            let (kind, names) = match o.op {
                Op::Drop { kind, names, if_exists: false, .. } => (*kind, names),
                Op::DropIndex { names, if_exists: false, .. } => (ObjectKind::Index, names),
                Op::AlterTable { name, actions, .. } => {
                    for a in actions {
                        let (what, ident, keywords, supported): (&str, _, &[&str], bool) = match &a.kind {
                            AlterActionKind::DropColumn { name: c, if_exists: false, .. } => {
                                ("column", c, &["column", "drop"], pg || v.mariadb_at_least(10, 0))
                            }
                            AlterActionKind::DropConstraint { name: c, if_exists: false, .. } => {
                                ("constraint", c, &["constraint", "key"], pg || v.mariadb_at_least(10, 2))
                            }
                            AlterActionKind::DropIndex { name: c } => {
                                ("index", c, &["index", "key"], v.mariadb_at_least(10, 1))
                            }
                            _ => continue,
                        };
                        if !supported {
                            continue;
                        }
                        let kw = keyword_before(cx, o.stmt, ident.span.start, keywords);
                        let text = match kw {
                            Some(t) if t.is_word(cx.text(), "drop") => " COLUMN IF EXISTS",
                            _ => " IF EXISTS",
                        };
                        let written = match kw {
                            Some(t) if what == "constraint" && t.is_word(cx.text(), "key") => "FOREIGN KEY".to_string(),
                            _ => what.to_ascii_uppercase(),
                        };
                        with_fix(
                            out,
                            o.stmt,
                            ident.span,
                            format!(
                                "dropping {what} `{}` of `{}` without `IF EXISTS` fails if the migration runs again: {}",
                                ident.name,
                                name.display(),
                                rerun_note(cx, &o)
                            ),
                            &format!("write `DROP {written} IF EXISTS`"),
                            insert_after(kw, text),
                        );
                    }
                    continue;
                }
                _ => continue,
            };
            let (Some(what), Some(first), Some(last)) = (kind_name(kind), names.first(), names.last()) else {
                continue;
            };
            if !drop_supported(cx, kind) || names.iter().all(|n| created_earlier(cx, kind, n, o.index)) {
                continue;
            }
            let shown: Vec<String> = names.iter().map(|n| format!("`{}`", n.display())).collect();
            let kw = keyword_before(cx, o.stmt, first.span.start, DROP_KEYWORDS);
            with_fix(
                out,
                o.stmt,
                first.span.cover(last.span),
                format!(
                    "dropping {what} {} without `IF EXISTS` fails if the migration runs again: {}",
                    shown.join(", "),
                    rerun_note(cx, &o)
                ),
                &format!("write `DROP {} IF EXISTS`", what.to_ascii_uppercase()),
                insert_after(kw, " IF EXISTS"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fix_text;
    use crate::rules::test_util::{self, mysql};
    use sluice_core::MySqlVersion;

    fn findings(sql: &str, version: MySqlVersion) -> usize {
        test_util::findings(sql, &mysql(version), "drop-without-if-exists").len()
    }

    const SQL: &str = "DROP INDEX idx_orders_legacy ON orders;\n\
                       ALTER TABLE orders DROP COLUMN legacy_status, DROP legacy_flag;\n\
                       ALTER TABLE orders DROP FOREIGN KEY fk_orders_customer;\n";

    #[test]
    fn mysql_has_no_if_exists_for_indexes_columns_and_foreign_keys() {
        assert_eq!(findings(SQL, MySqlVersion::mysql(8, 0, 35)), 0);
    }

    #[test]
    fn mariadb_has_them_and_the_fix_inserts_them() {
        let v = MySqlVersion::mariadb(10, 11, 0);
        assert_eq!(findings(SQL, v), 4);
        let (fixed, _) = fix_text(SQL, &mysql(v), false);
        assert!(fixed.contains("DROP INDEX IF EXISTS idx_orders_legacy"), "{fixed}");
        assert!(fixed.contains("DROP COLUMN IF EXISTS legacy_status, DROP COLUMN IF EXISTS legacy_flag"), "{fixed}");
        assert!(fixed.contains("DROP FOREIGN KEY IF EXISTS fk_orders_customer"), "{fixed}");
        assert_eq!(findings(&fixed, v), 0);
    }
}
