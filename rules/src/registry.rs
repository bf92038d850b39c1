//! The single list of rules. Adding a rule means adding its file under `rules/` and one line to
//! the `rules!` invocation in `rules/mod.rs`; everything else (CLI listing, `explain`, docs,
//! LSP hover, fixture checks) reads this registry.

use crate::builtin;
use crate::rule::{Rule, RuleMeta};

pub use crate::rules::RULES;

/// Built-in diagnostics documented like rules.
pub static BUILTINS: &[&RuleMeta] = &[
    &builtin::SyntaxError::META,
    &builtin::UnparsedStatement::META,
    &builtin::InvalidUtf8::META,
    &builtin::PsqlMetaCommand::META,
    &builtin::UnknownRule::META,
    &builtin::UnusedSuppression::META,
    &builtin::MigrationIntegrity::META,
];

/// Finds a rule or built-in diagnostic by name.
pub fn lookup(name: &str) -> Option<&'static RuleMeta> {
    RULES.iter().map(|r| r.meta()).chain(BUILTINS.iter().copied()).find(|m| m.name == name)
}

/// Finds a rule (not a built-in) by name.
pub fn rule(name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().name == name)
}

/// All names, rules first.
pub fn all_metas() -> impl Iterator<Item = &'static RuleMeta> {
    RULES.iter().map(|r| r.meta()).chain(BUILTINS.iter().copied())
}

/// The closest known name to a misspelt one, if any is close enough.
pub fn suggest(name: &str) -> Option<&'static str> {
    all_metas()
        .map(|m| (edit_distance(name, m.name), m.name))
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
