//! The CI integrations of the repository run as their hosts would run them, as far as that is
//! possible without the hosts: the pre-commit hook installed by the real `pre-commit` tool from a
//! clone of this repository (cargo builds the root package); the composite GitHub Action
//! (`action.yml`) and the GitLab CI template (`ci/sluice.gitlab-ci.yml`) checked against their
//! hosts' documented keys and their shell steps run by `tests/data/ci_host.py` with the runner's
//! environment variables simulated, against the binary under test.

mod common;

use common::{git, project, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target directory the tests were built in (`target/`).
fn target_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_sluice"));
    bin.parent().and_then(Path::parent).map(Path::to_path_buf).expect("target dir")
}

/// `pre-commit` from PyPI in a virtual environment under the target directory, or `None` (after
/// printing why) when it cannot be installed.
fn pre_commit() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let exe = venv.join("bin/pre-commit");
    if exe.exists() {
        return Some(exe);
    }
    let mut venv_cmd = Command::new("python3");
    venv_cmd.args(["-m", "venv"]).arg(&venv);
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check", "pre-commit"]);
    for mut cmd in [venv_cmd, pip] {
        match cmd.output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                println!("skipped: {cmd:?} failed: {}{}", stdout(&o), stderr(&o));
                return None;
            }
            Err(e) => {
                println!("skipped: {cmd:?}: {e}");
                return None;
            }
        }
    }
    Some(exe)
}

/// A git repository holding the working tree's files (tracked and untracked, ignored ones left
/// out) in one commit: what pre-commit clones. Returns the directory and the commit.
fn snapshot_of_this_repository() -> (tempfile::TempDir, String) {
    let root = repo_root();
    let o = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(o.status.success(), "{}", stderr(&o));
    let snap = tempfile::tempdir().expect("tempdir");
    for name in o.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("utf-8 path");
        let from = root.join(name);
        // Deleted in the working tree but still in the index.
        if !from.is_file() {
            continue;
        }
        let to = snap.path().join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    git(snap.path(), &["init", "--quiet"]);
    git(snap.path(), &["add", "."]);
    git(snap.path(), &["commit", "--quiet", "-m", "snapshot"]);
    let o = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(snap.path()).output().expect("rev-parse");
    (snap, stdout(&o).trim().to_string())
}

/// `.pre-commit-hooks.yaml` as a user gets it: a `.pre-commit-config.yaml` whose `repo:` is a
/// clone of this repository at a commit; `pre-commit run` installs the `language: rust` hook with
/// `cargo install --bins --path .` at the clone's root (a release build of the root package,
/// several minutes from scratch; the target directory of this build is reused for the
/// dependencies), then the hook reports the unsafe migration.
///
/// Ignored by default (the release build); run it with
/// `cargo test -p sluice --test ci_gates -- --ignored pre_commit`.
#[test]
#[ignore = "builds the CLI in release mode through pre-commit and cargo install (minutes)"]
fn pre_commit_installs_the_rust_hook_from_a_clone_and_reports_a_finding() {
    let Some(pre_commit) = pre_commit() else { return };
    let (snap, rev) = snapshot_of_this_repository();
    let dir = project(&[
        ("db/V1__users.sql", b"CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\n"),
        ("db/V2__index.sql", b"CREATE INDEX users_email_idx ON users (email);\n"),
    ]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: sluice\n        args: [--fail-on, warning]\n",
        snap.path().display()
    );
    std::fs::write(dir.path().join(".pre-commit-config.yaml"), config).expect("write config");
    git(dir.path(), &["init", "--quiet"]);
    git(dir.path(), &["add", "."]);
    let home = dir.path().join(".pre-commit-home");
    let started = std::time::Instant::now();
    let o = Command::new(&pre_commit)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(dir.path())
        .env("PRE_COMMIT_HOME", &home)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run pre-commit");
    let out = stdout(&o);
    println!("pre-commit run (install and hook) took {:.0?}", started.elapsed());
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Failed"), "{out}");
    assert!(out.contains("create-index-non-concurrently") && out.contains("db/V2__index.sql"), "{out}");
    // The hook ran the binary cargo installed into pre-commit's environment for the clone.
    let installed = walk(&home).into_iter().find(|p| p.ends_with("bin/sluice-pre-commit"));
    assert!(installed.is_some(), "no bin/sluice-pre-commit under {}", home.display());
    let log = std::fs::read_to_string(home.join("pre-commit.log")).unwrap_or_default();
    assert!(!log.contains("error"), "{log}");

    // Once installed, a clean change passes without building again.
    std::fs::write(
        dir.path().join("db/V2__index.sql"),
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n",
    )
    .expect("write");
    git(dir.path(), &["add", "."]);
    let o = Command::new(&pre_commit)
        .args(["run", "--all-files", "--color", "never"])
        .current_dir(dir.path())
        .env("PRE_COMMIT_HOME", &home)
        .output()
        .expect("run pre-commit");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("sluice (migration safety lint)") && out.contains("Passed"), "{out}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Runs `tests/data/ci_host.py KIND FILE WORKDIR BIN_DIR` with `env`, or `None` (after printing
/// why) when Python with PyYAML is not available.
fn ci_host(kind: &str, file: &Path, workdir: &Path, env: &[(&str, String)]) -> Option<Value> {
    let probe = Command::new("python3").args(["-c", "import yaml"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        println!("skipped: python3 with PyYAML is not available");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ci_host.py");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sluice")).parent().expect("bin dir").to_path_buf();
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(kind).arg(file).arg(workdir).arg(bin_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run python3");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    Some(serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o))))
}

fn step<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["ran"].as_array().expect("ran").iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{name}: {v:#}"))
}

const USERS: &[u8] = b"CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\n";
const INDEX: &[u8] = b"CREATE INDEX users_email_idx ON users (email);\n";

/// The composite action's steps, in order, with `if:` conditions and `${{ }}` expressions
/// evaluated, each `run` under `bash -eo pipefail` with GITHUB_WORKSPACE, GITHUB_OUTPUT,
/// GITHUB_STEP_SUMMARY and RUNNER_TEMP set; the cache misses, so the install step runs (stub
/// cargo). Steps that call other actions are recorded, not run.
#[test]
fn github_action_steps_annotate_write_sarif_and_fail_the_job() {
    let action = repo_root().join("action.yml");
    let dir = project(&[("db/V1__users.sql", USERS), ("db/V2__index.sql", INDEX)]);
    let inputs = r#"{"paths": "db"}"#.to_string();
    let Some(v) = ci_host("github", &action, dir.path(), &[("ACTION_INPUTS", inputs)]) else { return };
    assert_eq!(v["errors"], serde_json::json!([]), "action.yml against the metadata syntax");
    let names: Vec<&str> = v["ran"].as_array().expect("ran").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["Install sluice", "Lint migrations", "Fail on findings"]);
    // The install command line: locked, into the runner's temp directory, at the action's ref.
    let commands = v["commands"].as_str().expect("commands");
    let runner_temp = v["uses"][0]["with"]["path"].as_str().expect("cache path").trim_end_matches("/sluice");
    assert!(
        commands.contains(&format!(
            "cargo install --locked --root {runner_temp}/sluice --git https://github.com/OWNER/sluice --rev v1 sluice"
        )),
        "{commands}"
    );
    assert_eq!(v["uses"][0]["uses"], "actions/cache@v4");
    assert_eq!(v["uses"][0]["with"]["key"], "sluice-Linux-OWNER/sluice-v1");
    // Annotations on the exact line, then the SARIF report for the upload step.
    let lint = step(&v, "Lint migrations");
    assert_eq!(lint["exit"], 0, "{lint:#}");
    let out = lint["stdout"].as_str().expect("stdout");
    assert!(
        out.lines().any(|l| l.starts_with("::warning file=db/V2__index.sql,line=1,")
            && l.contains("title=sluice create-index-non-concurrently::")),
        "{out}"
    );
    assert_eq!(lint["outputs"]["exit-code"], "1");
    assert_eq!(v["outputs"]["exit-code"], "1", "the action's output");
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sluice.sarif")).expect("sluice.sarif written"))
            .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().any(|r| r["ruleId"] == "create-index-non-concurrently"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "db/V2__index.sql"),
        "{results:#?}"
    );
    let upload = &v["uses"][1];
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert_eq!(upload["with"]["sarif_file"], "sluice.sarif");
    assert!(dir.path().join(upload["with"]["sarif_file"].as_str().expect("path")).is_file());
    // The job summary, and the failing last step.
    assert!(v["summary"].as_str().is_some_and(|s| s.starts_with("## Sluice migration lint")), "{v:#}");
    assert_eq!(step(&v, "Fail on findings")["exit"], 1);
    assert_eq!(v["job_failed"], true);

    // Warnings below --fail-on error: the job passes, no upload when it is turned off, and a
    // pinned version is installed at that revision.
    let inputs = r#"{"paths": "db", "args": "--fail-on error", "upload-sarif": "false", "version": "0123abc"}"#;
    let Some(v) = ci_host("github", &action, dir.path(), &[("ACTION_INPUTS", inputs.to_string())]) else { return };
    assert_eq!(v["outputs"]["exit-code"], "0", "{v:#}");
    assert_eq!(v["job_failed"], false);
    assert_eq!(v["skipped"], serde_json::json!(["Upload SARIF", "Fail on findings"]));
    assert!(v["commands"].as_str().is_some_and(|c| c.contains("--rev 0123abc sluice")), "{v:#}");
}

/// The metadata check itself refuses what GitHub refuses: a `run` step without `shell` and an
/// unquoted description holding `: ` (not YAML).
#[test]
fn github_action_check_refuses_a_broken_action() {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml");
    let dir = project(&[("db/V1__users.sql", USERS)]);
    let no_shell = dir.path().join("no-shell.yml");
    std::fs::write(&no_shell, text.replacen("      shell: bash\n", "", 1)).expect("write");
    let Some(v) = ci_host("github", &no_shell, dir.path(), &[("ACTION_INPUTS", "{}".into())]) else { return };
    assert!(
        v["errors"].as_array().is_some_and(|e| e.iter().any(|e| e.as_str().is_some_and(|e| e.contains("needs shell")))),
        "{v:#}"
    );
    let not_yaml = dir.path().join("not-yaml.yml");
    std::fs::write(&not_yaml, text.replacen("description: Where", "description: Where: the", 1)).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ci_host.py");
    let o = Command::new("python3").arg(script).arg("github").arg(&not_yaml).arg(dir.path()).arg("/bin").output();
    assert!(o.is_ok_and(|o| !o.status.success()), "an unquoted `: ` in a plain scalar is a YAML error");
}

/// The template's `sluice-lint` job (with `extends: .sluice` merged) checked against the
/// `.gitlab-ci.yml` keywords and run like the shell executor runs it: before_script and script
/// in one bash session under `set -eo pipefail`, the merge request's CI_* variables set, the
/// include's variables overriding the template's defaults, in a git repository whose merge
/// request adds a migration.
#[test]
fn gitlab_template_job_writes_code_quality_and_junit_for_the_merge_request() {
    let template = repo_root().join("ci/sluice.gitlab-ci.yml");
    let dir = project(&[("db/migrations/V1__users.sql", USERS)]);
    git(dir.path(), &["init", "--quiet"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "--quiet", "-m", "base"]);
    let base = stdout(&Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir.path()).output().expect("git"))
        .trim()
        .to_string();
    std::fs::write(dir.path().join("db/migrations/V2__index.sql"), INDEX).expect("write");
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "--quiet", "-m", "merge request"]);
    let vars = r#"{"SLUICE_REPO": "https://gitlab.example.com/tools/sluice.git", "SLUICE_VERSION": "v1",
                   "SLUICE_PATHS": "db/migrations"}"#;
    let env = |source: &str, vars: &str| {
        vec![
            ("CI_PIPELINE_SOURCE", source.to_string()),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.clone()),
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".to_string()),
            ("GITLAB_VARIABLES", vars.to_string()),
        ]
    };
    let Some(v) = ci_host("gitlab", &template, dir.path(), &env("merge_request_event", vars)) else { return };
    assert_eq!(v["errors"], serde_json::json!([]), "the template against the .gitlab-ci.yml keywords");
    assert_eq!(v["ran"], true);
    assert_eq!(v["image"], "rust:1-bookworm");
    assert_eq!(v["exit"], 1, "findings fail the job: {v:#}");
    let commands = v["commands"].as_str().expect("commands");
    assert!(
        commands.contains(
            "cargo install --locked --root .sluice-bin --git https://gitlab.example.com/tools/sluice.git --rev v1 sluice"
        ),
        "{commands}"
    );
    assert_eq!(v["artifacts"]["reports"]["codequality"], "gl-code-quality-report.json");
    assert_eq!(v["artifacts"]["when"], "always");
    // Code Quality: only the migration the merge request adds, on its line.
    let report: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("gl-code-quality-report.json")).expect("Code Quality report written"),
    )
    .expect("JSON");
    let issues = report.as_array().expect("array");
    assert!(!issues.is_empty());
    for i in issues {
        assert_eq!(i["location"]["path"], "db/migrations/V2__index.sql", "{i}");
        assert!(i["fingerprint"].as_str().is_some_and(|f| f.len() == 64), "{i}");
    }
    assert!(issues
        .iter()
        .any(|i| i["check_name"] == "create-index-non-concurrently" && i["location"]["lines"]["begin"] == 1));
    let junit = std::fs::read_to_string(dir.path().join(v["artifacts"]["reports"]["junit"].as_str().expect("junit")))
        .expect("JUnit report written");
    let doc = roxmltree::Document::parse(&junit).expect("JUnit is XML");
    assert!(
        doc.descendants().any(|n| n.has_tag_name("testcase")
            && n.attribute("name").is_some_and(|a| a.contains("create-index-non-concurrently"))),
        "{junit}"
    );
    // The human report is in the job log.
    assert!(v["stdout"].as_str().is_some_and(|s| s.contains("db/migrations/V2__index.sql:1:1")), "{v:#}");

    // Not a merge request: the job does not run.
    let Some(v) = ci_host("gitlab", &template, dir.path(), &env("push", vars)) else { return };
    assert_eq!(v["ran"], false);
    // SLUICE_REPO left empty: the job stops with a message (the binary is cached from before,
    // so remove it first).
    std::fs::remove_dir_all(dir.path().join(".sluice-bin")).expect("rm");
    let Some(v) = ci_host("gitlab", &template, dir.path(), &env("merge_request_event", "{}")) else { return };
    assert_eq!(v["exit"], 2, "{v:#}");
    assert!(v["stdout"].as_str().is_some_and(|s| s.contains("set SLUICE_REPO")), "{v:#}");
}
