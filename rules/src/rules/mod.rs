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
    // (section: postgres-locking)
    // Rules shared by both dialects: destructive, compatibility, idempotency, data changes.
    drop_column::DropColumn,
    // (section: shared)
    // MySQL and MariaDB rules.
    // (section: mysql)
}
