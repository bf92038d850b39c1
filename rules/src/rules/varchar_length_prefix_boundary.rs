use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Algorithm as Requested;
use sluice_core::online_ddl::{self, ColumnChangeKind, Target, VarcharChange};

declare_rule! {
    /// ## What it does
    /// Flags a `MODIFY`/`CHANGE` that lengthens a VARCHAR (or VARBINARY) column of a table that
    /// existed before this migration past 255 bytes, when the column was 255 bytes or less. Bytes
    /// are characters times the column's character set width: utf8mb4 4, utf8mb3 3, latin1 and
    /// binary 1. The character set is the one the new definition names, else the table default
    /// from its `CREATE TABLE`, else the server default (utf8mb4 on MySQL 8.0 and MariaDB 11.6+,
    /// latin1 before), which the message says it assumed. The old definition comes from the
    /// earlier migrations. An explicit `ALGORITHM=COPY` is reported by
    /// `algorithm-copy-or-blocking-lock` instead.
    ///
    /// ## Why it is bad
    /// InnoDB stores a one-byte length prefix for a VARCHAR of at most 255 bytes and a two-byte
    /// prefix above. Extending a VARCHAR in place is only possible while the prefix keeps its size
    /// (MySQL Reference Manual, "Online DDL Operations", Column Operations): crossing the
    /// boundary rewrites every row with `ALGORITHM=COPY` while writes wait, although the change
    /// looks like the harmless in-place extension. `VARCHAR(50)` to `VARCHAR(64)` in utf8mb4 is
    /// 200 to 256 bytes: a full table copy.
    ///
    /// ## Example
    /// ```sql
    /// -- profiles.nickname was VARCHAR(50) in a utf8mb4 table
    /// ALTER TABLE profiles MODIFY nickname VARCHAR(64) NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// Stay within the length the one-byte prefix allows (63 characters in utf8mb4, 85 in
    /// utf8mb3, 255 in latin1) and state the algorithm, or make the long change with an online
    /// schema change tool (gh-ost, pt-online-schema-change):
    /// ```sql
    /// ALTER TABLE profiles MODIFY nickname VARCHAR(63) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    pub struct VarcharLengthPrefixBoundary {
        name: "varchar-length-prefix-boundary",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for VarcharLengthPrefixBoundary {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, actions) in cx.alter_tables_of_existing() {
            if online_ddl::explicit_algorithm(actions) == Some(Requested::Copy) {
                continue;
            }
            let Some(table) = cx.fcx.catalog_before(o.index).table(name) else { continue };
            let target =
                Target { version: cx.fcx.settings.mysql_version, foreign_key_checks_off: o.ctx.foreign_key_checks_off };
            for (action, change) in online_ddl::column_changes(actions, table, target) {
                for aspect in &change.aspects {
                    let ColumnChangeKind::VarcharPrefixGrows(v) = &aspect.kind else { continue };
                    let column = match &action.kind {
                        sluice_core::ir::AlterActionKind::AlterColumnType { column, .. } => column.name.as_str(),
                        _ => "",
                    };
                    let d = out.report(o.stmt, action.span, message(column, &name.display(), v));
                    d.help = Some(format!(
                        "keep it at {} characters or fewer ({} bytes) to extend it in place with `ALGORITHM=INPLACE, LOCK=NONE`, or make the change with gh-ost or pt-online-schema-change",
                        v.one_byte_limit_chars(),
                        v.one_byte_limit_chars() * i64::from(v.charset.max_bytes.unwrap_or(1)),
                    ));
                }
            }
        }
    }
}

fn message(column: &str, table: &str, v: &VarcharChange) -> String {
    format!(
        "`{column}` grows from {} to {} characters, {} to {} bytes in {}: its length prefix grows from 1 to 2 bytes, so MySQL copies `{table}` and blocks writes to it until the copy is done",
        v.from_chars,
        v.to_chars,
        v.from_bytes(),
        v.to_bytes(),
        v.charset.describe(),
    )
}
