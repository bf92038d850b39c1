//! End-to-end tests of the `sluice` binary: exit codes, every output format, configuration
//! discovery and errors, standard input, fixes, and hostile input files.

mod common;

use common::{project, sluice, sluice_stdin, stderr, stdout};
use serde_json::Value;

const RISKY: &str = "CREATE INDEX orders_customer_idx ON orders (customer_id);\n";
const CLEAN: &str = "SELECT 1;\n";

#[test]
fn exit_codes_follow_fail_on() {
    let dir = project(&[("clean.sql", CLEAN.as_bytes()), ("risky.sql", RISKY.as_bytes())]);
    let o = sluice(&["lint", "clean.sql"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("No problems found in 1 file."));

    let o = sluice(&["lint", "risky.sql"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("create-index-non-concurrently"));

    let o = sluice(&["lint", "--fail-on", "error", "risky.sql"], dir.path());
    assert_eq!(o.status.code(), Some(0));

    let o = sluice(&["lint", "missing.sql"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.sql"), "{}", stderr(&o));

    let o = sluice(&["lint", "--format", "nonsense", "risky.sql"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn config_is_discovered_and_errors_name_file_line_and_key() {
    let dir = project(&[
        ("db/sluice.toml", b"fail_on = \"error\"\n"),
        ("db/migrations/001.sql", RISKY.as_bytes()),
        ("bad/sluice.toml", b"dialect = \"postgres\"\n\n[rules]\ndrop-colum = \"off\"\n"),
        ("bad/001.sql", CLEAN.as_bytes()),
        ("typo/sluice.toml", b"pg_version = \"15\"\nfail_onn = \"error\"\n"),
        ("typo/001.sql", CLEAN.as_bytes()),
    ]);
    // fail_on = error in the discovered config: a warning does not fail.
    let o = sluice(&["lint", "db"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("create-index-non-concurrently"));

    let o = sluice(&["lint", "bad"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("sluice.toml:4:1"), "{err}");
    assert!(err.contains("rules.drop-colum"), "{err}");
    assert!(err.contains("did you mean `drop-column`"), "{err}");

    let o = sluice(&["lint", "typo"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("sluice.toml:2:1"), "{err}");
    assert!(err.contains("fail_onn"), "{err}");
}

#[test]
fn directories_are_walked_for_sql_files_respecting_gitignore() {
    let dir = project(&[
        ("migrations/001.sql", RISKY.as_bytes()),
        ("migrations/002.sql", CLEAN.as_bytes()),
        ("migrations/notes.txt", b"DROP TABLE users;"),
        ("migrations/generated/003.sql", RISKY.as_bytes()),
        (".gitignore", b"migrations/generated/\n"),
    ]);
    let o = sluice(&["lint", "--format", "json", "."], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["files_checked"], 2, "{v}");
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = project(&[("risky.sql", format!("-- é comment\n{RISKY}").as_bytes())]);
    let o = sluice(&["lint", "--format", "json", "risky.sql"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["version"], 1);
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(
        v["summary"]["warning"].as_u64(),
        Some(diags.iter().filter(|d| d["severity"] == "warning").count() as u64)
    );
    let d = diags.iter().find(|d| d["rule"] == "create-index-non-concurrently").expect("finding");
    assert_eq!(d["path"], "risky.sql");
    assert_eq!(d["rule"], "create-index-non-concurrently");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["category"], "locking");
    assert_eq!(d["start"]["line"], 2);
    assert_eq!(d["start"]["column"], 1);
    assert_eq!(d["end"]["column"], 13);
    assert_eq!(d["fix"]["applicability"], "safe");
    assert_eq!(d["fix"]["edits"][0]["replacement"], " CONCURRENTLY");
}

#[test]
fn github_annotations_are_workflow_commands() {
    let dir = project(&[("risky.sql", RISKY.as_bytes())]);
    let o = sluice(&["lint", "--format", "github", "risky.sql"], dir.path());
    let out = stdout(&o);
    let line = out.lines().find(|l| l.contains("create-index-non-concurrently")).expect("annotation");
    assert!(
        line.starts_with(
            "::warning file=risky.sql,line=1,col=1,endLine=1,endColumn=13,title=sluice create-index-non-concurrently::"
        ),
        "{line}"
    );
    assert!(line.contains("%0Ahelp: "), "multi-line messages are escaped: {line}");
}

#[test]
fn sarif_output_validates_against_the_2_1_0_schema() {
    let dir = project(&[("a.sql", RISKY.as_bytes()), ("b.sql", b"ALTER TABLE users DROP COLUMN x;\nSELEC 1;\n")]);
    let o = sluice(&["lint", "--format", "sarif", "a.sql", "b.sql"], dir.path());
    let doc: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let schema: Value = serde_json::from_str(include_str!("data/sarif-2.1.0.schema.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 3, "{results:#?}");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in results {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
    assert!(rules.iter().any(|r| r["help"]["markdown"].as_str().is_some_and(|m| m.contains("## Why it is bad"))));
}

#[test]
fn stdin_uses_the_given_file_name_for_config_and_reports() {
    let dir = project(&[("mysql/sluice.toml", b"dialect = \"mysql\"\n")]);
    let o = sluice_stdin(
        &["lint", "--stdin-filename", "mysql/001.sql", "--format", "json", "-"],
        dir.path(),
        b"ALTER TABLE `users` DROP COLUMN `legacy`;\n",
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    let d = diags.iter().find(|d| d["rule"] == "drop-column").expect("drop-column reported (MySQL config applied)");
    assert_eq!(d["path"], "mysql/001.sql", "{v}");
    assert!(diags.iter().all(|d| d["path"] == "mysql/001.sql"));
}

#[test]
fn fix_rewrites_the_file_and_the_finding_goes_away() {
    let dir = project(&[("risky.sql", format!("\u{feff}{}", RISKY.replace('\n', "\r\n")).as_bytes())]);
    let o = sluice(&["lint", "--fix", "risky.sql"], dir.path());
    assert!(stdout(&o).contains("Applied "), "{}", stdout(&o));
    let fixed = std::fs::read(dir.path().join("risky.sql")).expect("read");
    assert!(fixed.starts_with(b"\xEF\xBB\xBF"), "BOM kept");
    let fixed = String::from_utf8(fixed).expect("utf8");
    assert!(fixed.contains("CREATE INDEX CONCURRENTLY") && fixed.contains("orders_customer_idx"), "{fixed}");
    assert!(!fixed.replace("\r\n", "").contains('\n'), "CRLF kept for every line: {fixed:?}");
    let o = sluice(&["lint", "risky.sql"], dir.path());
    assert!(!stdout(&o).contains("create-index-non-concurrently"), "{}", stdout(&o));
}

#[test]
fn hostile_files_get_diagnostics_not_crashes() {
    let dir = project(&[
        ("latin1.sql", b"INSERT INTO cities VALUES ('Z\xfcrich');\n"),
        ("nul.sql", b"SELECT '\0';\nDROP TABLE users;\n"),
        ("empty.sql", b""),
        ("bom_crlf.sql", b"\xEF\xBB\xBF-- c\r\nALTER TABLE users DROP COLUMN x;\r\n"),
        ("meta.sql", b"\\set ON_ERROR_STOP on\nSELECT 1;\n"),
        ("deep.sql", format!("SELECT {}1{};", "(".repeat(5000), ")".repeat(5000)).as_bytes()),
    ]);
    let o = sluice(&["lint", "--format", "json", "."], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let diags = v["diagnostics"].as_array().expect("array");
    let has = |path: &str, rule: &str| diags.iter().any(|d| d["path"] == path && d["rule"] == rule);
    assert!(has("latin1.sql", "invalid-utf8"), "{v}");
    assert!(has("nul.sql", "syntax-error"), "{v}");
    assert!(
        has("nul.sql", "drop-table")
            || has("nul.sql", "drop-column")
            || diags.iter().filter(|d| d["path"] == "nul.sql").count() >= 1
    );
    assert!(has("bom_crlf.sql", "drop-column"), "{v}");
    assert!(has("meta.sql", "psql-meta-command"), "{v}");
    let bom = diags.iter().find(|d| d["path"] == "bom_crlf.sql" && d["rule"] == "drop-column").expect("finding");
    assert_eq!(bom["start"]["line"], 2);
    assert_eq!(v["files_checked"], 6);
}

#[test]
fn rules_and_explain() {
    let dir = project(&[]);
    let o = sluice(&["rules"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("RULE"));
    assert!(
        out.lines().any(|l| l.starts_with("create-index-non-concurrently ")
            && l.contains(" postgres ")
            && l.ends_with("safe")),
        "{out}"
    );

    let o = sluice(&["rules", "--format", "json"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v.as_array().is_some_and(|a| a.len() >= 30), "{v}");

    let o = sluice(&["explain", "drop-column"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for s in ["# drop-column", "## What it does", "## Why it is bad", "## Example", "## Use instead"] {
        assert!(out.contains(s), "{out}");
    }
    let o = sluice(&["explain", "drop-colum"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `drop-column`"));
}
