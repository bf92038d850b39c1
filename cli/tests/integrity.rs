//! End-to-end tests of `sluice hash`, `sluice check-integrity` and the integrity check inside
//! `sluice lint`: each way a summed migration directory can go wrong, with the exact message.

mod common;

use common::{project, sluice, stderr, stdout};
use serde_json::Value;

const V1: &str = "CREATE TABLE users (id bigint PRIMARY KEY);\n";
const V2: &str = "ALTER TABLE users ADD COLUMN email text;\n";
const V3: &str = "CREATE TABLE orders (id bigint PRIMARY KEY);\n";

fn hashed() -> tempfile::TempDir {
    let dir = project(&[
        ("db/V1__users.sql", V1.as_bytes()),
        ("db/V2__email.sql", V2.as_bytes()),
        ("db/V3__orders.sql", V3.as_bytes()),
    ]);
    let o = sluice(&["hash", "db"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "wrote db/sluice.sum (3 migrations, flyway)\n");
    dir
}

fn check(dir: &tempfile::TempDir) -> (Option<i32>, Vec<Value>) {
    let o = sluice(&["check-integrity", "--format", "json", "db"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (o.status.code(), v["diagnostics"].as_array().cloned().unwrap_or_default())
}

fn summary(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            assert_eq!(d["rule"], "migration-integrity");
            assert_eq!(d["severity"], "error");
            format!(
                "{}:{}: {}",
                d["path"].as_str().expect("path"),
                d["start"]["line"],
                d["message"].as_str().expect("message")
            )
        })
        .collect()
}

#[test]
fn the_sum_has_one_line_per_migration_in_apply_order_and_a_total() {
    let dir = project(&[
        ("db/V10__c.sql", V3.as_bytes()),
        ("db/V2__b.sql", V2.as_bytes()),
        ("db/V1__a.sql", V1.as_bytes()),
        ("db/R__view.sql", b"CREATE OR REPLACE VIEW v AS SELECT 1;\n"),
    ]);
    let o = sluice(&["hash"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sum = std::fs::read_to_string(dir.path().join("db/sluice.sum")).unwrap();
    let names: Vec<&str> = sum.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(' ').next().unwrap()).collect();
    // Version order (10 after 2), not name order; the repeatable migration is not summed.
    assert_eq!(names, ["V1__a.sql", "V2__b.sql", "V10__c.sql", "total"]);
    for l in sum.lines().filter(|l| !l.starts_with('#')) {
        let hash = l.rsplit(' ').next().unwrap();
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
    // Stable: hashing again writes the same bytes.
    sluice(&["hash"], dir.path());
    assert_eq!(std::fs::read_to_string(dir.path().join("db/sluice.sum")).unwrap(), sum);
    let (code, diags) = check(&dir);
    assert_eq!((code, diags.len()), (Some(0), 0));
}

#[test]
fn new_migrations_after_the_summed_ones_are_the_change_set() {
    let dir = hashed();
    std::fs::write(dir.path().join("db/V4__more.sql"), "CREATE TABLE more (id int);\n").unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(0), "{diags:?}");
    let o = sluice(&["check-integrity", "db"], dir.path());
    assert_eq!(stdout(&o), "Migration directories match their sluice.sum.\n");
}

#[test]
fn an_edited_migration_is_refused_on_its_first_line_naming_the_sum_line() {
    let dir = hashed();
    std::fs::write(dir.path().join("db/V2__email.sql"), "ALTER TABLE users ADD COLUMN email varchar(10);\n").unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(1));
    assert_eq!(
        summary(&diags),
        ["db/V2__email.sql:1: V2__email.sql was edited after it was summed (sluice.sum line 4): a migration that may \
          have been applied must not change; revert the edit and write a new migration"]
    );
    // Only the edited file is reported: later lines are checked against their recorded predecessor.
    assert_eq!(diags[0]["end"]["column"], 48);
}

#[test]
fn a_removed_migration_is_refused_on_its_sum_line() {
    let dir = hashed();
    std::fs::remove_file(dir.path().join("db/V1__users.sql")).unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(1));
    assert_eq!(
        summary(&diags),
        ["db/sluice.sum:3: V1__users.sql was removed, but sluice.sum line 3 records it: a migration that may have been \
          applied must stay; write a new migration to undo it"]
    );
}

#[test]
fn a_reordered_migration_is_refused() {
    // Summed while the directory was read as plain files (name order: 10 before 1_), then the
    // tool is set to golang-migrate, which applies them by number: 10_b moves last.
    let dir = project(&[
        ("db/sluice.toml", b"framework = \"plain\"\n"),
        ("db/1_a.up.sql", V1.as_bytes()),
        ("db/10_b.up.sql", V2.as_bytes()),
        ("db/2_c.up.sql", V3.as_bytes()),
    ]);
    let o = sluice(&["hash", "db"], dir.path());
    assert_eq!(stdout(&o), "wrote db/sluice.sum (3 migrations, plain)\n", "{}", stderr(&o));
    std::fs::write(dir.path().join("db/sluice.toml"), "framework = \"golang-migrate\"\n").unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(1));
    assert_eq!(
        summary(&diags),
        [
            "db/sluice.sum:4: 1_a.up.sql is now applied before 10_b.up.sql, but sluice.sum records it after (lines 3 \
             and 4); restore the original order",
            "db/sluice.sum:5: 2_c.up.sql is now applied before 10_b.up.sql, but sluice.sum records it after (lines 3 \
             and 5); restore the original order",
        ]
    );
}

#[test]
fn a_new_migration_sorting_before_summed_ones_is_refused() {
    let dir = hashed();
    // Another branch shipped V3 while this one wrote V2_5.
    std::fs::write(dir.path().join("db/V2_5__parallel.sql"), "CREATE TABLE parallel (id int);\n").unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(1));
    assert_eq!(
        summary(&diags),
        ["db/V2_5__parallel.sql:1: V2_5__parallel.sql is new but sorts before V3__orders.sql, which is already summed \
          (sluice.sum line 5): migrations were added in parallel; give it a version after the last summed migration, \
          then run `sluice hash`"]
    );
}

#[test]
fn a_hand_edited_sum_is_refused() {
    let dir = hashed();
    let path = dir.path().join("db/sluice.sum");
    let sum = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = sum.lines().filter(|l| !l.starts_with("V2__")).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let (code, diags) = check(&dir);
    assert_eq!(code, Some(1));
    let got = summary(&diags);
    assert!(
        got.iter().any(|m| m.starts_with("db/sluice.sum:5: the total does not match the lines above it")),
        "{got:#?}"
    );
    // V3 no longer follows the line recorded before it.
    assert!(got.iter().any(|m| m.starts_with("db/V3__orders.sql:1: V3__orders.sql was edited")), "{got:#?}");
}

#[test]
fn lint_runs_the_check_and_annotates_the_file() {
    let dir = hashed();
    std::fs::write(dir.path().join("db/V1__users.sql"), "CREATE TABLE users (id int PRIMARY KEY);\n").unwrap();
    let o = sluice(&["lint", "--format", "github", "db"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with(
            "::error file=db/V1__users.sql,line=1,col=1,endLine=1,endColumn=41,title=sluice migration-integrity::\
             V1__users.sql was edited after it was summed (sluice.sum line 3)"
        )),
        "{out}"
    );
    // Linting one file of the directory checks the directory too.
    let o = sluice(&["lint", "db/V3__orders.sql"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("V1__users.sql was edited after it was summed"), "{}", stdout(&o));

    // Without a sum, lint does not check.
    std::fs::remove_file(dir.path().join("db/sluice.sum")).unwrap();
    let o = sluice(&["lint", "--format", "json", "db"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["diagnostics"].as_array().unwrap().iter().all(|d| d["rule"] != "migration-integrity"), "{v}");
    let o = sluice(&["check-integrity", "db"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no sluice.sum found"), "{}", stderr(&o));
}
