//! The migration projects under `fixtures/projects/`: each is detected as the tool its
//! `sluice.toml` names (the plain project names none and is detected as plain), and its files
//! come out of `classify` and `apply_order` in the order the tool applies them.

use sluice_core::framework::{apply_order, classify, detect, layout_for, sidecar_path, Framework, TxMode};
use sluice_core::Dialect;
use std::fs;
use std::path::{Path, PathBuf};

fn projects_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/projects")
}

/// Every file under `dir`, relative to it, `/`-separated, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).expect("readable directory").flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn project(name: &str) -> (PathBuf, Vec<String>) {
    let dir = projects_dir().join(name);
    let files = files(&dir);
    (dir, files)
}

fn detect_project(dir: &Path, files: &[String]) -> Framework {
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    detect(&refs, &|p| fs::read_to_string(dir.join(p)).ok())
}

/// The `framework` key of a project's `sluice.toml`, if any.
fn configured(dir: &Path) -> Option<Framework> {
    let text = fs::read_to_string(dir.join("sluice.toml")).expect("every project has a sluice.toml");
    let table: toml::Table = text.parse().expect("valid sluice.toml");
    table.get("framework").map(|v| v.as_str().expect("framework is a string").parse().expect("known framework"))
}

#[test]
fn every_project_is_detected_as_its_own_tool() {
    let mut names: Vec<String> = fs::read_dir(projects_dir())
        .expect("fixtures/projects exists")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["atlas", "dbmate", "diesel", "flyway", "golang-migrate", "goose", "mysql-flyway", "plain", "prisma", "sqlx"]
    );
    for name in &names {
        let (dir, files) = project(name);
        assert!(files.iter().any(|f| f == "README.md"), "{name} has no README.md");
        let expected = match name.as_str() {
            "plain" => {
                assert_eq!(configured(&dir), None, "the plain project must leave the framework to detection");
                Framework::Plain
            }
            "mysql-flyway" => Framework::Flyway,
            other => other.parse().expect("project named after its tool"),
        };
        if name != "plain" {
            assert_eq!(configured(&dir), Some(expected), "{name}/sluice.toml");
        }
        assert_eq!(detect_project(&dir, &files), expected, "{name}");
    }
}

/// The migration files of a project in apply order, as paths relative to `under`.
fn ordered(name: &str, fw: Framework, under: &str) -> Vec<String> {
    let (_, files) = project(name);
    let mut entries: Vec<_> = files.iter().filter_map(|p| classify(fw, p)).collect();
    apply_order(&mut entries);
    entries.into_iter().map(|e| e.path.strip_prefix(under).unwrap_or(&e.path).to_string()).collect()
}

#[test]
fn each_project_in_the_order_its_tool_applies_it() {
    assert_eq!(
        ordered("flyway", Framework::Flyway, "migrations/"),
        [
            "V1__create_accounts.sql",
            "V2__widen_account_country_code.sql",
            "V3__accounts_id_to_bigint.sql",
            "V4__index_accounts_created_at.sql",
            "V5__create_invoices.sql",
            "U5__create_invoices.sql",
            "R__account_summary_view.sql",
        ]
    );
    assert_eq!(
        ordered("golang-migrate", Framework::GolangMigrate, "migrations/"),
        [
            "000001_create_customers.up.sql",
            "000001_create_customers.down.sql",
            "000002_create_orders.up.sql",
            "000002_create_orders.down.sql",
            "000003_orders_id_to_bigint.up.sql",
            "000003_orders_id_to_bigint.down.sql",
            "000004_add_orders_shipped_at.up.sql",
            "000004_add_orders_shipped_at.down.sql",
            "000005_index_orders_placed_at.up.sql",
            "000005_index_orders_placed_at.down.sql",
        ]
    );
    assert_eq!(
        ordered("goose", Framework::Goose, "migrations/"),
        [
            "00001_create_users.sql",
            "00002_create_sessions.sql",
            "00003_widen_users_username.sql",
            "00004_index_sessions_expires_at.sql",
        ]
    );
    assert_eq!(
        ordered("sqlx", Framework::Sqlx, "migrations/"),
        [
            "20240105093000_create_products.up.sql",
            "20240105093000_create_products.down.sql",
            "20240212141500_widen_product_sku.up.sql",
            "20240212141500_widen_product_sku.down.sql",
            "20240301080000_create_stock_movements.up.sql",
            "20240301080000_create_stock_movements.down.sql",
            "20240315110000_index_stock_movements_product.up.sql",
            "20240315110000_index_stock_movements_product.down.sql",
        ]
    );
    assert_eq!(
        ordered("diesel", Framework::Diesel, "migrations/"),
        [
            "00000000000000_diesel_initial_setup/up.sql",
            "00000000000000_diesel_initial_setup/down.sql",
            "2024-01-01-120000_create_users/up.sql",
            "2024-01-01-120000_create_users/down.sql",
            "2024-02-10-090000_create_posts/up.sql",
            "2024-02-10-090000_create_posts/down.sql",
            "2024-03-05-150000_posts_id_to_bigint/up.sql",
            "2024-03-05-150000_posts_id_to_bigint/down.sql",
            "2024-04-20-100000_index_posts_published_at/up.sql",
            "2024-04-20-100000_index_posts_published_at/down.sql",
        ]
    );
    assert_eq!(
        ordered("dbmate", Framework::Dbmate, "db/migrations/"),
        [
            "20240110120000_create_teams.sql",
            "20240110121500_create_memberships.sql",
            "20240202093000_widen_membership_role.sql",
            "20240303100000_index_memberships_user_email.sql",
        ]
    );
    assert_eq!(
        ordered("prisma", Framework::Prisma, "prisma/migrations/"),
        [
            "20240115103000_init/migration.sql",
            "20240220141000_add_post_published/migration.sql",
            "20240305090000_index_post_created_at/migration.sql",
        ]
    );
    assert_eq!(
        ordered("atlas", Framework::Atlas, "migrations/"),
        [
            "20240108120000_create_events.sql",
            "20240125093000_widen_event_kind.sql",
            "20240210160000_index_events_occurred_at.sql",
            "20240301101500_create_event_tags.sql",
        ]
    );
    assert_eq!(
        ordered("plain", Framework::Plain, "migrations/"),
        ["001_create_authors.sql", "002_create_books.sql", "003_books_id_to_bigint.sql", "004_index_books_title.sql"]
    );
    assert_eq!(
        ordered("mysql-flyway", Framework::Flyway, "migrations/"),
        [
            "V1__create_customers.sql",
            "V2__widen_customer_phone.sql",
            "V3__customers_id_to_bigint.sql",
            "V4__create_orders.sql",
            "U4__create_orders.sql",
        ]
    );
}

/// Every migration's layout, read with its sidecar: no marker problem in any project, and each
/// `CREATE INDEX CONCURRENTLY` outside a transaction except the one the golang-migrate project
/// runs inside one on purpose.
#[test]
fn concurrent_index_builds_run_outside_transactions_where_the_projects_say_so() {
    let mut in_transaction = Vec::new();
    for (name, dialect) in [
        ("flyway", Dialect::Postgres),
        ("golang-migrate", Dialect::Postgres),
        ("goose", Dialect::Postgres),
        ("sqlx", Dialect::Postgres),
        ("diesel", Dialect::Postgres),
        ("dbmate", Dialect::Postgres),
        ("prisma", Dialect::Postgres),
        ("atlas", Dialect::Postgres),
        ("plain", Dialect::Postgres),
        ("mysql-flyway", Dialect::MySql),
    ] {
        let (dir, files) = project(name);
        let fw = detect_project(&dir, &files);
        for entry in files.iter().filter_map(|p| classify(fw, p)) {
            let text = fs::read_to_string(dir.join(&entry.path)).expect("readable migration");
            let sidecar = sidecar_path(fw, &entry).and_then(|p| fs::read_to_string(dir.join(p)).ok());
            let layout = layout_for(fw, &entry, &text, sidecar.as_deref(), dialect);
            assert!(layout.problems.is_empty(), "{name}/{}: {:?}", entry.path, layout.problems);
            for (at, _) in text.match_indices("INDEX CONCURRENTLY") {
                let tx = layout.section_at(at).map(|s| s.tx);
                if tx == Some(TxMode::Transaction) {
                    in_transaction.push(format!("{name}/{}", entry.path));
                }
            }
        }
    }
    assert_eq!(in_transaction, ["golang-migrate/migrations/000004_add_orders_shipped_at.up.sql"]);
}
