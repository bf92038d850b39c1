//! `sluice lint` on a migration directory: files are linted against the schema the migrations
//! before them produce, `--changed-since` reports only on a change set (whose new tables count as
//! new), and `--diff` shows fixes without writing.

mod common;

use common::{git, project, sluice, stdout};

const V1: &[u8] = b"CREATE TABLE users (id bigint PRIMARY KEY, email varchar(20) NOT NULL);\n";
const V2: &[u8] = b"CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint NOT NULL);\n";
const V3: &[u8] = b"CREATE INDEX invoices_user_id_idx ON invoices (user_id);\nALTER TABLE users ALTER COLUMN email TYPE varchar(50);\n";

fn rules_in(out: &str, file: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    let mut rules = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rule) = l.split('[').nth(1).and_then(|r| r.split(']').next()) {
            if (l.starts_with("error[") || l.starts_with("warning[") || l.starts_with("info["))
                && lines.get(i + 1).is_some_and(|n| n.contains(file))
            {
                rules.push(rule.to_string());
            }
        }
    }
    rules
}

#[test]
fn changed_since_reports_only_the_change_set_and_treats_its_tables_as_new() {
    let dir = project(&[("db/V1__users.sql", V1)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(dir.path().join("db/V2__invoices.sql"), V2).unwrap();
    std::fs::write(dir.path().join("db/V3__index.sql"), V3).unwrap();

    // The whole directory: the index on `invoices` (created by V2, applied before V3) blocks writes.
    let all = stdout(&sluice(&["lint", "--color", "never", "db"], dir.path()));
    assert!(rules_in(&all, "V3__index.sql").contains(&"create-index-non-concurrently".to_string()), "{all}");
    assert!(!rules_in(&all, "V1__users.sql").is_empty(), "{all}");
    // The widening of a column V1 declared as varchar(20) is binary coercible.
    assert!(!rules_in(&all, "V3__index.sql").contains(&"alter-column-type-rewrites-table".to_string()), "{all}");

    // Only the change set: V1 is not reported, and `invoices` is new (V2 is not applied yet).
    let changed = stdout(&sluice(&["lint", "--color", "never", "--changed-since", "HEAD", "db"], dir.path()));
    assert!(rules_in(&changed, "V1__users.sql").is_empty(), "{changed}");
    assert!(!rules_in(&changed, "V3__index.sql").contains(&"create-index-non-concurrently".to_string()), "{changed}");
    assert!(!rules_in(&changed, "V2__invoices.sql").is_empty(), "{changed}");

    // The same from a list of files.
    std::fs::write(dir.path().join("changed.txt"), "db/V2__invoices.sql\ndb/V3__index.sql\n").unwrap();
    let listed =
        stdout(&sluice(&["lint", "--color", "never", "--changed-files-from", "changed.txt", "db"], dir.path()));
    assert_eq!(rules_in(&listed, "V3__index.sql"), rules_in(&changed, "V3__index.sql"), "{listed}");

    // Linting one file replays the files before it.
    let one = stdout(&sluice(&["lint", "--color", "never", "db/V3__index.sql"], dir.path()));
    assert_eq!(rules_in(&one, "V3__index.sql"), rules_in(&all, "V3__index.sql"), "{one}");

    let bad = sluice(&["lint", "--changed-since", "no-such-rev", "db"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(common::stderr(&bad).contains("no-such-rev"), "{}", common::stderr(&bad));
}

#[test]
fn diff_shows_fixes_without_writing() {
    let dir =
        project(&[("db/V1__users.sql", V1), ("db/V2__index.sql", b"CREATE INDEX users_email_idx ON users (email);\n")]);
    let out = sluice(&["lint", "--diff", "db"], dir.path());
    let diff = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{diff}");
    assert!(diff.contains("+++ b/db/V2__index.sql"), "{diff}");
    assert!(
        diff.contains("+CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx") || diff.contains("+CREATE INDEX"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("db/V2__index.sql")).unwrap(),
        b"CREATE INDEX users_email_idx ON users (email);\n"
    );
}
