//! Every rule has fixtures under `fixtures/<dialect>/<rule>/`: `fire*.sql` files on which it must
//! report (rendered diagnostics are snapshotted) and `ok*.sql` files on which it must stay silent.
//! A `sluice.toml` in the folder sets the analysis settings; `history/*.sql` there are replayed
//! first as applied migrations (the schema the fixture is linted against), the fixture being a
//! new migration of the change set. Rules with a fix must converge: after applying their fixes the
//! file still parses and the fixed findings are gone.

use sluice_core::config::Config;
use sluice_core::framework::{classify, FileRole, Framework, FrameworkSetting, MigrationEntry};
use sluice_core::Diagnostic;
use sluice_core::{Dialect, Settings};
use sluice_rules::registry::{self, RULES};
use sluice_rules::{lint_text, render, LintConfig, MigrationInput, PreparedHistory};
use std::path::{Path, PathBuf};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn config_for(dir: &Path, dialect: Dialect) -> LintConfig {
    let settings = Settings { dialect, ..Settings::default() };
    let toml = dir.join("sluice.toml");
    match std::fs::read_to_string(&toml) {
        Ok(text) => {
            let cfg = Config::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", toml.display()));
            LintConfig::from_config(&cfg, settings).unwrap_or_else(|e| panic!("{}: {e:?}", toml.display()))
        }
        Err(_) => LintConfig { settings, ..LintConfig::default() },
    }
}

/// Lints a fixture. When the rule's folder has a `history/` folder, its `*.sql` files are replayed
/// first, in name order, as already-applied migrations, so the fixture is linted against the
/// schema they leave (tables created there are existing tables, not new ones); the fixture itself
/// is a new migration of the change set. When the folder's `sluice.toml` names a migration tool
/// (`framework = "dbmate"`), the history files are that tool's migrations (named as the tool
/// names them) and the fixture's first line may give its name as the tool would see it
/// (`-- fixture-path: 0002_add.up.sql`), so up/down sections and down files are known.
fn lint_fixture(dir: &Path, text: &str, config: &LintConfig) -> Vec<Diagnostic> {
    let framework = match config.settings.framework {
        FrameworkSetting::Fixed(fw) => fw,
        FrameworkSetting::Auto => Framework::Plain,
    };
    let history = sql_files(&dir.join("history"), "");
    if history.is_empty() && framework == Framework::Plain {
        return lint_text(text, config);
    }
    let texts: Vec<(String, String)> = history
        .iter()
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            (name, std::fs::read_to_string(p).expect("read history file"))
        })
        .collect();
    let entry = |name: &str| (framework != Framework::Plain).then(|| classify(framework, name)).flatten();
    fn input<'a>(
        path: &str,
        bytes: &'a [u8],
        entry: Option<MigrationEntry>,
        report: bool,
        config: &'a LintConfig,
    ) -> MigrationInput<'a> {
        MigrationInput { path: path.to_string(), bytes, entry, sidecar: None, report, pending: report, config }
    }
    let mut inputs: Vec<MigrationInput<'_>> =
        texts.iter().map(|(p, t)| input(p, t.as_bytes(), entry(p), false, config)).collect();
    let fixture_path = text
        .lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("-- fixture-path:"))
        .map_or("fixture.sql", str::trim)
        .to_string();
    let fixture_entry = entry(&fixture_path).or_else(|| {
        (framework != Framework::Plain).then(|| MigrationEntry {
            path: fixture_path.clone(),
            version: "99999999999999".into(),
            description: "fixture".into(),
            role: FileRole::Versioned,
            framework,
        })
    });
    inputs.push(input(&fixture_path, text.as_bytes(), fixture_entry, true, config));
    let last = inputs.len() - 1;
    PreparedHistory::new(&inputs, framework).lint_text(last, text)
}

fn sql_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    v.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with(prefix) && name.ends_with(".sql")
    });
    v.sort();
    v
}

#[test]
fn every_rule_fires_and_stays_silent_where_it_should() {
    let mut failures = Vec::new();
    for rule in RULES {
        let meta = rule.meta();
        for &dialect in meta.dialects {
            let dir = fixtures_root().join(dialect.name()).join(meta.name);
            let config = config_for(&dir, dialect);
            let fire = sql_files(&dir, "fire");
            let ok = sql_files(&dir, "ok");
            if fire.is_empty() || ok.is_empty() {
                failures.push(format!("{}: needs fire*.sql and ok*.sql", dir.display()));
                continue;
            }
            for path in &fire {
                let text = std::fs::read_to_string(path).expect("read fixture");
                let diags: Vec<_> =
                    lint_fixture(&dir, &text, &config).into_iter().filter(|d| d.rule == meta.name).collect();
                if diags.is_empty() {
                    failures.push(format!("{}: `{}` did not fire", path.display(), meta.name));
                    continue;
                }
                let rel = format!(
                    "{}/{}/{}",
                    dialect.name(),
                    meta.name,
                    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
                );
                let rendered = render::human(&rel, &text, &diags, false);
                let snap = format!(
                    "{}__{}__{}",
                    dialect.name(),
                    meta.name,
                    path.file_stem().and_then(|n| n.to_str()).unwrap_or("")
                );
                insta::assert_snapshot!(snap, rendered);
            }
            for path in &ok {
                let text = std::fs::read_to_string(path).expect("read fixture");
                let diags: Vec<_> =
                    lint_fixture(&dir, &text, &config).into_iter().filter(|d| d.rule == meta.name).collect();
                if !diags.is_empty() {
                    let rendered = render::human(&path.display().to_string(), &text, &diags, false);
                    failures.push(format!("`{}` fired on a must-not-fire fixture:\n{rendered}", meta.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixes_converge_and_keep_the_sql_parseable() {
    let mut failures = Vec::new();
    for rule in RULES {
        let meta = rule.meta();
        if !meta.fix.is_available() {
            continue;
        }
        let mut fixed_any = false;
        for &dialect in meta.dialects {
            let dir = fixtures_root().join(dialect.name()).join(meta.name);
            let config = config_for(&dir, dialect);
            for path in sql_files(&dir, "fire") {
                let text = std::fs::read_to_string(&path).expect("read fixture");
                let before = lint_fixture(&dir, &text, &config);
                let edits: Vec<_> = before
                    .iter()
                    .filter(|d| d.rule == meta.name)
                    .filter_map(|d| d.fix.as_ref())
                    .flat_map(|f| f.edits.iter().cloned())
                    .collect();
                if edits.is_empty() {
                    continue;
                }
                fixed_any = true;
                let unfixable = before.iter().filter(|d| d.rule == meta.name && d.fix.is_none()).count();
                let syntax_before = before.iter().filter(|d| d.rule == "syntax-error").count();
                let (fixed, skipped) = sluice_core::diagnostic::apply_edits(&text, &edits);
                assert_eq!(skipped, 0, "{}: overlapping edits", path.display());
                let after = lint_fixture(&dir, &fixed, &config);
                let remaining = after.iter().filter(|d| d.rule == meta.name).count();
                let syntax_after = after.iter().filter(|d| d.rule == "syntax-error").count();
                if remaining > unfixable || syntax_after > syntax_before {
                    failures.push(format!(
                        "{}: after fixing, {remaining} `{}` finding(s) remain ({unfixable} had no fix) and {syntax_after} syntax errors (was {syntax_before}):\n{fixed}",
                        path.display(),
                        meta.name
                    ));
                }
                let snap = format!(
                    "{}__{}__{}__fixed",
                    dialect.name(),
                    meta.name,
                    path.file_stem().and_then(|n| n.to_str()).unwrap_or("")
                );
                insta::assert_snapshot!(snap, fixed);
            }
        }
        if !fixed_any {
            failures.push(format!("`{}` declares a fix but no fixture exercises it", meta.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_fixture_folder_without_a_rule() {
    for dialect in Dialect::ALL {
        let root = fixtures_root().join(dialect.name());
        let Ok(rd) = std::fs::read_dir(&root) else { continue };
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rule = registry::rule(&name);
            assert!(
                rule.is_some_and(|r| r.meta().applies_to(dialect)),
                "{}: no {dialect} rule named `{name}`",
                entry.path().display()
            );
        }
    }
}
