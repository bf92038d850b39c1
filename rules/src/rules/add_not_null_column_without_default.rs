use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ColumnDef};
use sluice_core::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD COLUMN ... NOT NULL` without a `DEFAULT` (and not an identity,
    /// serial, `AUTO_INCREMENT` or generated column) on a table that existed before this
    /// migration.
    ///
    /// ## Why it is bad
    /// The existing rows need a value for the new column and none is given.
    /// PostgreSQL refuses the statement as soon as the table holds a single row
    /// ("column ... contains null values"): the migration passes on an empty development
    /// database and fails in production.
    /// MySQL and MariaDB instead fill every existing row with the type's implicit zero value
    /// (`0`, `''`, the first `ENUM` member) without a word, which is rarely the intended data;
    /// `DATETIME`, `DATE`, `TIMESTAMP` and spatial columns have no usable zero value and fail
    /// on a non-empty table instead.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE accounts ADD COLUMN plan text NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// Give the column a default that is right for the existing rows (a constant default is
    /// stored in the catalog without a table rewrite on PostgreSQL 11+):
    /// ```sql
    /// ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
    /// ```
    /// or add it as nullable, backfill it in batches, and add the `NOT NULL` constraint in a
    /// later migration.
    pub struct AddNotNullColumnWithoutDefault {
        name: "add-not-null-column-without-default",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Error,
        fix: None,
        scope: Statement,
    }
}

const SPATIAL: &[&str] = &[
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
];

const NUMERIC: &[&str] = &[
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "decimal",
    "numeric",
    "dec",
    "fixed",
    "float",
    "double",
    "real",
    "bit",
    "bool",
    "boolean",
    "year",
    "serial",
];

const STRING: &[&str] = &[
    "char",
    "varchar",
    "binary",
    "varbinary",
    "tinytext",
    "text",
    "mediumtext",
    "longtext",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
];

/// What MySQL does to the existing rows, by column type.
fn mysql_effect(col: &ColumnDef) -> String {
    let ty = col.type_name.name.as_str();
    if ty == "enum" {
        return match col.type_name.values.first() {
            Some(v) => format!("silently fills every existing row with the first ENUM member '{v}'"),
            None => "silently fills every existing row with the first ENUM member".into(),
        };
    }
    if matches!(ty, "datetime" | "date" | "timestamp") {
        return format!("fails as soon as the table has rows: `{ty}` has no valid zero value to fill them with");
    }
    if SPATIAL.contains(&ty) {
        return "fails as soon as the table has rows: spatial columns have no zero value to fill them with".into();
    }
    if NUMERIC.contains(&ty) {
        return "silently fills every existing row with 0".into();
    }
    if STRING.contains(&ty) {
        return "silently fills every existing row with ''".into();
    }
    "silently fills every existing row with the type's zero value".into()
}

impl Rule for AddNotNullColumnWithoutDefault {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddColumn { column, .. } = &a.kind else { continue };
            let has_default = column.default.as_ref().is_some_and(|d| !d.is_null);
            if !column.not_null || has_default || column.identity || column.generated.is_some() {
                continue;
            }
            let (effect, help) = match cx.dialect() {
                Dialect::Postgres => (
                    "fails with `column contains null values` as soon as the table has rows".to_string(),
                    "give it a DEFAULT that suits the existing rows, or add it nullable, backfill, then set NOT NULL",
                ),
                Dialect::MySql => (
                    mysql_effect(column),
                    "give it an explicit DEFAULT that suits the existing rows, or add it nullable, backfill, then \
                     make it NOT NULL",
                ),
            };
            let d = out.report(
                o.stmt,
                column.name.span,
                format!(
                    "adding NOT NULL column `{}` without a default to `{}` {effect}",
                    column.name.name,
                    name.display()
                ),
            );
            d.help = Some(help.into());
        }
    }
}
