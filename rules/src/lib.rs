//! Sluice rules: the rule set, the registry, suppressions, fixes and the lint driver.
//!
//! Like the core, this crate does no IO: it lints text it is given.

pub mod builtin;
pub mod docs;
pub mod lint;
pub mod registry;
pub mod render;
pub mod rule;
pub mod rules;
pub mod suppress;

pub use lint::{fix_text, lint_bytes, lint_parsed, lint_text, FileLint, LintConfig};
pub use rule::{Category, FixKind, Rule, RuleContext, RuleMeta};
