//! Sluice rules: the rule set, the registry, suppressions, fixes and the lint driver.
//!
//! Like the core, this crate does no IO: it lints text it is given.

pub mod builtin;
pub mod docs;
pub mod history;
pub mod lint;
pub mod peers;
pub mod registry;
pub mod render;
pub mod rule;
pub mod rules;
pub mod suppress;

pub use history::{lint_history, MigrationInput, PreparedHistory};
pub use lint::{
    fix_text, fix_text_with, is_statement_rule, lint_bytes, lint_in_context, lint_parsed, lint_reusing, lint_text,
    FileLint, Findings, LintConfig,
};
pub use rule::{Category, FixKind, Rule, RuleContext, RuleMeta};
