//! The registry's own invariants: names, documentation and metadata of every rule.

use sluice_rules::registry::{all_metas, RULES};
use std::collections::HashSet;

#[test]
fn names_are_unique_kebab_case_and_describe_the_flagged_pattern() {
    let mut seen = HashSet::new();
    for meta in all_metas() {
        assert!(seen.insert(meta.name), "duplicate rule name {}", meta.name);
        assert!(
            meta.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !meta.name.starts_with('-')
                && !meta.name.ends_with('-')
                && !meta.name.contains("--"),
            "{} is not kebab-case",
            meta.name
        );
        for prefix in ["avoid-", "prefer-", "use-", "no-", "require-"] {
            assert!(!meta.name.starts_with(prefix), "{}: name the flagged pattern, not the advice", meta.name);
        }
        assert!(!meta.dialects.is_empty(), "{} applies to no dialect", meta.name);
    }
}

#[test]
fn every_rule_is_documented_in_the_four_sections() {
    for meta in all_metas() {
        let docs = meta.documentation();
        let mut last = 0;
        for section in ["## What it does", "## Why it is bad", "## Example", "## Use instead"] {
            let at = docs.find(section).unwrap_or_else(|| panic!("{}: missing `{section}`", meta.name));
            assert!(at >= last, "{}: `{section}` out of order", meta.name);
            last = at;
        }
        assert!(!meta.summary().is_empty(), "{}: empty summary", meta.name);
    }
}

#[test]
fn there_are_enough_rules_for_each_dialect() {
    use sluice_core::Dialect;
    let count = |d: Dialect| RULES.iter().filter(|r| r.meta().applies_to(d)).count();
    assert!(count(Dialect::Postgres) >= 20, "{} PostgreSQL rules", count(Dialect::Postgres));
    assert!(count(Dialect::MySql) >= 10, "{} MySQL rules", count(Dialect::MySql));
}
