//! `sluice drift` end to end against a real PostgreSQL server the test starts: a Flyway history
//! whose checksums match, pending migrations, a hand-added column, an edited applied migration, a
//! version missing from the directory, and sqlx's SHA-384 checksums. Skipped (with a printed
//! reason) only when no PostgreSQL server binaries are installed.

mod common;

use common::{have_mariadb, have_postgres, mariadb_query, project, stderr, stdout};
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
               ('20240101000000', 'a', 2, 1, 1, now(), 1, NULL, NULL, '', NULL, 'v'), \
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

/// Prisma's `_prisma_migrations` (SHA-256 checksums, a failed and a rolled-back row) and Atlas's
/// revisions (the chained atlas.sum hash), with the schema replayed.
#[test]
fn prisma_and_atlas_checksums() {
    if !have_postgres() {
        return;
    }
    let bin = sluice_runner::cluster::PgBinaries::find().expect("bin");
    let cluster = sluice_runner::cluster::Cluster::start(&bin).expect("cluster");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let admin = rt.block_on(sluice_runner::catalog::connect(&cluster.config("postgres"), "test")).expect("connect");
    let db = |name: &str| {
        rt.block_on(admin.batch_execute(&format!("CREATE DATABASE {name}"))).expect("db");
        let c = rt.block_on(sluice_runner::catalog::connect(&cluster.config(name), name)).expect("connect");
        let url = format!("postgresql://postgres@/{name}?host={}", cluster.socket_dir().display());
        (c, url)
    };

    // Prisma: the first migration applied (from a checkout with CRLF endings), the second failed
    // once, was marked rolled back and applied again, the third failed and is unresolved.
    let a: &[u8] = b"CREATE TABLE \"User\" (id SERIAL PRIMARY KEY, email TEXT NOT NULL);\n";
    let b: &[u8] = b"ALTER TABLE \"User\" ADD COLUMN name TEXT;\n";
    let c: &[u8] = b"CREATE INDEX \"User_email_idx\" ON \"User\" (email);\n";
    let dir = project(&[
        ("prisma/migrations/20240101000000_init/migration.sql", a),
        ("prisma/migrations/20240102000000_name/migration.sql", b),
        ("prisma/migrations/20240103000000_email_idx/migration.sql", c),
        ("prisma/migrations/migration_lock.toml", b"provider = \"postgresql\"\n"),
    ]);
    let a_crlf: Vec<u8> = a.iter().flat_map(|&x| if x == b'\n' { vec![b'\r', b'\n'] } else { vec![x] }).collect();
    let (client, url) = db("prisma");
    let row = |id: &str, name: &str, sum: &str, finished: &str, rolled_back: &str| {
        format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, \
             started_at, applied_steps_count) VALUES ('{id}', '{sum}', {finished}, '{name}', NULL, {rolled_back}, \
             now() + interval '{id} seconds', 1);"
        )
    };
    let sum_b = drift_checksum::prisma(b);
    rt.block_on(client.batch_execute(&format!(
        "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, \
           finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, \
           started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0);
         {}{} {}{}{}
         INSERT INTO _prisma_migrations VALUES ('5', 'x', NULL, '20240103000000_email_idx', \
           'Database error: relation \"User_email_idx\" already exists', NULL, now() + interval '5 seconds', 0);",
        std::str::from_utf8(a).expect("utf8"),
        std::str::from_utf8(b).expect("utf8"),
        row("1", "20240101000000_init", &drift_checksum::prisma(&a_crlf), "now()", "NULL"),
        row("2", "20240102000000_name", &sum_b, "NULL", "now()"),
        row("3", "20240102000000_name", &sum_b, "now()", "NULL"),
    )))
    .expect("prisma history");
    let m = "prisma/migrations";
    let o = drift(dir.path(), &[m, "--database-url", &url, "--format", "json"]);
    let v = json(&o);
    assert_eq!(v["framework"], "prisma", "{v}");
    assert_eq!(v["history_table"], "public._prisma_migrations");
    assert_eq!(v["applied"], 2, "{v}");
    assert!(v["changed"].as_array().expect("changed").is_empty(), "{v}");
    assert_eq!(versions(&v, "failed"), ["20240103000000_email_idx"]);
    let failed = v["failed"][0]["message"].as_str().expect("message");
    assert!(failed.contains("prisma migrate resolve") && failed.contains("already exists"), "{failed}");
    assert_eq!(v["failed"][0]["path"], "20240103000000_email_idx/migration.sql");
    assert!(versions(&v, "pending").is_empty(), "a failed migration is not pending: {v}");
    assert_eq!(v["schema"]["replayed"], 2);
    assert_eq!(v["schema"]["differences"], serde_json::json!([]), "{v}");
    assert_eq!(o.status.code(), Some(1), "a failed migration is drift: {}", stderr(&o));
    // Resolved as rolled back: no drift, the migration is pending again.
    rt.block_on(client.batch_execute("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = '5'"))
        .expect("x");
    let o = drift(dir.path(), &[m, "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(versions(&json(&o), "pending"), ["20240103000000_email_idx"]);
    // An applied migration edited.
    std::fs::write(dir.path().join(m).join("20240102000000_name/migration.sql"), [b, b"-- x\n"].concat()).expect("w");
    let o = drift(dir.path(), &[m, "--database-url", &url, "--format", "json", "--skip-schema"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(versions(&v, "changed"), ["20240102000000_name"]);
    assert!(v["changed"][0]["message"].as_str().is_some_and(|s| s.contains(&sum_b)), "{v}");

    // Atlas: revisions hold each file's atlas.sum hash.
    let files: [(&str, &[u8]); 3] = [
        ("20240101000000_a.sql", b"CREATE TABLE a (id int);\n"),
        ("20240102000000_b.sql", b"CREATE TABLE b (id int);\n"),
        ("20240103000000_c.sql", b"CREATE TABLE c (id int);\n"),
    ];
    let named: Vec<(String, Vec<u8>)> = files.iter().map(|(n, b)| (n.to_string(), b.to_vec())).collect();
    let hashes = drift_checksum::atlas_hashes(&named);
    let sum = format!(
        "h1:{}\n{}",
        drift_checksum::atlas_total(&named),
        files.iter().zip(&hashes).map(|((n, _), h)| format!("{n} h1:{h}\n")).collect::<String>()
    );
    let mut with_sum: Vec<(String, &[u8])> = files.iter().map(|(n, b)| (format!("m/{n}"), *b)).collect();
    with_sum.push(("m/atlas.sum".into(), sum.as_bytes()));
    let refs: Vec<(&str, &[u8])> = with_sum.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let dir = project(&refs);
    let (client, url) = db("atlas");
    let rev = |v: &str, h: &str| format!("('{v}', '', 2, 1, 1, now(), 1, NULL, NULL, '{h}', NULL, 'v')");
    rt.block_on(client.batch_execute(&format!(
        "CREATE SCHEMA atlas_schema_revisions;
         CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (version varchar PRIMARY KEY, \
           description varchar NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, \
           total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, \
           error text NULL, error_stmt text NULL, hash varchar NOT NULL, partial_hashes jsonb NULL, \
           operator_version varchar NOT NULL);
         CREATE TABLE a (id int); CREATE TABLE b (id int);
         INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES {}, {};",
        rev("20240101000000", &hashes[0]),
        rev("20240102000000", &hashes[1]),
    )))
    .expect("atlas history");
    let o = drift(dir.path(), &["m", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["framework"], "atlas");
    assert_eq!(versions(&v, "pending"), ["20240103000000"]);
    assert_eq!(v["schema"]["differences"], serde_json::json!([]), "{v}");
    // The first file edited: one finding on it (the second's hash follows from it).
    std::fs::write(dir.path().join("m/20240101000000_a.sql"), b"CREATE TABLE a (id bigint);\n").expect("edit");
    let o = drift(dir.path(), &["m", "--database-url", &url, "--format", "json", "--skip-schema"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(versions(&v, "changed"), ["20240101000000"], "{v}");
    let msg = v["changed"][0]["message"].as_str().expect("message");
    assert!(msg.contains(&format!("recorded {}", hashes[0])), "{msg}");
}

/// `sluice drift --dialect mysql` against a MariaDB server the test starts (the live database),
/// the schema replayed on a second, throwaway MariaDB server: a Flyway history whose checksums
/// match, a pending migration, a hand-added column and index, a dropped foreign key, an edited
/// applied migration; then goose and golang-migrate histories. Skipped without MariaDB server
/// binaries.
#[test]
fn mariadb_history_and_schema_drift() {
    use sluice_runner::mysql_server::{MariaDbBinaries, MariaDbServer};
    if !have_mariadb() {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let server = rt.block_on(MariaDbServer::start(&MariaDbBinaries::find().expect("bin"))).expect("server");
    let query = |sql: &str| mariadb_query(&server.socket_path(), sql);
    let v1: &[u8] =
        b"CREATE TABLE users (\r\n  id BIGINT AUTO_INCREMENT PRIMARY KEY,\r\n  email VARCHAR(200) NOT NULL\r\n);\r\n";
    let v2: &[u8] = b"CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,\n  \
        status ENUM('new','paid') NOT NULL DEFAULT 'new',\n  \
        CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id));\n\
        CREATE UNIQUE INDEX users_email ON users (email);\n";
    let v3: &[u8] = b"ALTER TABLE users ADD COLUMN name VARCHAR(100) NULL;\n";
    let dir = project(&[("db/V1__users.sql", v1), ("db/V2__orders.sql", v2), ("db/V3__name.sql", v3)]);
    let text = |b: &[u8]| std::str::from_utf8(b).expect("utf8").to_string();
    query(&format!(
        "CREATE DATABASE app; USE app; {} {}
         CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50),
           description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL,
           checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
           execution_time INT NOT NULL, success TINYINT(1) NOT NULL, KEY flyway_schema_history_s_idx (success));
         INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,
           installed_by, execution_time, success) VALUES
           (1, '1', 'users', 'SQL', 'V1__users.sql', {}, 'root', 1, 1),
           (2, '2', 'orders', 'SQL', 'V2__orders.sql', {}, 'root', 1, 1);",
        text(v1),
        text(v2),
        drift_checksum::flyway(v1),
        drift_checksum::flyway(v2)
    ));
    let url = format!("mysql://root@localhost/app?socket={}", server.socket_path().display());

    // Clean: the history matches, V3 is pending, the replayed schema is the live one.
    let o = drift(dir.path(), &["db", "--dialect", "mysql", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["framework"], "flyway");
    assert_eq!(v["history_table"], "app.flyway_schema_history");
    assert_eq!(v["applied"], 2);
    assert_eq!(versions(&v, "pending"), ["3"]);
    assert_eq!(v["schema"]["replayed"], 2);
    assert!(v["schema"]["replay_server"].as_str().is_some_and(|s| s.starts_with("MariaDB ")), "{v}");
    assert_eq!(v["schema"]["differences"], serde_json::json!([]), "{v}");

    // Hand-applied changes: a column and an index added, a foreign key dropped. The URL's
    // scheme alone selects MySQL.
    query(
        "USE app; ALTER TABLE users ADD COLUMN hotfix INT NOT NULL DEFAULT 0; \
         CREATE INDEX orders_status ON orders (status); ALTER TABLE orders DROP FOREIGN KEY orders_user_fk",
    );
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let diffs: Vec<(String, String)> = v["schema"]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (d["side"].as_str().unwrap_or_default().to_string(), d["object"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    assert!(
        diffs.contains(&("live-only".into(), "column users.hotfix int(11) NOT NULL DEFAULT 0".into())),
        "{diffs:?}"
    );
    assert!(diffs.contains(&("live-only".into(), "index orders.orders_status BTREE (status)".into())), "{diffs:?}");
    assert!(
        diffs.contains(&(
            "migrations-only".into(),
            "foreign key orders.orders_user_fk (user_id) REFERENCES users (id) ON UPDATE RESTRICT ON DELETE RESTRICT"
                .into()
        )),
        "{diffs:?}"
    );
    assert_eq!(diffs.len(), 3, "{diffs:?}");
    let human = stdout(&drift(dir.path(), &["db", "--database-url", &url]));
    assert!(human.contains("only in the database: column users.hotfix int(11) NOT NULL DEFAULT 0"), "{human}");
    assert!(human.contains("drift detected"), "{human}");
    query(
        "USE app; ALTER TABLE users DROP COLUMN hotfix; DROP INDEX orders_status ON orders; \
         ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)",
    );
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "restored: {}\n{}", stdout(&o), stderr(&o));

    // An applied migration edited (a line-ending change is not an edit for Flyway).
    std::fs::write(dir.path().join("db/V1__users.sql"), text(v1).replace("\r\n", "\n")).expect("lf");
    std::fs::write(dir.path().join("db/V2__orders.sql"), [v2, b"-- reviewed\n"].concat()).expect("edit");
    let o = drift(dir.path(), &["db", "--database-url", &url, "--format", "json", "--skip-schema"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(versions(&v, "changed"), ["2"]);
    assert_eq!(v["schema"], Value::Null);

    // goose and golang-migrate histories in other databases of the same server.
    let goose = project(&[
        ("m/00001_a.sql", b"-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"),
        ("m/00002_b.sql", b"-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n"),
    ]);
    query(
        "CREATE DATABASE g; USE g; CREATE TABLE a (id int);
         CREATE TABLE goose_db_version (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, version_id BIGINT NOT NULL,
           is_applied TINYINT(1) NOT NULL, tstamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1), (2, 1), (2, 0), (9, 1);",
    );
    let gurl = format!("mysql://root@localhost/g?socket={}", server.socket_path().display());
    let o = drift(goose.path(), &["m", "--database-url", &gurl, "--format", "json"]);
    let v = json(&o);
    assert_eq!(v["framework"], "goose", "{v}");
    assert_eq!(versions(&v, "pending"), ["00002"]);
    assert_eq!(versions(&v, "missing"), ["9"]);
    assert_eq!(v["schema"]["differences"], serde_json::json!([]), "{v}");
    assert_eq!(o.status.code(), Some(1));
    let gm = project(&[
        ("m/000001_a.up.sql", b"CREATE TABLE a (id int);\n"),
        ("m/000001_a.down.sql", b"DROP TABLE a;\n"),
        ("m/000002_b.up.sql", b"CREATE TABLE b (id int);\n"),
        ("m/000002_b.down.sql", b"DROP TABLE b;\n"),
    ]);
    query(
        "CREATE DATABASE gm; USE gm; CREATE TABLE a (id int);
         CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty TINYINT(1) NOT NULL);
         INSERT INTO schema_migrations VALUES (1, 1);",
    );
    let gmurl = format!("mariadb://root@localhost/gm?socket={}", server.socket_path().display());
    let o = drift(gm.path(), &["m", "--database-url", &gmurl, "--format", "json", "--skip-schema"]);
    let v = json(&o);
    assert_eq!(v["framework"], "golang-migrate", "{v}");
    assert_eq!(versions(&v, "failed"), ["1"]);
    assert_eq!(versions(&v, "pending"), ["000002"]);
    assert_eq!(o.status.code(), Some(1));
    // A wrong password: exit 2, redacted.
    let bad = format!("mysql://root:s3cret@localhost/app?socket={}", server.socket_path().display());
    let o = drift(dir.path(), &["db", "--database-url", &bad]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cret") && !stdout(&o).contains("s3cret"), "{}", stderr(&o));
}
