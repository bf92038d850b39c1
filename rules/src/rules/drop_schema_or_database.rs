use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{ObjectKind, Op, QualifiedName};
use sluice_core::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `DROP SCHEMA` and `DROP DATABASE` of a schema or database that was not created
    /// earlier in the same file.
    ///
    /// ## Why it is bad
    /// It removes a whole namespace at once. In MySQL and MariaDB a schema is a database, and
    /// dropping it deletes every table in it. In PostgreSQL `DROP SCHEMA ... CASCADE` deletes
    /// every table, view, function and type inside, and `DROP DATABASE` removes everything. A
    /// single mistyped name in a migration wipes out data nothing can restore but a backup.
    ///
    /// ## Example
    /// ```sql
    /// DROP SCHEMA reporting CASCADE;
    /// ```
    ///
    /// ## Use instead
    /// Drop the objects you mean to remove one by one, after the application has stopped using
    /// them, or do the drop by hand outside the migration history. When it really belongs in a
    /// migration, say why with a suppression comment:
    /// ```sql
    /// -- sluice:ignore drop-schema-or-database: reporting moved to the warehouse in release 42
    /// DROP SCHEMA IF EXISTS reporting;
    /// ```
    pub struct DropSchemaOrDatabase {
        name: "drop-schema-or-database",
        dialects: [Postgres, MySql],
        category: Destructive,
        severity: Error,
        fix: None,
    }
}

/// True when a `CREATE SCHEMA`/`CREATE DATABASE` of `name` ran before statement `index`.
fn created_earlier(cx: &RuleContext<'_>, name: &QualifiedName, index: usize) -> bool {
    cx.ops_before(index).any(|o| {
        matches!(o.op, Op::Create { kind: ObjectKind::Schema | ObjectKind::Database, name: Some(n), .. }
            if n.name.eq_ignore_ascii_case(&name.name))
    })
}

impl Rule for DropSchemaOrDatabase {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for o in cx.ops() {
            let Op::Drop { kind: kind @ (ObjectKind::Schema | ObjectKind::Database), names, cascade, .. } = o.op else {
                continue;
            };
            for name in names {
                if created_earlier(cx, name, o.index) {
                    continue;
                }
                let what = if *kind == ObjectKind::Schema { "schema" } else { "database" };
                let effect = match (cx.dialect(), kind, cascade) {
                    (Dialect::MySql, _, _) => "deletes every table in it with all their rows",
                    (Dialect::Postgres, ObjectKind::Database, _) => "deletes the whole database",
                    (Dialect::Postgres, _, true) => "deletes every table, view, function and type in it",
                    (Dialect::Postgres, _, false) => {
                        "removes it with its grants (and fails while objects remain in it)"
                    }
                };
                let d = out.report(o.stmt, name.span, format!("dropping {what} `{}` {effect}", name.display()));
                d.help = Some(format!(
                    "drop the objects that are really unused one by one, or drop the {what} by hand outside the \
                     migrations"
                ));
            }
        }
    }
}
