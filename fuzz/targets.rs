//! Fuzz target bodies, shared by the cargo-fuzz binaries in `fuzz/fuzz_targets/` and the bounded
//! replay-and-mutate test in `cli/tests/robustness_fuzz.rs` (which runs on stable Rust).
//!
//! Each function takes arbitrary bytes and panics only when Sluice breaks one of its input
//! invariants: no panic anywhere in decoding, lexing, splitting, parsing, lowering, rules, fixes,
//! rendering or configuration loading, and every reported span lies inside the text on character
//! boundaries.
// Each fuzz binary uses one of these functions.
#![allow(dead_code)]

use sluice_core::lexer::tokenize;
use sluice_core::{ColumnUnit, Diagnostic, Dialect, LineIndex, Settings, Span};
use sluice_rules::suppress::parse_comment;
use sluice_rules::{fix_text, lint_bytes, LintConfig};
use std::path::Path;

/// Inputs larger than this are cut: the targets look for logic errors, not for linear cost.
pub const MAX_INPUT: usize = 64 * 1024;

fn cap(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

fn assert_span(text: &str, span: Span, what: &str) {
    assert!(span.start <= span.end, "{what}: reversed span {span:?}");
    assert!(span.end <= text.len(), "{what}: span {span:?} past the end ({} bytes)", text.len());
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} splits a character"
    );
}

fn check_diagnostic(text: &str, d: &Diagnostic, index: &LineIndex) {
    assert_span(text, d.span, d.rule);
    assert_span(text, d.statement, d.rule);
    for l in &d.labels {
        assert_span(text, l.span, d.rule);
    }
    if let Some(fix) = &d.fix {
        for e in &fix.edits {
            assert_span(text, e.span, d.rule);
        }
    }
    for unit in [ColumnUnit::Utf8, ColumnUnit::Utf16, ColumnUnit::Char] {
        let start = index.line_col(text, d.span.start, unit);
        let end = index.line_col(text, d.span.end, unit);
        assert!(start <= end, "{}: end before start in {unit:?} columns", d.rule);
    }
}

/// Lints `data` as one migration file of `dialect` with every rule, checks every span, renders
/// the findings and applies all fixes (safe and unsafe).
pub fn lint(data: &[u8], dialect: Dialect) {
    let data = cap(data);
    let config = LintConfig { settings: Settings { dialect, ..Settings::default() }, ..LintConfig::default() };
    let linted = lint_bytes(data, &config);
    let index = LineIndex::new(&linted.text);
    for d in &linted.diagnostics {
        check_diagnostic(&linted.text, d, &index);
    }
    let _ = sluice_rules::render::human("fuzz.sql", &linted.text, &linted.diagnostics, false);
    if linted.diagnostics.iter().any(|d| d.fix.is_some()) {
        let (fixed, _) = fix_text(&linted.text, &config, true);
        let relinted = sluice_rules::lint_text(&fixed, &config);
        let index = LineIndex::new(&fixed);
        for d in &relinted {
            check_diagnostic(&fixed, d, &index);
        }
    }
}

/// Lexes `data` in both dialects and reads every comment as a suppression comment; the rule
/// names returned must be exactly the text their spans cover.
pub fn suppression(data: &[u8]) {
    let text = String::from_utf8_lossy(cap(data));
    // The bytes as a comment body in each comment style, and as a whole file.
    let wrapped = [format!("-- {text}"), format!("/* {text} */"), format!("# {text}"), text.to_string()];
    for src in &wrapped {
        for dialect in Dialect::ALL {
            for tok in tokenize(src, dialect) {
                assert_span(src, tok.span, "token");
                if !tok.is_comment() {
                    continue;
                }
                if let Some((_, names)) = parse_comment(&tok, src) {
                    for (name, span) in names {
                        assert_span(src, span, "suppressed rule name");
                        assert_eq!(span.slice(src), name, "rule name span in {src:?}");
                        assert!(tok.span.start <= span.start && span.end <= tok.span.end, "name outside its comment");
                    }
                }
            }
        }
    }
}

/// Loads `data` as `sluice.toml` (written to `dir`) the way the CLI does, and renders the
/// error report when it is rejected.
pub fn config(data: &[u8], dir: &Path) {
    let data = cap(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = sluice_core::config::Config::parse(text) {
            if let Some(span) = e.span {
                assert!(span.start <= text.len(), "config error span {span:?} past the end");
            }
        }
    }
    let path = dir.join(sluice_workspace::discover::CONFIG_FILE);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Err(report) = sluice_workspace::discover::load(&path, &Default::default()) {
        let _ = format!("{report:?}");
    }
}

/// Sluice's protobuf encoder against libpg_query's own (upb): any text gives the same tree, or
/// the same error at the same position, through both; and the text lowers to the same file from
/// the whole trees as from the lint trees.
pub fn pg_encoder(data: &[u8]) {
    let text = String::from_utf8_lossy(cap(data));
    let ours = sluice_core::parse::parse_pg_tree_direct(&text);
    let upb = sluice_core::parse::parse_pg_tree(&text);
    assert!(ours == upb, "the encoders disagree on {text:?}\nours: {ours:?}\nupb: {upb:?}");
    let (whole, lint) = sluice_core::parse::pg_lowering_both_ways(&text);
    assert!(whole == lint, "lowering differs between whole and lint trees on {text:?}\nwhole:\n{whole}\nlint:\n{lint}");
}
