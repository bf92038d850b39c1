use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;
use sluice_core::online_ddl::{self, ColumnChangeKind, Target};

declare_rule! {
    /// ## What it does
    /// Flags a `MODIFY`/`CHANGE` that shortens a VARCHAR (or VARBINARY) column of a table that
    /// existed before this migration, the old length coming from the earlier migrations. It
    /// fires whatever `ALGORITHM=` is written: the data risk does not depend on it.
    ///
    /// ## Why it is bad
    /// Shortening a VARCHAR cannot run in place (MySQL Reference Manual, "Online DDL Operations":
    /// decreasing VARCHAR size requires `ALGORITHM=COPY`), so the table is copied row by row while
    /// writes wait. Every value longer than the new length either makes the statement fail
    /// halfway through the copy (strict `sql_mode`, the default) or is silently truncated
    /// (non-strict mode): data is lost, and the application may still write longer values.
    ///
    /// ## Example
    /// ```sql
    /// -- profiles.bio was VARCHAR(500)
    /// ALTER TABLE profiles MODIFY bio VARCHAR(200);
    /// ```
    ///
    /// ## Use instead
    /// Keep the column as it is and enforce the shorter limit in the application. If it must
    /// shrink, first make sure no value is longer (`SELECT MAX(CHAR_LENGTH(bio)) FROM profiles`),
    /// stop the application from writing longer ones, then run the change with an online schema
    /// change tool (gh-ost, pt-online-schema-change).
    pub struct VarcharShrink {
        name: "varchar-shrink",
        dialects: [MySql],
        category: Destructive,
        severity: Warning,
        fix: None,
    }
}

impl Rule for VarcharShrink {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, actions) in cx.alter_tables_of_existing() {
            let Some(table) = cx.fcx.catalog_before(o.index).table(name) else { continue };
            let target =
                Target { version: cx.fcx.settings.mysql_version, foreign_key_checks_off: o.ctx.foreign_key_checks_off };
            for (action, change) in online_ddl::column_changes(actions, table, target) {
                for aspect in &change.aspects {
                    let ColumnChangeKind::VarcharShrink(v) = &aspect.kind else { continue };
                    let AlterActionKind::AlterColumnType { column, .. } = &action.kind else { continue };
                    let d = out.report(
                        o.stmt,
                        action.span,
                        format!(
                            "`{}` shrinks from {} to {} characters: MySQL copies `{}` with writes blocked, and values longer than {} characters make the ALTER fail (strict sql_mode) or are truncated",
                            column.name,
                            v.from_chars,
                            v.to_chars,
                            name.display(),
                            v.to_chars
                        ),
                    );
                    d.help = Some(
                        "keep the length and enforce the limit in the application; if it must shrink, check that no value is longer first and run the change with gh-ost or pt-online-schema-change".into(),
                    );
                }
            }
        }
    }
}
