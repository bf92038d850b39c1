//! The CI output formats run through validators: GitLab Code Quality fields and types with
//! stable fingerprints, JUnit XML through an XML parser, the Markdown comment's size cap, and the
//! GitHub job summary.

mod common;

use common::{project, sluice, stderr, stdout};
use serde_json::Value;
use std::process::Command;

const RISKY: &str =
    "CREATE INDEX orders_customer_idx ON orders (customer_id);\nALTER TABLE users DROP COLUMN legacy;\n";

fn gitlab(dir: &tempfile::TempDir, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["lint", "--format", "gitlab"];
    all.extend_from_slice(args);
    let o = sluice(&all, dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("Code Quality report is JSON");
    v.as_array().cloned().expect("a JSON array of issues")
}

#[test]
fn gitlab_code_quality_has_the_required_fields_and_stable_fingerprints() {
    let dir = project(&[("db/001.sql", RISKY.as_bytes())]);
    let issues = gitlab(&dir, &["db"]);
    assert!(issues.len() >= 2, "{issues:#?}");
    for i in &issues {
        assert!(i["description"].as_str().is_some_and(|s| !s.is_empty()), "{i}");
        assert!(i["check_name"].as_str().is_some_and(|s| !s.is_empty()), "{i}");
        let fp = i["fingerprint"].as_str().expect("fingerprint is a string");
        assert!(fp.len() == 64 && fp.bytes().all(|b| b.is_ascii_hexdigit()), "{fp}");
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&i["severity"].as_str().expect("severity")));
        assert_eq!(i["location"]["path"], "db/001.sql");
        assert!(i["location"]["lines"]["begin"].as_u64().is_some_and(|n| n >= 1), "{i}");
    }
    let drop = issues.iter().find(|i| i["check_name"] == "drop-column").expect("drop-column issue");
    assert_eq!(drop["location"]["lines"]["begin"], 2);
    let mut fps: Vec<&str> = issues.iter().map(|i| i["fingerprint"].as_str().unwrap_or_default()).collect();
    fps.sort_unstable();
    fps.dedup();
    assert_eq!(fps.len(), issues.len(), "fingerprints are unique");

    // Three lines inserted above: every line moves, no fingerprint does.
    std::fs::write(dir.path().join("db/001.sql"), format!("-- a\n-- b\n-- c\n{RISKY}")).expect("write");
    let shifted = gitlab(&dir, &["db"]);
    let key = |v: &[Value]| {
        let mut k: Vec<(String, String)> = v
            .iter()
            .map(|i| {
                (
                    i["check_name"].as_str().unwrap_or_default().into(),
                    i["fingerprint"].as_str().unwrap_or_default().into(),
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(key(&issues), key(&shifted));
    let drop2 = shifted.iter().find(|i| i["check_name"] == "drop-column").expect("drop-column issue");
    assert_eq!(drop2["location"]["lines"]["begin"], 5);

    // The same statement twice in a file gets two fingerprints.
    std::fs::write(
        dir.path().join("db/001.sql"),
        "ALTER TABLE users DROP COLUMN legacy;\nALTER TABLE users DROP COLUMN legacy;\n",
    )
    .expect("write");
    let twice = gitlab(&dir, &["db"]);
    let drops: Vec<&Value> = twice.iter().filter(|i| i["check_name"] == "drop-column").collect();
    assert_eq!(drops.len(), 2);
    assert_ne!(drops[0]["fingerprint"], drops[1]["fingerprint"]);
}

#[test]
fn junit_is_well_formed_xml_with_a_suite_per_file() {
    let dir = project(&[
        ("a&b<c>.sql", RISKY.as_bytes()),
        ("clean.sql", b"SELECT 1;\n"),
        ("nul.sql", b"SELECT '\0' <> \"x&y\";\n"),
    ]);
    let o = sluice(&["lint", "--format", "junit", "--fail-on", "error", "."], dir.path());
    let text = stdout(&o);
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(names, ["a&b<c>.sql", "clean.sql", "nul.sql"]);

    let cases = |i: usize| suites[i].children().filter(|n| n.has_tag_name("testcase")).collect::<Vec<_>>();
    // The risky file: one test case per finding, failing when at or above --fail-on error.
    let o = sluice(&["lint", "--format", "json", "a&b<c>.sql"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = v["diagnostics"].as_array().expect("diagnostics");
    let risky = cases(0);
    assert!(risky.len() >= 2);
    assert_eq!(risky.len(), findings.len());
    assert_eq!(suites[0].attribute("tests"), Some(risky.len().to_string().as_str()));
    for f in findings {
        let name =
            format!("{} at {}:{}", f["rule"].as_str().unwrap_or_default(), f["start"]["line"], f["start"]["column"]);
        let case = risky.iter().find(|c| c.attribute("name") == Some(name.as_str())).expect("a case per finding");
        assert_eq!(case.attribute("line"), Some(f["start"]["line"].to_string().as_str()));
        assert_eq!(case.attribute("file"), Some("a&b<c>.sql"));
        let failed = case.children().any(|n| n.has_tag_name("failure"));
        assert_eq!(failed, f["severity"] == "error", "{name}");
        assert_eq!(!failed, case.children().any(|n| n.has_tag_name("system-out")), "{name}");
    }
    // The clean file: one passing case.
    let clean = cases(1);
    assert_eq!(clean.len(), 1);
    assert_eq!(clean[0].attribute("name"), Some("no findings"));
    assert_eq!(clean[0].children().filter(|n| n.is_element()).count(), 0);
    // The syntax error fails, and its text survives escaping (NUL replaced, & and " kept).
    let failures: Vec<_> = cases(2)
        .into_iter()
        .flat_map(|c| c.children().filter(|n| n.has_tag_name("failure")).collect::<Vec<_>>())
        .collect();
    assert!(!failures.is_empty(), "{text}");
    assert_eq!(failures[0].attribute("type"), Some("syntax-error"));
    assert!(failures[0].text().is_some_and(|t| t.starts_with("nul.sql:1:")), "{text}");
    let total_failures: usize = suites.iter().filter_map(|s| s.attribute("failures")?.parse::<usize>().ok()).sum();
    assert_eq!(root.attribute("failures"), Some(total_failures.to_string().as_str()));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn markdown_has_a_summary_table_details_and_line_links() {
    let dir = project(&[("db/001.sql", RISKY.as_bytes()), ("db/002.sql", b"SELECT 1;\n")]);
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["lint", "--format", "markdown", "db"])
        .current_dir(dir.path())
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_SHA", "abc123")
        .output()
        .expect("run");
    let md = stdout(&o);
    assert!(md.starts_with("## Sluice migration lint\n"), "{md}");
    assert!(md.contains("| Severity | Rule | Findings |"), "{md}");
    assert!(md.contains(" | `drop-column` | 1 |"), "{md}");
    assert!(md.contains("<details><summary><code>db/001.sql</code>: "), "{md}");
    assert!(md.contains("](https://github.example/acme/shop/blob/abc123/db/001.sql#L2): "), "{md}");
    assert!(!md.contains("db/002.sql</code>"), "clean files get no section: {md}");
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count());
}

#[test]
fn markdown_stays_under_the_comment_limit_with_a_summary_fallback() {
    let huge: String = (0..4000).map(|i| format!("ALTER TABLE t{i} DROP COLUMN c{i};\n")).collect();
    let dir = project(&[("db/001.sql", huge.as_bytes()), ("db/002.sql", RISKY.as_bytes())]);
    let o = sluice(&["lint", "--format", "markdown", "db"], dir.path());
    let md = stdout(&o);
    assert!(md.chars().count() <= 65_000, "{} characters", md.chars().count());
    assert!(md.contains(" | `drop-column` | 4001 |"), "{md}");
    assert!(!md.contains("<details>"), "{md}");
    assert!(md.contains("The per-file details were left out"), "{md}");
    // The same report as JSON counts every finding, so the cap really dropped details.
    let o = sluice(&["lint", "--format", "json", "db"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v["diagnostics"].as_array().is_some_and(|d| d.len() > 4000));
}

#[test]
fn github_format_appends_a_job_summary_when_the_variable_is_set() {
    let dir = project(&[("db/001.sql", RISKY.as_bytes())]);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").expect("write");
    for _ in 0..2 {
        let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["lint", "--format", "github", "db"])
            .current_dir(dir.path())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stdout(&o).starts_with("::"), "annotations still go to standard output");
    }
    let text = std::fs::read_to_string(&summary).expect("read");
    assert!(text.starts_with("# earlier step\n## Sluice migration lint\n"), "{text}");
    assert_eq!(text.matches("## Sluice migration lint").count(), 2, "appended, not replaced");
    assert!(text.contains("`drop-column`"));
    // Not set: nothing is written anywhere.
    let o = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["lint", "--format", "github", "db"])
        .current_dir(dir.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
}
