use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{Algorithm as Requested, AlterActionKind};
use sluice_core::online_ddl::{self, Algorithm, Target};
use sluice_core::MySqlVersion;

declare_rule! {
    /// ## What it does
    /// When the target server is MySQL 8.0.29 exactly (`mysql_version = "8.0.29"`), flags
    /// `ALTER TABLE ... ADD COLUMN` / `DROP COLUMN` that runs with `ALGORITHM=INSTANT`, either
    /// written explicitly or chosen by the server because no algorithm is given.
    ///
    /// ## Why it is bad
    /// 8.0.29 introduced instant ADD/DROP COLUMN anywhere in the table, and that release has
    /// known bugs in it: tables changed this way can be corrupted or crash the server, notably
    /// during crash recovery and later DML. The damage stays in the table after an upgrade,
    /// which is why 8.0.32 or later is the commonly quoted safe floor.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL, ALGORITHM=INPLACE, LOCK=NONE;
    /// ```
    /// or upgrade the server to 8.0.32 or later before running the migration.
    pub struct InstantDdlOnMysql8029 {
        name: "instant-ddl-on-mysql-8-0-29",
        dialects: [MySql],
        category: Correctness,
        severity: Error,
        fix: None,
    }
}

impl Rule for InstantDdlOnMysql8029 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.mysql_version;
        if version != MySqlVersion::mysql(8, 0, 29) {
            return;
        }
        for (o, name, actions) in cx.alter_tables() {
            let Some(column_action) = actions
                .iter()
                .find(|a| matches!(a.kind, AlterActionKind::AddColumn { .. } | AlterActionKind::DropColumn { .. }))
            else {
                continue;
            };
            let explicit = online_ddl::explicit_algorithm(actions) == Some(Requested::Instant);
            let how = match online_ddl::explicit_algorithm(actions) {
                Some(Requested::Instant) => "`ALGORITHM=INSTANT` asks for",
                Some(_) => continue,
                None => {
                    let target = Target { version, foreign_key_checks_off: o.ctx.foreign_key_checks_off };
                    match online_ddl::alter_table(actions, target) {
                        Some(v) if v.overall.best == Algorithm::Instant => "with no ALGORITHM clause the server picks",
                        _ => continue,
                    }
                }
            };
            let what = match column_action.kind {
                AlterActionKind::DropColumn { .. } => "DROP COLUMN",
                _ => "ADD COLUMN",
            };
            let d = out.report(
                o.stmt,
                column_action.span,
                format!(
                    "{how} an instant {what} on `{}`, and MySQL 8.0.29 has known table-corruption bugs in instant ADD/DROP COLUMN",
                    name.display()
                ),
            );
            let change = if explicit { "replace `ALGORITHM=INSTANT` with" } else { "append" };
            d.help = Some(format!(
                "{change} `ALGORITHM=INPLACE, LOCK=NONE`, or upgrade the server to 8.0.32 or later first"
            ));
        }
    }
}
