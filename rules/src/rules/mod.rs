//! Every rule, one file each. The `rules!` list below is the registry: one line per rule.

use crate::rule::Rule;

macro_rules! rules {
    ($($module:ident :: $rule:ident),+ $(,)?) => {
        $(mod $module;)+
        /// All rules, in documentation order.
        pub static RULES: &[&dyn Rule] = &[$(&$module::$rule),+];
    };
}

rules! {
    // PostgreSQL locking and transaction rules.
    create_index_non_concurrently::CreateIndexNonConcurrently,
    concurrently_in_transaction::ConcurrentlyInTransaction,
    concurrently_in_do_block::ConcurrentlyInFunctionOrDoBlock,
    ddl_without_lock_timeout::DdlWithoutLockTimeout,
    lock_timeout_too_high::LockTimeoutTooHigh,
    lock_held_during_later_statements::LockHeldDuringLaterStatements,
    lock_order_deadlock_risk::LockOrderDeadlockRisk,
    statement_timeout_for_long_operation::StatementTimeoutForLongOperation,
    drop_index_non_concurrently::DropIndexNonConcurrently,
    reindex_non_concurrently::ReindexNonConcurrently,
    create_index_concurrently_pg14_bug::CreateIndexConcurrentlyPg14Bug,
    constraint_without_not_valid::ConstraintWithoutNotValid,
    set_not_null_scans_table::SetNotNullScansTable,
    alter_column_type_rewrites_table::AlterColumnTypeRewritesTable,
    add_column_volatile_default::AddColumnVolatileDefault,
    unique_constraint_builds_index::UniqueConstraintBuildsIndex,
    exclusion_constraint_on_existing_table::ExclusionConstraintOnExistingTable,
    alter_table_set_rewrites_table::AlterTableSetRewritesTable,
    detach_partition_non_concurrently::DetachPartitionNonConcurrently,
    attach_partition_scans_table::AttachPartitionScansTable,
    vacuum_full_or_cluster::VacuumFullOrCluster,
    refresh_materialized_view_blocks_reads::RefreshMaterializedViewBlocksReads,
    foreign_key_without_index::ForeignKeyWithoutIndex,
    // (section: postgres-locking)
    // Rules shared by both dialects: destructive, compatibility, idempotency, data changes.
    drop_column::DropColumn,
    drop_table::DropTable,
    drop_schema_or_database::DropSchemaOrDatabase,
    truncate_table::TruncateTable,
    rename_column::RenameColumn,
    narrowing_type_change::NarrowingTypeChange,
    rename_table::RenameTable,
    rename_by_add_and_drop::RenameByAddAndDrop,
    not_null_breaks_old_inserts::NotNullBreaksOldInserts,
    destructive_down_migration::DestructiveDownMigration,
    missing_down_migration::MissingDownMigration,
    mixed_contract_migration::MixedContractMigration,
    drop_not_null::DropNotNull,
    add_not_null_column_without_default::AddNotNullColumnWithoutDefault,
    unbatched_table_wide_dml::UnbatchedTableWideDml,
    create_without_if_not_exists::CreateWithoutIfNotExists,
    drop_without_if_exists::DropWithoutIfExists,
    begin_inside_transaction::BeginInsideTransaction,
    unterminated_transaction::UnterminatedTransaction,
    enum_value_added_in_transaction::EnumValueAddedInTransaction,
    identifier_too_long::IdentifierTooLong,
    // (section: shared)
    // MySQL and MariaDB rules.
    algorithm_copy_or_blocking_lock::AlgorithmCopyOrBlockingLock,
    alter_table_copies_table::AlterTableCopiesTable,
    alter_table_without_algorithm::AlterTableWithoutAlgorithm,
    missing_lock_wait_timeout::MissingLockWaitTimeout,
    multiple_ddl_statements::MultipleDdlStatements,
    inline_references_ignored::InlineReferencesIgnored,
    add_foreign_key_copies_table::AddForeignKeyCopiesTable,
    add_check_constraint_scans_table::AddCheckConstraintScansTable,
    add_auto_increment_column::AddAutoIncrementColumn,
    add_column_expression_default::AddColumnExpressionDefault,
    convert_table_charset::ConvertTableCharset,
    drop_primary_key::DropPrimaryKey,
    instant_ddl_on_mysql_8_0_29::InstantDdlOnMysql8029,
    varchar_length_prefix_boundary::VarcharLengthPrefixBoundary,
    varchar_shrink::VarcharShrink,
    enum_set_change_not_append::EnumSetChangeNotAppend,
    // (section: mysql)
}

mod compat;
mod existing_locks;
mod session_timeouts;

/// Helpers for the rules' unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::{lint_text, LintConfig};
    use sluice_core::{Diagnostic, Dialect, MySqlVersion, PgVersion, Settings};

    /// The default configuration with the MySQL dialect at `version`.
    pub(crate) fn mysql(version: MySqlVersion) -> LintConfig {
        let settings = Settings { dialect: Dialect::MySql, mysql_version: version, ..Settings::default() };
        LintConfig { settings, ..LintConfig::default() }
    }

    /// The default configuration with PostgreSQL at `version`.
    pub(crate) fn postgres(version: PgVersion) -> LintConfig {
        LintConfig { settings: Settings { pg_version: version, ..Settings::default() }, ..LintConfig::default() }
    }

    /// The findings of the rule named `rule` on `sql`.
    pub(crate) fn findings(sql: &str, config: &LintConfig, rule: &str) -> Vec<Diagnostic> {
        lint_text(sql, config).into_iter().filter(|d| d.rule == rule).collect()
    }

    /// The messages of the rule named `rule` on `sql`.
    pub(crate) fn messages(sql: &str, config: &LintConfig, rule: &str) -> Vec<String> {
        findings(sql, config, rule).into_iter().map(|d| d.message).collect()
    }

    /// The findings of `rule` on `later` (`V2__b.sql`), linted after `earlier` (`V1__a.sql`, an
    /// applied migration) with the default PostgreSQL configuration.
    pub(crate) fn after_history(earlier: &str, later: &str, rule: &str) -> Vec<Diagnostic> {
        let config = LintConfig::default();
        let input = |path: &str, text: &'static str, report| crate::MigrationInput {
            path: path.into(),
            bytes: text.as_bytes(),
            entry: None,
            sidecar: None,
            report,
            pending: false,
            config: &config,
        };
        // The inputs borrow their bytes; leaking two small test strings keeps the helper simple.
        let earlier: &'static str = Box::leak(earlier.to_string().into_boxed_str());
        let later: &'static str = Box::leak(later.to_string().into_boxed_str());
        let inputs = [input("V1__a.sql", earlier, false), input("V2__b.sql", later, true)];
        let out = crate::lint_history(&inputs, sluice_core::framework::Framework::Plain);
        out.into_iter()
            .nth(1)
            .flatten()
            .map(|l| l.diagnostics)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d.rule == rule)
            .collect()
    }
}
