//! End-to-end tests of `sluice explain-sql`: PostgreSQL locks and MySQL online-DDL algorithms,
//! with the dialect and version taken from flags or from `sluice.toml`.

mod common;

use common::{project, sluice, stdout};

/// The block of output lines describing the statement that starts on `line`.
fn block(out: &str, header: &str) -> Vec<String> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with(header));
    let mut v: Vec<String> = lines.next().map(str::to_string).into_iter().collect();
    v.extend(lines.take_while(|l| l.starts_with("   ")).map(str::to_string));
    v
}

const PG: &str = "\
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
ALTER TABLE orders ADD COLUMN x int DEFAULT random();
SET lock_timeout = '2s';
ALTER TYPE mood ADD VALUE 'meh';
";

#[test]
fn postgres_locks_scans_and_transactions() {
    let dir = project(&[("m.sql", PG.as_bytes())]);
    let o = sluice(&["explain-sql", "m.sql"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(out.starts_with("target: PostgreSQL 15\n"), "{out}");
    assert_eq!(
        block(&out, "1: ")[..4],
        [
            "1: CREATE INDEX orders_customer_idx ON orders (customer_id)",
            "   lock: SHARE on table orders (blocks writes)",
            "   rewrite: no, scan: yes",
            "   in a transaction block: yes",
        ],
        "{out}"
    );
    assert_eq!(
        block(&out, "2: ")[..4],
        [
            "2: CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total)",
            "   lock: SHARE UPDATE EXCLUSIVE on table orders (blocks neither reads nor writes)",
            "   rewrite: no, scan: yes",
            "   in a transaction block: no",
        ],
        "{out}"
    );
    let add = block(&out, "3: ");
    assert_eq!(
        add[..4],
        [
            "3: ALTER TABLE orders ADD COLUMN x int DEFAULT random()",
            "   lock: ACCESS EXCLUSIVE on table orders (blocks reads and writes)",
            "   rewrite: yes, scan: yes",
            "   in a transaction block: yes",
        ],
        "{out}"
    );
    assert!(add[4].starts_with("   note: volatile default"), "{out}");
    assert_eq!(block(&out, "4: "), ["4: SET lock_timeout = '2s'", "   no table-level effect"]);
    assert!(block(&out, "5: ").contains(&"   in a transaction block: yes".to_string()), "{out}");

    // The version gate of ALTER TYPE ... ADD VALUE.
    let o = sluice(&["explain-sql", "--pg-version", "11", "m.sql"], dir.path());
    let out = stdout(&o);
    assert!(block(&out, "5: ").contains(&"   in a transaction block: no".to_string()), "{out}");
}

const MY: &str = "\
ALTER TABLE t ADD COLUMN c int;
ALTER TABLE t MODIFY c bigint;
";

#[test]
fn mysql_algorithms_from_flags_and_config() {
    let dir = project(&[
        ("m.sql", MY.as_bytes()),
        ("cfg/sluice.toml", b"dialect = \"mysql\"\nmysql_version = \"8.0.35\"\n"),
        ("cfg/m.sql", MY.as_bytes()),
    ]);
    let expected_add = [
        "1: ALTER TABLE t ADD COLUMN c int",
        "   algorithm: INSTANT",
        "   rebuilds table: no",
        "   concurrent DML: yes",
        "   reason: adds a column (metadata only)",
    ];
    let o = sluice(&["explain-sql", "--dialect", "mysql", "--mysql-version", "8.0.35", "m.sql"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(out.starts_with("target: MySQL 8.0.35\n"), "{out}");
    assert_eq!(block(&out, "1: "), expected_add, "{out}");
    let modify = block(&out, "2: ");
    assert_eq!(
        modify[..4],
        ["2: ALTER TABLE t MODIFY c bigint", "   algorithm: COPY", "   rebuilds table: yes", "   concurrent DML: no"],
        "{out}"
    );

    // Dialect and version from sluice.toml when no flags are given.
    let o = sluice(&["explain-sql", "cfg/m.sql"], dir.path());
    let out = stdout(&o);
    assert!(out.starts_with("target: MySQL 8.0.35\n"), "{out}");
    assert_eq!(block(&out, "1: "), expected_add, "{out}");

    // Before instant ADD COLUMN existed.
    let o = sluice(&["explain-sql", "--mysql-version", "5.7.40", "cfg/m.sql"], dir.path());
    assert!(stdout(&o).contains("   algorithm: INPLACE\n"), "{}", stdout(&o));
}

#[test]
fn missing_file_and_bad_version_exit_2() {
    let dir = project(&[("m.sql", PG.as_bytes())]);
    assert_eq!(sluice(&["explain-sql", "nope.sql"], dir.path()).status.code(), Some(2));
    assert_eq!(sluice(&["explain-sql", "--pg-version", "banana", "m.sql"], dir.path()).status.code(), Some(2));
}

#[test]
fn a_migration_is_explained_against_the_schema_before_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects/mysql-flyway");
    let out = common::sluice(&["explain-sql", "migrations/V2__widen_customer_phone.sql"], &root);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // V1 created `phone` as a short VARCHAR: the extension stays within one length byte.
    assert!(text.contains("algorithm: INPLACE") && text.contains("rebuilds table: no"), "{text}");
    assert!(text.contains("within the same length-prefix size"), "{text}");
}
