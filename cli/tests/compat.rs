//! Backward compatibility across a change set and safe down migrations, end to end: a git
//! repository with applied migrations on the base commit and new ones in the working tree,
//! linted with `--changed-since HEAD --format github`.

mod common;

use common::{git, project, sluice, stdout};
use std::path::Path;

/// A repository whose base commit holds `base`; `new` files are written afterwards (the change set).
fn repo(base: &[(&str, &[u8])], new: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = project(base);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    for (name, body) in new {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    dir
}

/// One GitHub annotation: level, file, line, rule.
#[derive(Debug, PartialEq)]
struct Annotation {
    level: String,
    file: String,
    line: usize,
    rule: String,
}

fn annotations(out: &str) -> Vec<Annotation> {
    out.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("::")?;
            let (level, rest) = rest.split_once(' ')?;
            let props = rest.split("::").next()?;
            let prop = |k: &str| props.split(',').find_map(|p| p.strip_prefix(k)).map(str::to_string);
            Some(Annotation {
                level: level.to_string(),
                file: prop("file=")?,
                line: prop("line=")?.parse().ok()?,
                rule: prop("title=")?.trim_start_matches("sluice ").to_string(),
            })
        })
        .collect()
}

fn lint_change_set(dir: &Path) -> (Option<i32>, Vec<Annotation>, String) {
    let out = sluice(&["lint", "--format", "github", "--fail-on", "error", "--changed-since", "HEAD", "db"], dir);
    let text = stdout(&out);
    (out.status.code(), annotations(&text), text)
}

const USERS: &[u8] = b"CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, nickname text);\n";

#[test]
fn renaming_a_column_in_use_is_refused_on_its_line() {
    let dir = repo(
        &[("db/V1__users.sql", USERS)],
        &[(
            "db/V2__rename.sql",
            b"-- The new name reads better.\nALTER TABLE users RENAME COLUMN email TO email_address;\n",
        )],
    );
    let (code, found, out) = lint_change_set(dir.path());
    assert_eq!(code, Some(1), "{out}");
    let hit = found.iter().find(|a| a.rule == "rename-column").unwrap_or_else(|| panic!("{out}"));
    assert_eq!((hit.level.as_str(), hit.file.as_str(), hit.line), ("error", "db/V2__rename.sql", 2), "{out}");
    assert!(found.iter().all(|a| a.file != "db/V1__users.sql"), "{out}");
}

#[test]
fn a_rename_split_over_two_new_migrations_is_one_finding_at_the_drop() {
    let dir = repo(
        &[("db/V1__users.sql", USERS)],
        &[
            ("db/V2__add.sql", b"ALTER TABLE users ADD COLUMN email_address text;\n"),
            ("db/V3__drop.sql", b"UPDATE users SET email_address = email;\n\nALTER TABLE users DROP COLUMN email;\n"),
        ],
    );
    let (code, found, out) = lint_change_set(dir.path());
    assert_eq!(code, Some(1), "{out}");
    let at_drop: Vec<&Annotation> =
        found.iter().filter(|a| a.file == "db/V3__drop.sql" && a.line == 3 && a.level == "error").collect();
    assert_eq!(at_drop.len(), 1, "one finding at the drop, not drop-column too: {out}");
    assert_eq!(at_drop[0].rule, "rename-by-add-and-drop", "{out}");
    assert!(out.contains("V2__add.sql"), "the message names the migration that adds the column: {out}");
}

#[test]
fn a_column_added_and_dropped_in_the_same_change_set_is_compatible() {
    let dir = repo(
        &[("db/V1__users.sql", USERS)],
        &[
            ("db/V2__add.sql", b"ALTER TABLE users ADD COLUMN import_batch text;\n"),
            ("db/V3__drop.sql", b"ALTER TABLE users DROP COLUMN import_batch;\n"),
        ],
    );
    let (_, found, out) = lint_change_set(dir.path());
    let compat = ["drop-column", "rename-by-add-and-drop", "rename-column"];
    assert!(found.iter().all(|a| !compat.contains(&a.rule.as_str())), "{out}");

    // The same drop on the whole directory (every migration applied) is a compatibility break.
    let all = stdout(&sluice(&["lint", "--format", "github", "db"], dir.path()));
    assert!(annotations(&all).iter().any(|a| a.rule == "drop-column" && a.file == "db/V3__drop.sql"), "{all}");
}

#[test]
fn a_contract_migration_reports_compatibility_findings_as_info() {
    let dir = repo(
        &[("db/V1__users.sql", USERS)],
        &[(
            "db/V2__contract.sql",
            b"-- sluice:phase contract: no release since 42 reads nickname\nALTER TABLE users DROP COLUMN nickname;\n",
        )],
    );
    let (code, found, out) = lint_change_set(dir.path());
    let hit = found.iter().find(|a| a.rule == "drop-column").unwrap_or_else(|| panic!("{out}"));
    assert_eq!((hit.level.as_str(), hit.line), ("notice", 2), "{out}");
    assert!(out.contains("sluice%3Aphase contract") || out.contains("sluice:phase contract"), "{out}");
    assert!(found.iter().all(|a| a.level != "error"), "{out}");
    assert_eq!(code, Some(0), "{out}");

    // Without the marker the same drop is an error.
    std::fs::write(dir.path().join("db/V2__contract.sql"), b"ALTER TABLE users DROP COLUMN nickname;\n").unwrap();
    let (code, found, out) = lint_change_set(dir.path());
    assert!(found.iter().any(|a| a.rule == "drop-column" && a.level == "error"), "{out}");
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn a_destructive_down_migration_is_refused_once() {
    let dir = repo(
        &[
            ("db/1_users.up.sql", USERS),
            (
                "db/1_users.down.sql",
                b"-- sluice:ignore destructive-down-migration: the first release\nDROP TABLE users;\n",
            ),
        ],
        &[
            ("db/2_verify.up.sql", b"ALTER TABLE users ADD COLUMN verified_at timestamptz;\n"),
            ("db/2_verify.down.sql", b"ALTER TABLE users DROP COLUMN verified_at;\n"),
            ("db/3_flag.up.sql", b"ALTER TABLE users ADD COLUMN flag boolean;\n"),
        ],
    );
    let (code, found, out) = lint_change_set(dir.path());
    assert_eq!(code, Some(1), "{out}");
    let down: Vec<&Annotation> =
        found.iter().filter(|a| a.file == "db/2_verify.down.sql" && a.level == "error").collect();
    assert_eq!(down.len(), 1, "one error, not drop-column too: {out}");
    assert_eq!(
        (down[0].rule.as_str(), down[0].level.as_str(), down[0].line),
        ("destructive-down-migration", "error", 1)
    );
    assert!(out.contains("rollback disables, it does not destroy"), "{out}");
    // The up without its down is reported, as info.
    let missing = found.iter().find(|a| a.rule == "missing-down-migration").unwrap_or_else(|| panic!("{out}"));
    assert_eq!((missing.file.as_str(), missing.level.as_str()), ("db/3_flag.up.sql", "notice"), "{out}");
    assert!(found.iter().filter(|a| a.rule == "missing-down-migration").count() == 1, "{out}");
}
