//! Pathological inputs through the `sluice` binary: huge files, huge statement counts, deep
//! nesting, huge identifiers, NUL bytes, invalid UTF-8, symlink loops and unreadable files. Each
//! must end in a diagnostic or an error that names the file, the other files must still be
//! linted, and the exit code must be 1 (findings) or 2 (IO error), never a crash. The big inputs
//! are generated here, never committed.

mod common;

use common::{project, sluice, stderr, stdout};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;

/// Runs `sluice lint --format json ARGS` in `dir`; checks it did not crash and returns the output
/// with the parsed report.
fn lint_json(dir: &Path, args: &[&str]) -> (Output, Value) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let o = sluice(&all, dir);
    let code = o.status.code();
    assert!(matches!(code, Some(0..=2)), "exit {code:?} (crash?)\nstderr: {}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); exit {code:?}\nstderr: {}", stderr(&o)));
    (o, v)
}

/// (rule, line) of every finding reported on `path`.
fn findings(v: &Value, path: &str) -> Vec<(String, u64)> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["path"] == path)
        .map(|d| (d["rule"].as_str().unwrap_or("").to_string(), d["start"]["line"].as_u64().unwrap_or(0)))
        .collect()
}

fn has(v: &Value, path: &str, rule: &str, line: u64) -> bool {
    findings(v, path).iter().any(|(r, l)| r == rule && *l == line)
}

#[test]
fn fifty_megabyte_file_is_linted_to_its_last_line() {
    // A seed-data dump: ~540,000 INSERT statements, then a DROP on the last line.
    const ROW: &str = "INSERT INTO audit_log (id, actor, payload) VALUES (1, 'system', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');\n";
    let rows = 50 * 1024 * 1024 / ROW.len() + 1;
    let mut big = ROW.repeat(rows);
    big.push_str("DROP TABLE audit_log;\n");
    assert!(big.len() >= 50 * 1024 * 1024);
    let dir = project(&[("db/001_seed.sql", big.as_bytes()), ("db/002_next.sql", b"DROP TABLE users;\n")]);
    let (o, v) = lint_json(dir.path(), &["db"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(has(&v, "db/001_seed.sql", "drop-table", rows as u64 + 1), "{:?}", findings(&v, "db/001_seed.sql"));
    assert!(has(&v, "db/002_next.sql", "drop-table", 1), "{:?}", findings(&v, "db/002_next.sql"));
    assert_eq!(v["files_checked"], 2);
}

#[test]
fn hundred_thousand_statements_with_one_broken_in_the_middle() {
    for dialect in ["postgres", "mysql"] {
        let mut sql = String::with_capacity(3 << 20);
        for i in 1..=100_000 {
            if i == 50_000 {
                sql.push_str("INSERT INTO t VALUES (;\n");
            } else {
                let _ = writeln!(sql, "INSERT INTO t VALUES ({i});");
            }
        }
        sql.push_str("DROP TABLE t;\n");
        let dir = project(&[("many.sql", sql.as_bytes())]);
        let (o, v) = lint_json(dir.path(), &["--dialect", dialect, "many.sql"]);
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        let found = findings(&v, "many.sql");
        let broken: Vec<_> = found.iter().filter(|(r, _)| r == "syntax-error" || r == "unparsed-statement").collect();
        assert_eq!(broken.len(), 1, "{dialect}: {broken:?}");
        assert_eq!(broken[0].1, 50_000, "{dialect}: {broken:?}");
        assert!(has(&v, "many.sql", "drop-table", 100_001), "{dialect}: {found:?}");
    }
}

#[test]
fn one_table_altered_forty_thousand_times() {
    // Every statement keeps the schema before it; with the table's columns copied on each
    // change, this file took minutes.
    const N: usize = 20_000;
    let mut sql = String::from("CREATE TABLE t (id bigint PRIMARY KEY);\n");
    for i in 0..N {
        let _ = writeln!(sql, "ALTER TABLE t ADD COLUMN c{i} int;");
    }
    // And as many constraints (10,000 of them took 8.5 GB when each change copied them all).
    for i in 0..N {
        let _ = writeln!(sql, "ALTER TABLE t ADD CONSTRAINT ck{i} CHECK (c{i} > 0) NOT VALID;");
    }
    let dir = project(&[("wide.sql", sql.as_bytes())]);
    let (o, v) = lint_json(dir.path(), &["wide.sql"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found = findings(&v, "wide.sql");
    let unguarded = found.iter().filter(|(r, _)| r == "create-without-if-not-exists").count();
    assert_eq!(unguarded, N + 1, "{:?}", &found[..found.len().min(5)]);
    assert!(has(&v, "wide.sql", "create-without-if-not-exists", N as u64 + 1));
}

/// Statements nested far beyond what any parser or tree walk can recurse through.
fn deep_statements() -> Vec<(&'static str, String)> {
    const N: usize = 100_000;
    vec![
        ("parens", format!("SELECT {}1{};", "(".repeat(N), ")".repeat(N))),
        ("plus-chain", format!("SELECT 1{};", "+1".repeat(N))),
        ("or-chain", format!("SELECT * FROM t WHERE {}a = 0;", "a = 1 OR ".repeat(N))),
        ("not-chain", format!("SELECT {}true;", "NOT ".repeat(N))),
        ("concat-chain", format!("SELECT 'a'{};", " || 'a'".repeat(N))),
        ("check-chain", format!("ALTER TABLE t ADD CONSTRAINT c CHECK ({}a > 0);", "a > 0 AND ".repeat(N))),
        ("default-parens", format!("ALTER TABLE t ADD COLUMN c int DEFAULT {}1{};", "(".repeat(N), ")".repeat(N))),
        ("default-chain", format!("ALTER TABLE t ADD COLUMN c int DEFAULT 1{};", "+1".repeat(N))),
        ("subqueries", format!("SELECT {}1{};", "(SELECT ".repeat(N / 10), ")".repeat(N / 10))),
        ("arrays", format!("SELECT ARRAY{}1{};", "[".repeat(N), "]".repeat(N))),
        ("case", format!("SELECT {}1{};", "CASE WHEN a THEN ".repeat(N / 10), " END".repeat(N / 10))),
        ("unions", format!("SELECT 1{};", " UNION SELECT 1".repeat(N / 10))),
    ]
}

#[test]
fn deeply_nested_statements_are_reported_and_the_file_goes_on() {
    let files: Vec<(String, Vec<u8>)> = deep_statements()
        .into_iter()
        .map(|(name, stmt)| {
            (format!("{name}/001.sql"), format!("{stmt}\nDROP TABLE after_{};\n", name.replace('-', "_")).into_bytes())
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let dir = project(&refs);
    for dialect in ["postgres", "mysql"] {
        let (o, v) = lint_json(dir.path(), &["--dialect", dialect, "."]);
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        for (path, _) in &files {
            let found = findings(&v, path);
            assert!(has(&v, path, "drop-table", 2), "{dialect} {path}: the statement after was not linted: {found:?}");
        }
        // Nesting no parser accepts is reported where it is, not dropped silently. PostgreSQL's
        // grammar accepts a long `+` chain; its tree is too deep to read where lowering reads it
        // (a column default), while a SELECT's expressions are never read, so that SELECT is linted.
        let plus_chain = if dialect == "postgres" { "default-chain" } else { "plus-chain" };
        for name in ["parens", plus_chain, "not-chain", "default-parens", "arrays"] {
            let path = format!("{name}/001.sql");
            let found = findings(&v, &path);
            assert!(
                found.iter().any(|(r, l)| (r == "syntax-error" || r == "unparsed-statement") && *l == 1),
                "{dialect} {path}: {found:?}"
            );
        }
    }
}

#[test]
fn ten_thousand_character_identifiers() {
    let long = "a".repeat(10_000);
    let pg = format!("CREATE TABLE {long} (id int);\nALTER TABLE \"{long}\" ADD COLUMN {long}_x int;\nDROP TABLE t;\n");
    let my = format!("CREATE TABLE {long} (id int);\nALTER TABLE `{long}` ADD COLUMN {long}_x int;\nDROP TABLE t;\n");
    let dir = project(&[("pg/001.sql", pg.as_bytes()), ("my/001.sql", my.as_bytes())]);
    for (dialect, path) in [("postgres", "pg/001.sql"), ("mysql", "my/001.sql")] {
        let (o, v) = lint_json(dir.path(), &["--dialect", dialect, path]);
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        assert!(has(&v, path, "identifier-too-long", 1), "{dialect}: {:?}", findings(&v, path));
        assert!(has(&v, path, "drop-table", 3), "{dialect}: {:?}", findings(&v, path));
        // The human renderer copes with a 10,000-column source line.
        let o = sluice(&["lint", "--dialect", dialect, "--color", "never", path], dir.path());
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        assert!(stdout(&o).contains("identifier-too-long"), "{dialect}");
    }
}

#[test]
fn nul_bytes_are_syntax_errors_at_their_statement() {
    let files: [(&str, &[u8]); 4] = [
        ("in_string.sql", b"SELECT 'a\0b';\nDROP TABLE t;\n"),
        ("in_name.sql", b"CREATE TABLE t\0x (id int);\nDROP TABLE t;\n"),
        ("leading.sql", b"\0\0\0;\nDROP TABLE t;\n"),
        ("in_comment.sql", b"-- a \0 comment\nSELECT 1;\nDROP TABLE t;\n"),
    ];
    let drop_line = [2, 2, 2, 3];
    for dialect in ["postgres", "mysql"] {
        let dir = project(&files);
        let paths: Vec<&str> = files.iter().map(|f| f.0).collect();
        let mut args = vec!["--dialect", dialect];
        args.extend(&paths);
        let (o, v) = lint_json(dir.path(), &args);
        assert_eq!(o.status.code(), Some(1), "{dialect}: {}", stderr(&o));
        for (path, line) in paths.iter().zip(drop_line) {
            assert!(has(&v, path, "drop-table", line), "{dialect} {path}: {:?}", findings(&v, path));
        }
        // MySQL takes a NUL inside a string literal as data.
        let broken: &[&str] = if dialect == "mysql" {
            &["in_name.sql", "leading.sql"]
        } else {
            &["in_string.sql", "in_name.sql", "leading.sql"]
        };
        for path in broken {
            let found = findings(&v, path);
            assert!(
                found.iter().any(|(r, l)| (r == "syntax-error" || r == "unparsed-statement") && *l == 1),
                "{dialect} {path}: {found:?}"
            );
        }
    }
}

#[test]
fn invalid_utf8_names_the_byte_and_other_files_are_linted() {
    let utf16: Vec<u8> = "\u{feff}DROP TABLE t;\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let dir = project(&[
        ("db/001_latin1.sql", b"SELECT 1;\nINSERT INTO cities VALUES ('Z\xfcrich');\n"),
        ("db/002_truncated.sql", b"SELECT '\xe2\x82';"),
        ("db/003_utf16.sql", &utf16),
        ("db/004_ok.sql", b"DROP TABLE users;\n"),
    ]);
    let (o, v) = lint_json(dir.path(), &["db"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(has(&v, "db/001_latin1.sql", "invalid-utf8", 2), "{:?}", findings(&v, "db/001_latin1.sql"));
    assert!(has(&v, "db/002_truncated.sql", "invalid-utf8", 1), "{:?}", findings(&v, "db/002_truncated.sql"));
    assert!(has(&v, "db/003_utf16.sql", "invalid-utf8", 1), "{:?}", findings(&v, "db/003_utf16.sql"));
    assert!(has(&v, "db/004_ok.sql", "drop-table", 1), "{:?}", findings(&v, "db/004_ok.sql"));
    let latin1 = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["path"] == "db/001_latin1.sql")
        .expect("invalid-utf8 finding");
    assert_eq!(latin1["span"]["start"], 39, "{latin1}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_errors_naming_them_and_the_walk_goes_on() {
    use std::os::unix::fs::symlink;
    let dir = project(&[("db/001.sql", b"DROP TABLE a;\n"), ("shared/002.sql", b"DROP TABLE b;\n")]);
    let db = dir.path().join("db");
    symlink("..", db.join("loop")).expect("symlink");
    symlink("self.sql", db.join("self.sql")).expect("symlink");
    symlink("../shared/002.sql", db.join("002_linked.sql")).expect("symlink");

    let (o, v) = lint_json(dir.path(), &["db"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("loop"), "the directory loop is not named: {err}");
    assert!(err.contains("self.sql"), "the file loop is not named: {err}");
    assert!(has(&v, "db/001.sql", "drop-table", 1), "{v}");
    assert!(has(&v, "db/002_linked.sql", "drop-table", 1), "a symlinked migration was not linted: {v}");

    // Named on the command line, a looping path is an IO error and the other path is linted.
    let (o, v) = lint_json(dir.path(), &["db/self.sql", "db/001.sql"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("db/self.sql"), "{}", stderr(&o));
    assert!(has(&v, "db/001.sql", "drop-table", 1), "{v}");
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_errors_naming_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[("db/001.sql", b"DROP TABLE a;\n"), ("db/002.sql", b"DROP TABLE b;\n"), ("solo.sql", b"")]);
    let locked = dir.path().join("db/002.sql");
    let solo = dir.path().join("solo.sql");
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
    // Root reads a mode-000 file anyway: then run sluice as the unprivileged `nobody` user, on
    // a tree it may read except for the two locked files.
    let as_nobody = nix::unistd::geteuid().is_root();
    if as_nobody {
        // Every directory above the binary and the project must let others through.
        let bin = Path::new(env!("CARGO_BIN_EXE_sluice"));
        let closed = bin
            .ancestors()
            .skip(1)
            .chain(dir.path().ancestors().skip(1))
            .find(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 == 0));
        if let Some(a) = closed {
            eprintln!("skipped: running as root and {} is closed to other users", a.display());
            return;
        }
    }
    if as_nobody {
        mode(dir.path(), 0o755);
        mode(&dir.path().join("db"), 0o755);
        mode(&dir.path().join("db/001.sql"), 0o644);
    }
    mode(&locked, 0o000);
    mode(&solo, 0o000);
    let o = if as_nobody {
        use std::os::unix::process::CommandExt;
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["lint", "--format", "json", "db", "solo.sql"])
            .current_dir(dir.path())
            .uid(65534)
            .gid(65534)
            .output()
            .expect("run sluice as nobody")
    } else {
        sluice(&["lint", "--format", "json", "db", "solo.sql"], dir.path())
    };
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {}", stderr(&o)));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("db/002.sql") && err.contains("ermission denied"), "{err}");
    assert!(err.contains("solo.sql"), "{err}");
    assert!(has(&v, "db/001.sql", "drop-table", 1), "{v}");
}
