use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::AlterActionKind;
use sluice_core::online_ddl::{self, Algorithm, Target};
use sluice_core::{Applicability, Edit, Fix, MySqlVersion};

declare_rule! {
    /// ## What it does
    /// Flags an `ALTER TABLE` on a table that existed before this migration that the server can
    /// run instantly or in place with concurrent writes, but that does not state an `ALGORITHM=`
    /// clause. The fix appends `ALGORITHM=INSTANT`, or `ALGORITHM=INPLACE, LOCK=NONE`, whichever
    /// is the strongest the server accepts for these clauses. A `MODIFY`/`CHANGE` is judged
    /// against the column as the earlier migrations defined it: extending a VARCHAR within its
    /// length-prefix size gets `ALGORITHM=INPLACE, LOCK=NONE`, appending ENUM members
    /// `ALGORITHM=INSTANT`.
    ///
    /// ## Why it is bad
    /// Without the clause, MySQL silently falls back to a blocking table copy whenever one clause
    /// (or a detail of the live table: a FULLTEXT index, `ROW_FORMAT=COMPRESSED`, the 64 instant
    /// row versions limit) rules out the online path. Stating the algorithm turns that silent
    /// outage into an immediate error (1845/1846) that the deploy can stop on.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// ALTER TABLE `orders` ADD COLUMN `note` VARCHAR(255) NULL, ALGORITHM=INSTANT;
    /// ```
    /// Statements that can only copy the table are reported by `alter-table-copies-table`
    /// instead.
    pub struct AlterTableWithoutAlgorithm {
        name: "alter-table-without-algorithm",
        dialects: [MySql],
        category: Locking,
        severity: Info,
        fix: Safe,
    }
}

impl Rule for AlterTableWithoutAlgorithm {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.mysql_version;
        for (o, name, actions) in cx.alter_tables_of_existing() {
            if online_ddl::explicit_algorithm(actions).is_some() || online_ddl::explicit_lock(actions).is_some() {
                continue;
            }
            let target = Target { version, foreign_key_checks_off: o.ctx.foreign_key_checks_off };
            let table = cx.fcx.catalog_before(o.index).table(name);
            let Some(verdict) = online_ddl::alter_table_in(actions, target, table) else { continue };
            let overall = verdict.overall;
            // Blocking plans are `alter-table-copies-table`'s business.
            if overall.blocks_writes() {
                continue;
            }
            // On 8.0.29 instant ADD/DROP COLUMN is unsafe: ask for the in-place path there.
            let touches_columns = actions
                .iter()
                .any(|a| matches!(a.kind, AlterActionKind::AddColumn { .. } | AlterActionKind::DropColumn { .. }));
            let instant =
                overall.best == Algorithm::Instant && !(touches_columns && version == MySqlVersion::mysql(8, 0, 29));
            let (clause, how) = if instant {
                ("ALGORITHM=INSTANT", "instantly")
            } else {
                ("ALGORITHM=INPLACE, LOCK=NONE", "in place with concurrent writes")
            };
            let d = out.report(
                o.stmt,
                name.span,
                format!(
                    "this ALTER on `{}` can run {how}, but without an ALGORITHM clause MySQL would silently fall back to a blocking table copy if it cannot",
                    name.display()
                ),
            );
            d.help = Some(format!("append `{clause}` so the server refuses the statement instead of blocking writes"));
            // After the last real token, so a trailing comment does not swallow the clause.
            let end = cx.code_tokens(o.stmt).next_back().map_or(o.stmt.span.end, |t| t.span.end);
            d.fix = Some(Fix {
                description: format!("Append `{clause}`"),
                applicability: Applicability::Safe,
                edits: vec![Edit::insert(end, format!(", {clause}"))],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, mysql};
    use sluice_core::MySqlVersion;

    fn fixes(sql: &str, version: MySqlVersion) -> Vec<String> {
        findings(sql, &mysql(version), "alter-table-without-algorithm")
            .into_iter()
            .filter_map(|d| d.fix)
            .map(|f| f.description)
            .collect()
    }

    #[test]
    fn the_suggested_algorithm_follows_the_version() {
        let sql = "ALTER TABLE t ADD COLUMN c INT;";
        assert_eq!(fixes(sql, MySqlVersion::mysql(8, 0, 35)), ["Append `ALGORITHM=INSTANT`"]);
        // Instant ADD COLUMN is unsafe on 8.0.29, and does not exist on 5.7.
        assert_eq!(fixes(sql, MySqlVersion::mysql(8, 0, 29)), ["Append `ALGORITHM=INPLACE, LOCK=NONE`"]);
        assert_eq!(fixes(sql, MySqlVersion::mysql(5, 7, 44)), ["Append `ALGORITHM=INPLACE, LOCK=NONE`"]);
        assert_eq!(fixes(sql, MySqlVersion::mariadb(10, 11, 0)), ["Append `ALGORITHM=INSTANT`"]);
        // Other instant operations keep INSTANT on 8.0.29.
        let rename = "ALTER TABLE t RENAME COLUMN a TO b;";
        assert_eq!(fixes(rename, MySqlVersion::mysql(8, 0, 29)), ["Append `ALGORITHM=INSTANT`"]);
    }
}
