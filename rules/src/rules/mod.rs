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
    create_index_non_concurrently::CreateIndexNonConcurrently,
    concurrently_in_transaction::ConcurrentlyInTransaction,
    drop_column::DropColumn,
}
