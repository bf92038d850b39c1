use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Algorithm as Requested, AlterActionKind};
use sluice_core::online_ddl::{self, ColumnChangeKind, MemberChange, Target};

declare_rule! {
    /// ## What it does
    /// Flags a `MODIFY`/`CHANGE` of an ENUM or SET column of a table that existed before this
    /// migration that does more than append members at the end of the list, or whose appended
    /// members grow the storage size: ENUM takes 1 byte up to 255 members and 2 above; SET takes
    /// 1, 2, 3, 4 or 8 bytes for up to 8, 16, 24, 32 or 64 members. The old member list comes
    /// from the earlier migrations. An explicit `ALGORITHM=COPY` is reported by
    /// `algorithm-copy-or-blocking-lock` instead.
    ///
    /// ## Why it is bad
    /// MySQL stores ENUM/SET values as member numbers. Appending members at the end within the
    /// same storage size only changes metadata (instant on MySQL 8.0 and MariaDB 10.3+); removing,
    /// reordering or inserting members before existing ones renumbers the stored values, and a
    /// bigger storage size changes every row, so the server copies the table while writes wait
    /// (MySQL Reference Manual, "Online DDL Operations", Column Operations). Rows holding a
    /// removed member make the ALTER fail in strict `sql_mode`, or are set to `''` otherwise.
    ///
    /// ## Example
    /// ```sql
    /// -- orders.status was ENUM('new','paid','shipped')
    /// ALTER TABLE orders MODIFY status ENUM('new','pending','paid','shipped') NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// Append new members at the end, which is instant:
    /// ```sql
    /// ALTER TABLE orders MODIFY status ENUM('new','paid','shipped','pending') NOT NULL, ALGORITHM=INSTANT;
    /// ```
    /// Leave members that are no longer used in the list, or run the change with an online schema
    /// change tool (gh-ost, pt-online-schema-change).
    pub struct EnumSetChangeNotAppend {
        name: "enum-set-change-not-append",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for EnumSetChangeNotAppend {
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
                let AlterActionKind::AlterColumnType { column, .. } = &action.kind else { continue };
                for aspect in &change.aspects {
                    let what = match &aspect.kind {
                        ColumnChangeKind::MembersNotAppended(m) => not_appended(m),
                        ColumnChangeKind::MemberStorageGrows(m) => format!(
                            "going from {} to {} members takes the {} from {} to {} bytes per value",
                            m.old.len(),
                            m.new.len(),
                            m.type_keyword,
                            m.storage_bytes(m.old.len()),
                            m.storage_bytes(m.new.len())
                        ),
                        _ => continue,
                    };
                    let d = out.report(
                        o.stmt,
                        action.span,
                        format!(
                            "`{}`: {what}, so MySQL rewrites every row and copies `{}`, blocking writes to it until the copy is done",
                            column.name,
                            name.display()
                        ),
                    );
                    d.help = Some(
                        "only append new members at the end of the list (instant), leave unused members in place, or run the change with gh-ost or pt-online-schema-change".into(),
                    );
                }
            }
        }
    }
}

fn not_appended(m: &MemberChange) -> String {
    let removed = m.removed();
    if removed.is_empty() {
        format!("the {} members are reordered or new ones are inserted before existing ones", m.type_keyword)
    } else {
        let list: Vec<String> = removed.iter().map(|r| format!("'{r}'")).collect();
        format!(
            "the {} loses {} {} (rows holding it fail the ALTER in strict sql_mode)",
            m.type_keyword,
            if list.len() == 1 { "member" } else { "members" },
            list.join(", ")
        )
    }
}
