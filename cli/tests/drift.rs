//! `sluice drift` end to end against a real PostgreSQL server the test starts: a Flyway history
//! whose checksums match, pending migrations, a hand-added column, an edited applied migration, a
//! version missing from the directory, and sqlx's SHA-384 checksums. Skipped (with a printed
//! reason) only when no PostgreSQL server binaries are installed.

mod common;

use common::{have_postgres, project, stderr, stdout};
use serde_json::Value;
use sluice_runner::drift_checksum;
use std::path::Path;
use std::process::{Command, Output};

const FLYWAY_HISTORY: &str = "CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT,
    installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INT NOT NULL, success BOOLEAN NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank));
CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);";

const V1: &[u8] = b"CREATE TABLE users (\r\n  id int PRIMARY KEY,\r\n  name text NOT NULL\r\n);\r\n";
const V2: &[u8] = b"ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX users_email ON users (email);\n";
const V3: &[u8] = b"CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);\n";

fn drift(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice")).arg("drift").args(args).current_dir(dir).output().expect("run")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

fn versions(v: &Value, list: &str) -> Vec<String> {
    v[list].as_array().expect(list).iter().map(|i| i["version"].as_str().unwrap_or_default().to_string()).collect()
}

fn history_row(rank: i32, version: &str, script: &str, checksum: i32) -> String {
    format!(
        "INSERT INTO flyway_schema_history VALUES ({rank}, '{version}', 'm', 'SQL', '{script}', {checksum}, \
         'postgres', now(), 1, true);"
    )
}

#[test]
fn flyway_history_and_schema_drift() {
    if !have_postgres() {
        return;
    }
    let bin = sluice_runner::cluster::PgBinaries::find().expect("bin");
    let cluster = sluice_runner::cluster::Cluster::start(&bin).expect("cluster");
    let url = format!("postgresql://postgres@/postgres?host={}", cluster.socket_dir().display());
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let client = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    let run = |sql: &str| rt.block_on(client.batch_execute(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));

    let dir = project(&[("db/V1__init.sql", V1), ("db/V2__add_email.sql", V2), ("db/V3__orders.sql", V3)]);
    // V1 and V2 applied as Flyway would have, with the checksums computed over the fixtures.
    run(std::str::from_utf8(V1).expect("utf8"));
    run(std::str::from_utf8(V2).expect("utf8"));
    run(FLYWAY_HISTORY);
    let (c1, c2) = (drift_checksum::flyway(V1), drift_checksum::flyway(V2));
    // zlib.crc32 over the concatenated lines of V2 gives the same value.
    assert_eq!(c2, -478_090_488);
    // The checksum ignores line endings: V1 with LF only has the same one.
    assert_eq!(c1, drift_checksum::flyway(&V1.iter().copied().filter(|&b| b != b'\r').collect::<Vec<_>>()));
    run(&history_row(1, "1", "V1__init.sql", c1));
    run(&history_row(2, "2", "V2__add_email.sql", c2));

    // Clean: checksums match, V3 is pending, the schema is what V1 and V2 produce.
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["framework"], "flyway");
    assert_eq!(v["history_table"], "public.flyway_schema_history");
    assert_eq!(v["applied"], 2);
    assert_eq!(versions(&v, "pending"), ["3"]);
    assert_eq!(v["pending"][0]["path"], "V3__orders.sql");
    assert!(v["changed"].as_array().expect("changed").is_empty());
    assert!(v["missing"].as_array().expect("missing").is_empty());
    assert_eq!(v["schema"]["replayed"], 2);
    assert_eq!(v["schema"]["differences"], serde_json::json!([]));
    assert_eq!(v["drift"], false);
    let o = drift(dir.path(), &["db", "--database-url", &url, "--skip-schema", "--fail-on-pending"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // A hotfix applied by hand is schema drift.
    run("ALTER TABLE users ADD COLUMN hotfix int NOT NULL DEFAULT 0");
    let o = drift(dir.path(), &["db", "--database-url", &url]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("only in the database: column public.users.hotfix integer NOT NULL DEFAULT 0"), "{text}");
    assert!(text.contains("pending (1):\n  V3__orders.sql: not applied yet"), "{text}");
    let v = json(&drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]));
    assert_eq!(
        v["schema"]["differences"],
        serde_json::json!([{"side": "live-only", "object": "column public.users.hotfix integer NOT NULL DEFAULT 0"}])
    );
    // A dropped index is drift the other way.
    run("ALTER TABLE users DROP COLUMN hotfix; DROP INDEX users_email");
    let v = json(&drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]));
    let diffs = v["schema"]["differences"].as_array().expect("diffs");
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0]["side"], "migrations-only");
    assert!(diffs[0]["object"].as_str().is_some_and(|o| o.starts_with("index CREATE INDEX users_email")), "{diffs:?}");
    run("CREATE INDEX users_email ON users (email)");

    // An applied migration edited afterwards, and an applied version the directory lacks.
    std::fs::write(dir.path().join("db/V2__add_email.sql"), [V2, b"-- reviewed\n"].concat()).expect("edit");
    run(&history_row(3, "2.5", "V2_5__gone.sql", 12345));
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json", "--skip-schema"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(versions(&v, "changed"), ["2"]);
    let msg = v["changed"][0]["message"].as_str().expect("msg");
    assert!(msg.contains(&format!("checksum recorded {c2}")), "{msg}");
    assert!(msg.contains(&drift_checksum::flyway(&[V2, b"-- reviewed\n"].concat()).to_string()), "{msg}");
    assert_eq!(versions(&v, "missing"), ["2.5"]);
    assert_eq!(v["schema"], Value::Null);
    let o = drift(dir.path(), &["db", "--database-url", &url, "--skip-schema"]);
    let text = stdout(&o);
    assert!(
        text.contains("changed after being applied (1):\n  V2__add_email.sql: edited after it was applied"),
        "{text}"
    );
    assert!(text.contains("applied but missing from the directory (1):\n  version 2.5 m:"), "{text}");

    // A line-ending-only change is not an edit for Flyway.
    std::fs::write(dir.path().join("db/V2__add_email.sql"), V2).expect("restore");
    let crlf: Vec<u8> = V1.to_vec();
    let lf: Vec<u8> = crlf.iter().copied().filter(|&b| b != b'\r').collect();
    std::fs::write(dir.path().join("db/V1__init.sql"), lf).expect("lf");
    run("DELETE FROM flyway_schema_history WHERE installed_rank = 3");
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));

    // sqlx: SHA-384 of the file bytes.
    run("CREATE DATABASE sqlxdb");
    let sqlx_url = format!("postgresql://postgres@/sqlxdb?host={}", cluster.socket_dir().display());
    let mut cfg = cluster.config("sqlxdb");
    cfg.dbname("sqlxdb");
    let sqlx = rt.block_on(sluice_runner::catalog::connect(&cfg, "sqlx")).expect("connect");
    let a: &[u8] = b"CREATE TABLE a (id bigint);\n";
    let b: &[u8] = b"CREATE TABLE b (id bigint);\n";
    let sdir = project(&[("migrations/20240101000000_a.sql", a), ("migrations/20240102000000_b.sql", b)]);
    let hex_a = drift_checksum::hex(&drift_checksum::sqlx(a));
    rt.block_on(sqlx.batch_execute(&format!(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
           installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, \
           execution_time BIGINT NOT NULL);
         CREATE TABLE a (id bigint);
         INSERT INTO _sqlx_migrations VALUES (20240101000000, 'a', now(), true, decode('{hex_a}', 'hex'), 1);"
    )))
    .expect("sqlx history");
    let o = drift(sdir.path(), &["migrations", "--database-url", &sqlx_url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["framework"], "sqlx");
    assert_eq!(versions(&v, "pending"), ["20240102000000"]);
    std::fs::write(sdir.path().join("migrations/20240101000000_a.sql"), b"CREATE TABLE a (id bigint); \n")
        .expect("edit");
    let o = drift(sdir.path(), &["migrations", "--database-url", &sqlx_url, "--format", "json", "--skip-schema"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(versions(&json(&o), "changed"), ["20240101000000"]);
}

#[test]
fn errors_exit_2_without_the_password() {
    let dir = project(&[("db/V1__init.sql", V1)]);
    let o = drift(dir.path(), &["db", "--database-url", "postgres://app:s3cret@localhost/db?host=/nonexistent-dir"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("s3cret") && !stdout(&o).contains("s3cret"), "{err}");
    assert!(err.contains("app:***@"), "{err}");
}

/// One database per tool on one server; the history table as the tool creates it, one migration
/// applied and one pending (or a failure), compared with `--skip-schema`.
#[test]
fn other_tools_histories() {
    if !have_postgres() {
        return;
    }
    let bin = sluice_runner::cluster::PgBinaries::find().expect("bin");
    let cluster = sluice_runner::cluster::Cluster::start(&bin).expect("cluster");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let admin = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    let goose_a: &[u8] = b"-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n";
    let goose_b: &[u8] = b"-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n";
    let dbmate_a: &[u8] = b"-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n";
    let dbmate_b: &[u8] = b"-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n";
    let plain_a: &[u8] = b"CREATE TABLE a (id int);\n";
    let plain_b: &[u8] = b"CREATE TABLE b (id int);\n";
    let drop_a: &[u8] = b"DROP TABLE a;\n";
    #[allow(clippy::type_complexity)]
    let cases: [(&str, Vec<(&str, &[u8])>, &str, &str, Vec<&str>, Vec<&str>, Vec<&str>); 5] = [
        (
            "goose",
            vec![("m/00001_a.sql", goose_a), ("m/00002_b.sql", goose_b), ("m/00003_c.sql", goose_b)],
            "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, \
               is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (2, false), (7, true);",
            "CREATE TABLE a (id int)",
            vec!["00002", "00003"],
            vec!["7"],
            vec![],
        ),
        (
            "golang-migrate",
            vec![
                ("m/000001_a.up.sql", plain_a),
                ("m/000001_a.down.sql", drop_a),
                ("m/000002_b.up.sql", plain_b),
                ("m/000002_b.down.sql", drop_a),
            ],
            "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
             INSERT INTO schema_migrations VALUES (1, true);",
            "CREATE TABLE a (id int)",
            vec!["000002"],
            vec![],
            vec!["1"],
        ),
        (
            "dbmate",
            vec![("m/20240101000000_a.sql", dbmate_a), ("m/20240102000000_b.sql", dbmate_b)],
            "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
             INSERT INTO schema_migrations VALUES ('20240101000000'), ('20231231000000');",
            "CREATE TABLE a (id int)",
            vec!["20240102000000"],
            vec!["20231231000000"],
            vec![],
        ),
        (
            "diesel",
            vec![
                ("m/2024-01-01-000000_a/up.sql", plain_a),
                ("m/2024-01-01-000000_a/down.sql", drop_a),
                ("m/2024-01-02-000000_b/up.sql", plain_b),
                ("m/2024-01-02-000000_b/down.sql", drop_a),
            ],
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
               run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
             INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000');",
            "CREATE TABLE a (id int)",
            vec!["20240102000000"],
            vec![],
            vec![],
        ),
        (
            "atlas",
            vec![("m/20240101000000_a.sql", plain_a), ("m/20240102000000_b.sql", plain_b), ("m/atlas.sum", b"h1:x\n")],
            "CREATE SCHEMA atlas_schema_revisions;
             CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (version varchar PRIMARY KEY, \
               description varchar NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, \
               total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, \
               error text NULL, error_stmt text NULL, hash varchar NOT NULL, partial_hashes jsonb NULL, \
               operator_version varchar NOT NULL);
             INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES \
               ('20240101000000', 'a', 2, 1, 1, now(), 1, NULL, NULL, 'h', NULL, 'v'), \
               ('20240102000000', 'b', 2, 0, 1, now(), 1, 'boom', 'CREATE TABLE b', 'h', NULL, 'v');",
            "CREATE TABLE a (id int)",
            vec![],
            vec![],
            vec!["20240102000000"],
        ),
    ];
    for (tool, files, history, schema, pending, missing, failed) in cases {
        let db = tool.replace('-', "_");
        rt.block_on(admin.batch_execute(&format!("CREATE DATABASE {db}"))).expect("db");
        let c = rt.block_on(sluice_runner::catalog::connect(&cluster.config(&db), "tool")).expect("connect");
        rt.block_on(c.batch_execute(&format!("{schema}; {history}"))).unwrap_or_else(|e| panic!("{tool}: {e}"));
        let dir = project(&files);
        let url = format!("postgresql://postgres@/{db}?host={}", cluster.socket_dir().display());
        let o = drift(dir.path(), &["m", "--database-url", &url, "--format", "json", "--skip-schema"]);
        let v = json(&o);
        assert_eq!(v["framework"], tool, "{v}");
        assert_eq!(versions(&v, "pending"), pending, "{tool}: {v}");
        assert_eq!(versions(&v, "missing"), missing, "{tool}: {v}");
        assert_eq!(versions(&v, "failed"), failed, "{tool}: {v}");
        let expect = if missing.is_empty() && failed.is_empty() { 0 } else { 1 };
        assert_eq!(o.status.code(), Some(expect), "{tool}: {}", stderr(&o));
        // The schema replay of what is applied matches where nothing was changed by hand.
        if tool != "golang-migrate" && tool != "atlas" && missing.is_empty() {
            let o = drift(dir.path(), &["m", "--database-url", &url, "--format", "json"]);
            assert_eq!(o.status.code(), Some(0), "{tool}: {}\n{}", stdout(&o), stderr(&o));
        }
    }
}
