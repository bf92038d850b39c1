//! The lock model, verified: every case of `fixtures/lock-model/postgres/*.sql` runs on a real
//! server (each in a fresh copy of the database its file's setup built) and the locks and rewrite
//! flag that `sluice_core::pg_locks::effect_in` predicts, against the catalog its file's setup
//! builds when replayed, must equal what the runner measured. Known disagreements are listed with
//! their reason; a new one, or a listed one that went away, fails.

use sluice_core::catalog::{Catalog, Origin};
use sluice_core::parse::parse_file;
use sluice_core::pg_locks::{self, LockMode, Target};
use sluice_core::Dialect;
use sluice_runner::catalog;
use sluice_runner::cluster::{Cluster, PgBinaries};
use sluice_runner::exec::{self, Tracer};
use sluice_runner::plan::Part;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `file: case` -> why the model and the server disagree there. A reason starting with
/// `unstable:` marks a case that may or may not disagree from run to run.
const KNOWN: &[(&str, &str)] = &[
    ("table: truncate", "runner: TRUNCATE gives the table and its indexes new relfilenodes, which the runner counts as a rewrite; the model's rewrite means copying every row"),
];

struct Case {
    label: String,
    sql: String,
}

fn parse_fixture(text: &str) -> (String, Vec<Case>) {
    let mut setup = String::new();
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(label) = line.strip_prefix("-- case:") {
            cases.push(Case { label: label.trim().to_string(), sql: String::new() });
        } else if let Some(c) = cases.last_mut() {
            c.sql.push_str(line);
            c.sql.push('\n');
        } else {
            setup.push_str(line);
            setup.push('\n');
        }
    }
    (setup, cases)
}

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lock-model/postgres");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    v.sort();
    v
}

/// The schema `setup` leaves, replayed the way the linter replays a migration history.
fn replay(setup: &str) -> Catalog {
    let mut catalog = Catalog::new(Dialect::Postgres);
    for op in parse_file(setup, Dialect::Postgres).statements.iter().flat_map(|s| s.ops.iter()) {
        catalog.apply(op, &Origin::default());
    }
    catalog
}

fn bare(name: &str) -> String {
    name.strip_prefix("public.").unwrap_or(name).to_ascii_lowercase()
}

async fn create_from(admin: &tokio_postgres::Client, db: &str, template: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The template's last session may still be closing.
        match admin.batch_execute(&format!("CREATE DATABASE {db} TEMPLATE {template}")).await {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline && e.to_string().contains("accessed by other users") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("CREATE DATABASE {db}: {e:?}"),
        }
    }
}

#[test]
fn lock_model_agrees_with_the_server() {
    let bin = match PgBinaries::find() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipped: {e}");
            return;
        }
    };
    let cluster = Cluster::start(&bin).expect("cluster");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    let mut cases_run = 0;
    rt.block_on(async {
        let admin = catalog::connect(&cluster.config("postgres"), "admin").await.expect("admin");
        let num: i32 =
            admin.query_one("SELECT current_setting('server_version_num')::int", &[]).await.expect("version").get(0);
        let num = u32::try_from(num).expect("version");
        let version = sluice_core::PgVersion::new(num / 10000, num % 10000);
        for (fi, path) in fixtures().iter().enumerate() {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem").to_string();
            let (setup, cases) = parse_fixture(&std::fs::read_to_string(path).expect("read"));
            let schema = replay(&setup);
            let template = format!("fx{fi}");
            admin.batch_execute(&format!("CREATE DATABASE {template}")).await.expect("create");
            {
                let c = catalog::connect(&cluster.config(&template), "setup").await.expect("connect");
                c.batch_execute(&setup).await.unwrap_or_else(|e| panic!("{stem} setup: {e:?}"));
            }
            for (ci, case) in cases.iter().enumerate() {
                let key = format!("{stem}: {}", case.label);
                let db = format!("fx{fi}_{ci}");
                create_from(&admin, &db, &template).await;
                let cfg = cluster.config(&db);
                let client = catalog::connect(&cfg, "case").await.expect("connect");
                let monitor = catalog::connect(&cfg, "monitor").await.expect("connect");
                let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);
                let part =
                    Part { path: key.clone(), text: case.sql.clone(), range: 0..case.sql.len(), in_transaction: true };
                let stmts = exec::statements(&part, version);
                assert_eq!(stmts.len(), 1, "{key}: one statement per case");
                let effect = pg_locks::combine(
                    parse_file(&case.sql, Dialect::Postgres)
                        .statements
                        .iter()
                        .flat_map(|s| s.ops.iter())
                        .filter_map(|op| pg_locks::effect_in(op, version, Some(&schema))),
                );
                // A statement that cannot run in a transaction block is sampled while it runs; a
                // session with an old snapshot holding ACCESS SHARE on every table makes it wait
                // (CONCURRENTLY waits for older snapshots and lockers) long enough to be seen, and
                // event triggers that sleep at its end hold its last locks (DROP INDEX
                // CONCURRENTLY's on the dead index, DETACH PARTITION CONCURRENTLY's final step)
                // long enough to be seen too.
                if !stmts[0].transactional {
                    client
                        .batch_execute(
                            "CREATE FUNCTION hold_last_locks() RETURNS event_trigger LANGUAGE plpgsql \
                             AS $$ BEGIN PERFORM pg_sleep(0.3); END $$; \
                             CREATE EVENT TRIGGER hold_drop ON sql_drop EXECUTE FUNCTION hold_last_locks(); \
                             CREATE EVENT TRIGGER hold_end ON ddl_command_end EXECUTE FUNCTION hold_last_locks();",
                        )
                        .await
                        .expect("event triggers");
                    let blocker = catalog::connect(&cfg, "blocker").await.expect("connect");
                    let tables: Vec<String> = blocker
                        .query(
                            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public'",
                            &[],
                        )
                        .await
                        .expect("tables")
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    let mut sql = "BEGIN ISOLATION LEVEL REPEATABLE READ;".to_string();
                    for t in &tables {
                        sql.push_str(&format!("SELECT 1 FROM {t} LIMIT 1;"));
                    }
                    blocker.batch_execute(&sql).await.expect("blocker");
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = blocker.batch_execute("COMMIT").await;
                    });
                }
                let mut tracer = Tracer {
                    client: &client,
                    monitor: &monitor,
                    pid,
                    version,
                    pre_relations: catalog::relations(&client).await.expect("rels").into_keys().collect(),
                    pre_types: catalog::type_names(&client).await.expect("types"),
                    t0: Instant::now(),
                    windows: Vec::new(),
                    on_statement: None,
                };
                let applied = tracer.apply(&part, None).await.expect("apply");
                cases_run += 1;
                let st = &applied.report.statements[0];
                if let Some(e) = &st.error {
                    found.insert(key.clone(), format!("fails on the server: {e}"));
                } else {
                    let measured: BTreeMap<String, LockMode> = {
                        let mut m = BTreeMap::new();
                        for l in st.locks.iter().filter(|l| l.pre_existing) {
                            let mode = LockMode::from_name(&l.mode).expect("mode");
                            let e = m.entry(format!("{} {}", l.kind, bare(&l.object))).or_insert(mode);
                            *e = (*e).max(mode);
                        }
                        m
                    };
                    let mut predicted: BTreeMap<String, LockMode> = BTreeMap::new();
                    for (target, mode) in effect.iter().flat_map(|e| e.locks.iter()) {
                        let relation = |name: &str| {
                            let kind = measured
                                .keys()
                                .find(|k| k.ends_with(&format!(" {}", bare(name))) && !k.starts_with("index"))
                                .map(|k| k.rsplit_once(' ').map(|(kind, _)| kind.to_string()).unwrap_or_default())
                                .unwrap_or_else(|| "table".into());
                            format!("{kind} {}", bare(name))
                        };
                        let k = match target {
                            Target::Table(n) | Target::Referenced(n) => relation(&n.display()),
                            // The catalog names the table of every index the setup creates.
                            Target::IndexTable(n) => format!("unresolved table of index {}", bare(&n.display())),
                            Target::Index(n) | Target::DeadIndex(n) => format!("index {}", bare(&n.display())),
                            Target::Type(n) => format!("type {}", bare(&n.display())),
                            Target::Database => continue,
                        };
                        let e = predicted.entry(k).or_insert(*mode);
                        *e = (*e).max(*mode);
                    }
                    let mut diffs = Vec::new();
                    for (k, m) in &predicted {
                        match measured.get(k) {
                            Some(got) if got == m => {}
                            Some(got) => diffs.push(format!("{k}: model {m}, server {got}")),
                            None => diffs.push(format!("{k}: model {m}, server no lock")),
                        }
                    }
                    for (k, got) in &measured {
                        let relation_level = !k.starts_with("index ");
                        if relation_level && !predicted.contains_key(k) {
                            diffs.push(format!("{k}: model no lock, server {got}"));
                        }
                    }
                    let rewrote = st.rewrites.iter().any(|r| r.pre_existing);
                    let model_rewrite = effect.as_ref().is_some_and(|e| e.rewrite);
                    if rewrote != model_rewrite {
                        let what: Vec<&str> = st.rewrites.iter().map(|r| r.object.as_str()).collect();
                        diffs.push(format!("rewrite: model {model_rewrite}, server {rewrote} {what:?}"));
                    }
                    if !diffs.is_empty() {
                        found.insert(key.clone(), diffs.join("; "));
                    }
                }
                drop(client);
                drop(monitor);
                let _ = admin.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)")).await;
            }
        }
    });
    drop(cluster);
    assert!(cases_run >= 60, "only {cases_run} cases ran");
    let known: BTreeSet<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
    let mut report = String::new();
    for (k, d) in &found {
        if !known.contains(k.as_str()) {
            report.push_str(&format!("new disagreement: {k}: {d}\n"));
        }
    }
    let unstable: BTreeSet<&str> = KNOWN.iter().filter(|(_, r)| r.starts_with("unstable:")).map(|(k, _)| *k).collect();
    for k in &known {
        if !found.contains_key(*k) && !unstable.contains(k) {
            report.push_str(&format!("listed disagreement no longer happens (remove it from KNOWN): {k}\n"));
        }
    }
    eprintln!("{} cases, {} known disagreements", cases_run, known.len());
    assert!(report.is_empty(), "{report}");
}
