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

/// Runs `cmd`, returning its output, or `None` (after printing why) when it cannot run.
fn try_run(cmd: &mut Command, what: &str) -> Option<std::process::Output> {
    match cmd.output() {
        Ok(o) if o.status.success() => Some(o),
        Ok(o) => {
            println!("skipped: {what} failed: {}{}", stdout(&o), stderr(&o));
            None
        }
        Err(e) => {
            println!("skipped: {what}: {e}");
            None
        }
    }
}

/// The hook definition of `.pre-commit-hooks.yaml` run by the real `pre-commit` (from PyPI, in a
/// virtual environment under the target directory) on a sample repository. The hook is declared
/// `language: rust`, which would build Sluice with cargo (cli/tests/ci_gates.rs runs that build);
/// here it is turned into a `repo: local` hook of `language: system` whose entry is the binary
/// under test (`sluice lint`), everything else unchanged.
#[test]
fn pre_commit_hook_runs_on_a_sample_repository() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.pre-commit-hooks.yaml");
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let pre_commit = venv.join("bin/pre-commit");
    let python = venv.join("bin/python");
    if !pre_commit.exists() {
        if try_run(Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv").is_none() {
            return;
        }
        if try_run(
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pre-commit",
            ]),
            "pip install pre-commit (registry unreachable?)",
        )
        .is_none()
        {
            return;
        }
    }
    // The real tool validates the manifest itself.
    let o = Command::new(&pre_commit).arg("validate-manifest").arg(&manifest).output().expect("run pre-commit");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));

    let dir = project(&[
        ("db/V1__users.sql", b"CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY);\n"),
        ("db/V2__index.sql", b"CREATE INDEX users_id_idx ON users (id);\n"),
        ("notes.txt", b"DROP TABLE users;\n"),
    ]);
    let config = dir.path().join(".pre-commit-config.yaml");
    let script = "import sys, yaml\n\
        hooks = yaml.safe_load(open(sys.argv[1]))\n\
        hook = dict(next(h for h in hooks if h['id'] == 'sluice'))\n\
        assert hook['language'] == 'rust' and hook['entry'] == 'sluice-pre-commit lint' and hook['files'] == r'\\.sql$', hook\n\
        hook['language'] = 'system'\n\
        hook['entry'] = 'sluice lint'\n\
        yaml.safe_dump({'repos': [{'repo': 'local', 'hooks': [hook]}]}, open(sys.argv[2], 'w'))\n";
    let o = Command::new(&python).args(["-c", script]).arg(&manifest).arg(&config).output().expect("run python");
    assert!(o.status.success(), "{}", stderr(&o));
    let git = |args: &[&str]| {
        let o = Command::new("git").args(args).current_dir(dir.path()).output().expect("run git");
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    };
    git(&["init", "--quiet"]);
    git(&["add", "."]);

    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_sluice")).parent().expect("bin dir").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    let run = || {
        Command::new(&pre_commit)
            .args(["run", "--all-files", "--color", "never"])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", dir.path().join(".pre-commit-home"))
            .output()
            .expect("run pre-commit")
    };
    let o = run();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Failed"), "{out}");
    assert!(out.contains("create-index-non-concurrently"), "{out}");
    assert!(out.contains("db/V2__index.sql"), "{out}");

    std::fs::write(dir.path().join("db/V2__index.sql"), "SELECT 1;\n").expect("write");
    git(&["add", "."]);
    let o = run();
    let out = stdout(&o);
    // notes.txt holds a DROP TABLE, but only `.sql` files reach the hook.
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Passed"), "{out}");
}
