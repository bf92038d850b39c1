//! `make bench`: lints a large corpus and reports files/s and MB/s, single-threaded and parallel,
//! against the parse-only floor, plus the `sluice lint` binary's wall and CPU time.
//!
//! Corpus: a generated set of realistic PostgreSQL and MySQL migrations (deterministic), plus
//! `../shared/corpus/{pg,mysql}` when that folder exists. Set `SLUICE_BENCH_FILES` to change the
//! generated PostgreSQL file count (default 5000; MySQL gets 2000).

use rayon::prelude::*;
use sluice_core::{Dialect, Settings};
use sluice_rules::LintConfig;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PG_TEMPLATES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS {t} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    account_id bigint NOT NULL REFERENCES accounts (id),\n    status text NOT NULL DEFAULT 'new',\n    payload jsonb,\n    created_at timestamptz NOT NULL DEFAULT now()\n);\nCREATE INDEX IF NOT EXISTS {t}_account_idx ON {t} (account_id);\n",
    "ALTER TABLE {t} ADD COLUMN {c} text;\nUPDATE {t} SET {c} = 'x' WHERE id < 1000;\n",
    "-- Speed up lookups by customer.\nCREATE INDEX {t}_{c}_idx ON {t} ({c});\n",
    "SET lock_timeout = '5s';\nALTER TABLE {t} ALTER COLUMN {c} TYPE bigint;\n",
    "ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY ({c}) REFERENCES users (id);\n",
    "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n",
    "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = '{c}_kind') THEN\n    CREATE TYPE {c}_kind AS ENUM ('a', 'b', 'c');\n  END IF;\nEND\n$$;\n",
    "CREATE OR REPLACE FUNCTION {t}_touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$fn$;\nCREATE TRIGGER {t}_touch BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_touch();\n",
    "ALTER TABLE {t} DROP COLUMN IF EXISTS {c};\n",
    "ALTER TABLE {t} RENAME COLUMN {c} TO {c}_old;\n",
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {t}_{c}_key ON {t} (lower({c}));\n",
    "COMMENT ON COLUMN {t}.{c} IS 'Customer-visible reference; see billing docs.';\nGRANT SELECT ON {t} TO reporting;\n",
    "INSERT INTO settings (key, value) VALUES ('{t}.{c}', 'on') ON CONFLICT (key) DO UPDATE SET value = excluded.value;\n",
];

const MYSQL_TEMPLATES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `{t}` (\n  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,\n  `account_id` BIGINT UNSIGNED NOT NULL,\n  `status` VARCHAR(32) NOT NULL DEFAULT 'new',\n  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  PRIMARY KEY (`id`),\n  KEY `{t}_account_idx` (`account_id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n",
    "ALTER TABLE `{t}` ADD COLUMN `{c}` VARCHAR(64) NULL, ALGORITHM=INSTANT;\n",
    "ALTER TABLE `{t}` MODIFY COLUMN `{c}` BIGINT NOT NULL;\n",
    "CREATE INDEX `{t}_{c}_idx` ON `{t}` (`{c}`);\n",
    "SET SESSION lock_wait_timeout = 5;\nALTER TABLE `{t}` DROP COLUMN `{c}`;\n",
    "UPDATE `{t}` SET `{c}` = 0 WHERE `{c}` IS NULL LIMIT 1000;\n",
    "ALTER TABLE `{t}` ADD CONSTRAINT `{t}_{c}_fk` FOREIGN KEY (`{c}`) REFERENCES `users` (`id`);\n",
    "RENAME TABLE `{t}` TO `{t}_old`;\n",
];

fn generate(dir: &Path, templates: &[&str], files: usize, seed: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for i in 0..files {
        let mut body = format!("-- Migration {i}: generated for benchmarking.\n");
        let n = 2 + (i * 7 + seed) % 5;
        for k in 0..n {
            let tpl = templates[(i * 31 + k * 17 + seed) % templates.len()];
            let t = format!("table_{}", (i + k) % 97);
            let c = format!("col_{}", (i * 3 + k) % 41);
            body.push_str(&tpl.replace("{t}", &t).replace("{c}", &c));
            body.push('\n');
        }
        std::fs::write(dir.join(format!("V{:05}__step.sql", i + 1)), body)?;
    }
    Ok(())
}

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(sql_files(&p));
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
    out.sort();
    out
}

struct Row {
    label: String,
    files: usize,
    bytes: usize,
    elapsed: Duration,
}

impl Row {
    fn print(&self) {
        let s = self.elapsed.as_secs_f64();
        println!(
            "| {:<52} | {:>6} | {:>7.2} | {:>9.3} | {:>10.0} | {:>7.2} |",
            self.label,
            self.files,
            self.bytes as f64 / 1e6,
            s,
            self.files as f64 / s,
            self.bytes as f64 / 1e6 / s
        );
    }
}

fn best_of<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn bench_corpus(name: &str, dialect: Dialect, files: &[PathBuf]) -> Vec<Row> {
    let data: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = data.iter().map(Vec::len).sum();
    let config = LintConfig { settings: Settings { dialect, ..Settings::default() }, ..LintConfig::default() };
    let n = data.len();
    let parse_one = |d: &Vec<u8>| {
        let text = String::from_utf8_lossy(d);
        std::hint::black_box(sluice_core::parse_file(&text, dialect).statements.len());
    };
    let lint_one = |d: &Vec<u8>| {
        std::hint::black_box(sluice_rules::lint_bytes(d, &config).diagnostics.len());
    };
    let mut rows = Vec::new();
    let t = best_of(3, || data.iter().for_each(parse_one));
    rows.push(Row { label: format!("{name}: parse only (floor), 1 thread"), files: n, bytes, elapsed: t });
    let t = best_of(3, || data.iter().for_each(lint_one));
    rows.push(Row { label: format!("{name}: lint, 1 thread"), files: n, bytes, elapsed: t });
    let threads = rayon::current_num_threads();
    let t = best_of(3, || data.par_iter().for_each(lint_one));
    rows.push(Row { label: format!("{name}: lint, {threads} threads (rayon)"), files: n, bytes, elapsed: t });
    rows
}

/// CPU time (user+sys) of waited-for children so far, from /proc (Linux).
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit(')').next()?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, cutime is 16 and cstime 17 (1-based in proc(5)).
    let cutime: u64 = f.get(13)?.parse().ok()?;
    let cstime: u64 = f.get(14)?.parse().ok()?;
    Some(Duration::from_millis((cutime + cstime) * 10))
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let _ = rayon::ThreadPoolBuilder::new().stack_size(sluice_core::RECOMMENDED_STACK_SIZE).build_global();
    let tmp = std::env::temp_dir().join(format!("sluice-bench-{}", std::process::id()));
    let pg_files: usize = std::env::var("SLUICE_BENCH_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let pg_dir = tmp.join("pg");
    let my_dir = tmp.join("mysql");
    if let Err(e) =
        generate(&pg_dir, PG_TEMPLATES, pg_files, 1).and_then(|()| generate(&my_dir, MYSQL_TEMPLATES, 2000, 2))
    {
        eprintln!("cannot generate the corpus in {}: {e}", tmp.display());
        return;
    }
    std::fs::write(my_dir.join("sluice.toml"), "dialect = \"mysql\"\n").ok();

    println!(
        "Machine: {} logical CPUs; rayon threads: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rayon::current_num_threads()
    );
    println!();
    println!(
        "| {:<52} | {:>6} | {:>7} | {:>9} | {:>10} | {:>7} |",
        "corpus / mode", "files", "MB", "seconds", "files/s", "MB/s"
    );
    println!("|{:-<54}|{:-<8}|{:-<9}|{:-<11}|{:-<12}|{:-<9}|", "", "", "", "", "", "");
    let mut rows = Vec::new();
    rows.extend(bench_corpus("generated pg", Dialect::Postgres, &sql_files(&pg_dir)));
    rows.extend(bench_corpus("generated mysql", Dialect::MySql, &sql_files(&my_dir)));
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if shared.is_dir() {
        rows.extend(bench_corpus("shared/corpus/pg", Dialect::Postgres, &sql_files(&shared.join("pg"))));
        rows.extend(bench_corpus("shared/corpus/mysql", Dialect::MySql, &sql_files(&shared.join("mysql"))));
    }
    for r in &rows {
        r.print();
    }

    // The real binary over the generated PostgreSQL directory.
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/sluice");
    if bin.is_file() {
        let before = children_cpu().unwrap_or_default();
        let t = Instant::now();
        let status = std::process::Command::new(&bin)
            .args(["lint", "--format", "json"])
            .arg(&pg_dir)
            .stdout(std::process::Stdio::null())
            .status();
        let wall = t.elapsed();
        let cpu = children_cpu().unwrap_or_default().saturating_sub(before);
        if let Ok(s) = status {
            println!();
            println!(
                "`sluice lint --format json` on {pg_files} generated files: exit {:?}, wall {:.3} s, CPU {:.3} s ({:.3} s CPU per 1,000 files)",
                s.code(),
                wall.as_secs_f64(),
                cpu.as_secs_f64(),
                cpu.as_secs_f64() * 1000.0 / pg_files as f64
            );
        }
    } else {
        println!("\n(build the release binary with `make build` to time the CLI too)");
    }
    std::fs::remove_dir_all(&tmp).ok();
}
