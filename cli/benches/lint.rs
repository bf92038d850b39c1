//! `make bench`: the `sluice lint` release binary over a PostgreSQL corpus at 1x, 4x and 16x and a
//! MySQL corpus at 4x (wall time, user+sys CPU, peak RSS), against the floor: the bare parser over
//! every file of the same corpus, one thread. Prints one table and appends it to `BENCHMARKS.md`
//! with the date, the machine, the compiler and the command.
//!
//! Corpus: `../shared/corpus/{pg,mysql}` when that folder exists, otherwise migrations generated
//! from templates (same file counts). Scale `n` writes `n` copies, copy `k` under `c<k>/` with the
//! tables it creates renamed (`orders` becomes `orders_k<k>`), so every file differs and every
//! copy is its own migration directory. The corpus stays in `target/bench-corpus/` for profiling.
//!
//! Environment: `SLUICE_BENCH_SCALES` (default `1,4,16`), `SLUICE_BENCH_RUNS` (runs per row, default 5),
//! `SLUICE_BENCH_LSP` (a file holding `make bench-lsp` output, whose p50/p95 join the table),
//! `SLUICE_BENCH_BIN` (another `sluice` binary to time, e.g. an older build),
//! `SLUICE_BENCH_APPEND=0` to leave `BENCHMARKS.md` alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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

/// Table names that are also keywords or common column names are never renamed, so a renamed
/// copy parses exactly like the original.
const KEEP: &[&str] = &[
    "action",
    "content",
    "data",
    "date",
    "day",
    "domain",
    "event",
    "filter",
    "function",
    "group",
    "index",
    "key",
    "language",
    "level",
    "metadata",
    "mode",
    "name",
    "options",
    "order",
    "owner",
    "position",
    "public",
    "range",
    "result",
    "role",
    "row",
    "rows",
    "schema",
    "security",
    "sequence",
    "session",
    "source",
    "state",
    "statistics",
    "stats",
    "status",
    "system",
    "table",
    "target",
    "text",
    "time",
    "timestamp",
    "trigger",
    "type",
    "user",
    "value",
    "values",
    "version",
    "view",
    "window",
    "year",
    "zone",
];

/// One migration file of the base corpus: its directory (one migration history) and name.
struct BaseFile {
    dir: String,
    name: String,
    bytes: Vec<u8>,
}

/// Migrations generated from templates, `files` of them in one directory.
fn generated(templates: &[&str], files: usize, seed: usize) -> Vec<BaseFile> {
    (0..files)
        .map(|i| {
            let mut body = format!("-- Migration {i}: generated for benchmarking.\n");
            let n = 2 + (i * 7 + seed) % 5;
            for k in 0..n {
                let tpl = templates[(i * 31 + k * 17 + seed) % templates.len()];
                let t = format!("table_{}", (i + k) % 97);
                let c = format!("col_{}", (i * 3 + k) % 41);
                body.push_str(&tpl.replace("{t}", &t).replace("{c}", &c));
                body.push('\n');
            }
            BaseFile { dir: "generated".into(), name: format!("V{:05}__step.sql", i + 1), bytes: body.into_bytes() }
        })
        .collect()
}

/// One Flyway directory of `n` short migrations (`scripts/gen-migration-dir.py`): 500 tables,
/// then column additions with concurrent indexes, varchar widenings and new tables with foreign
/// keys, round-robin over them. A long history in one directory.
fn long_history(n: usize) -> Vec<BaseFile> {
    (1..=n)
        .map(|i| {
            let t = format!("t{}", i % 500);
            let sql = if i <= 500 {
                format!("CREATE TABLE {t} (id bigint PRIMARY KEY, name varchar(20) NOT NULL, created_at timestamptz DEFAULT now());\n")
            } else if i % 3 == 0 {
                format!("ALTER TABLE {t} ADD COLUMN c{i} int;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_c{i}_idx ON {t} (c{i});\n")
            } else if i % 3 == 1 {
                format!("ALTER TABLE {t} ALTER COLUMN name TYPE varchar({});\n", 20 + i)
            } else {
                format!("CREATE TABLE x{i} (id bigint PRIMARY KEY, {t}_id bigint REFERENCES {t}(id));\nCREATE INDEX ON x{i} ({t}_id);\n")
            };
            BaseFile { dir: "db".into(), name: format!("V{i}__m{i}.sql"), bytes: sql.into_bytes() }
        })
        .collect()
}

/// The files of `root/<dir>/<file>`, sorted.
fn shared_files(root: &Path) -> Vec<BaseFile> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else { return out };
    for d in dirs.flatten().filter(|d| d.path().is_dir()) {
        let dir = d.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(d.path()) else { continue };
        for f in files.flatten().filter(|f| f.path().is_file()) {
            if let Ok(bytes) = std::fs::read(f.path()) {
                out.push(BaseFile { dir: dir.clone(), name: f.file_name().to_string_lossy().into_owned(), bytes });
            }
        }
    }
    out.sort_by(|a, b| (&a.dir, &a.name).cmp(&(&b.dir, &b.name)));
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The ASCII words of `bytes` with their offsets (quotes, dots and non-ASCII bytes separate words).
fn words(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_word(bytes[i]) {
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            out.push((start, &bytes[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

/// Lower-case names of the tables `CREATE TABLE [IF NOT EXISTS] [schema.]name (` creates.
fn created_tables(files: &[&BaseFile]) -> HashSet<Vec<u8>> {
    let mut names = HashSet::new();
    for f in files {
        let w = words(&f.bytes);
        for (i, pair) in w.windows(2).enumerate() {
            if !(pair[0].1.eq_ignore_ascii_case(b"create") && pair[1].1.eq_ignore_ascii_case(b"table")) {
                continue;
            }
            let mut j = i + 2;
            if w.get(j).is_some_and(|x| x.1.eq_ignore_ascii_case(b"if")) {
                j += 3;
            }
            let Some(&(at, name)) = w.get(j) else { continue };
            // `schema.name`: the table is the word after the dot.
            let after = f.bytes.get(at + name.len()..).unwrap_or(&[]);
            let dotted = after.iter().take_while(|b| matches!(b, b'"' | b'`')).count();
            let (at, name) =
                if after.get(dotted) == Some(&b'.') { w.get(j + 1).copied().unwrap_or((at, name)) } else { (at, name) };
            // A column list must follow (`create table for ...` in a comment is no table).
            let rest = f.bytes.get(at + name.len()..).unwrap_or(&[]);
            let defines = rest.iter().find(|b| !matches!(b, b'"' | b'`' | b' ' | b'\t' | b'\r' | b'\n')) == Some(&b'(');
            let lower = name.to_ascii_lowercase();
            if defines
                && lower.len() >= 3
                && !lower[0].is_ascii_digit()
                && !KEEP.iter().any(|k| k.as_bytes() == lower.as_slice())
            {
                names.insert(lower);
            }
        }
    }
    names
}

/// `bytes` with every word naming one of `tables` suffixed by `suffix`.
fn rename(bytes: &[u8], tables: &HashSet<Vec<u8>>, suffix: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut last = 0;
    for (at, w) in words(bytes) {
        if tables.contains(&w.to_ascii_lowercase()) {
            out.extend_from_slice(&bytes[last..at + w.len()]);
            out.extend_from_slice(suffix.as_bytes());
            last = at + w.len();
        }
    }
    out.extend_from_slice(&bytes[last..]);
    out
}

/// Writes `scale` copies of `base` under `out` (`c<k>/<dir>/<name>`) and returns their paths.
fn write_scaled(base: &[BaseFile], out: &Path, scale: usize, config: Option<&str>) -> std::io::Result<Vec<PathBuf>> {
    let dirs: Vec<&str> = {
        let mut d: Vec<&str> = base.iter().map(|f| f.dir.as_str()).collect();
        d.dedup();
        d
    };
    let tables: Vec<HashSet<Vec<u8>>> =
        dirs.iter().map(|d| created_tables(&base.iter().filter(|f| f.dir == *d).collect::<Vec<_>>())).collect();
    let mut paths = Vec::with_capacity(base.len() * scale);
    for k in 0..scale {
        let copy = out.join(format!("c{k}"));
        if let Some(cfg) = config {
            std::fs::create_dir_all(&copy)?;
            std::fs::write(copy.join("sluice.toml"), cfg)?;
        }
        for (d, names) in dirs.iter().zip(&tables) {
            let dir = copy.join(d);
            std::fs::create_dir_all(&dir)?;
            for f in base.iter().filter(|f| f.dir == *d) {
                let path = dir.join(&f.name);
                if k == 0 {
                    std::fs::write(&path, &f.bytes)?;
                } else {
                    std::fs::write(&path, rename(&f.bytes, names, &format!("_k{k}")))?;
                }
                paths.push(path);
            }
        }
    }
    Ok(paths)
}

/// Wall, user+sys CPU and peak RSS of one run.
#[derive(Clone, Copy)]
struct Measure {
    wall: f64,
    cpu: f64,
    rss_mib: Option<f64>,
}

/// Runs `sluice lint --format json <dir>` under `/usr/bin/time`, `runs` times: the least wall and
/// CPU time, and the highest peak RSS (the memory target is a ceiling every run must keep).
/// `None` when the binary failed (exit code other than 0 or 1).
fn time_cli(bin: &Path, dir: &Path, threads: usize, runs: usize) -> Option<Measure> {
    let out = std::env::temp_dir().join(format!("sluice-bench-time-{}", std::process::id()));
    // Least wall and CPU time, highest peak RSS, over the runs so far.
    let mut kept: Option<Measure> = None;
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%U %S %M", "-o"])
            .arg(&out)
            .arg(bin)
            .args(["lint", "--format", "json"])
            .arg(dir)
            .env("RAYON_NUM_THREADS", threads.to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        let wall = t.elapsed().as_secs_f64();
        if !matches!(status.code(), Some(0 | 1)) {
            eprintln!("sluice lint {} exited with {status}", dir.display());
            return None;
        }
        let text = std::fs::read_to_string(&out).ok()?;
        let f: Vec<f64> = text.lines().last()?.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        let m = Measure { wall, cpu: f.first()? + f.get(1)?, rss_mib: f.get(2).map(|kib| kib / 1024.0) };
        kept = Some(match kept {
            None => m,
            Some(k) => Measure {
                wall: k.wall.min(m.wall),
                cpu: k.cpu.min(m.cpu),
                // A run whose RSS could not be read keeps the highest seen so far.
                rss_mib: match (k.rss_mib, m.rss_mib) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                },
            },
        });
    }
    std::fs::remove_file(&out).ok();
    kept
}

/// How `time_parse` parses.
#[derive(Clone, Copy, PartialEq)]
enum Parser {
    /// libpg_query's protobuf path, as `pg_query::parse` uses it (the PostgreSQL floor).
    PgQuery,
    /// The lint trees of Sluice's own encoder, as `sluice lint` parses (queries and expressions
    /// of DML statements and views, which lowering never reads, left out).
    PgDirect,
    /// sqlparser's MySQL dialect over every statement: a statement it rejects is skipped to its
    /// `;` and parsing goes on, as `sluice lint` does (the MySQL floor).
    Mysql,
    /// sqlparser's `parse_sql` per file, which stops at a file's first rejected statement.
    MysqlWholeFile,
}

/// Every statement of `text` through sqlparser's MySQL dialect, one tokenizer pass: after a
/// statement it rejects, parsing resumes after the next `;`. Returns the statements parsed.
fn mysql_every_statement(text: &str) -> usize {
    use sqlparser::tokenizer::Token;
    let dialect = sqlparser::dialect::MySqlDialect {};
    let Ok(mut parser) = sqlparser::parser::Parser::new(&dialect).try_with_sql(text) else {
        return 0;
    };
    let mut parsed = 0;
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            return parsed;
        }
        if let Ok(statement) = parser.parse_statement() {
            std::hint::black_box(statement);
            parsed += 1;
        }
        // The rest of the statement (after an error, or text sqlparser did not expect after it).
        while !matches!(parser.peek_token().token, Token::SemiColon | Token::EOF) {
            parser.next_token();
        }
    }
}

/// A bare parser over every file, one thread, in this process: best wall time of `runs`.
fn time_parse(paths: &[PathBuf], parser: Parser, runs: usize) -> Measure {
    let texts: Vec<String> =
        paths.iter().filter_map(|p| std::fs::read(p).ok()).map(|b| String::from_utf8_lossy(&b).into_owned()).collect();
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        for text in &texts {
            match parser {
                Parser::PgQuery => {
                    std::hint::black_box(sluice_core::parse::parse_pg_tree(text).map(|r| r.stmts.len()).ok());
                }
                Parser::PgDirect => {
                    std::hint::black_box(sluice_core::parse::parse_pg_lint_tree(text).map(|r| r.stmts.len()).ok());
                }
                Parser::Mysql => {
                    std::hint::black_box(mysql_every_statement(text));
                }
                Parser::MysqlWholeFile => {
                    std::hint::black_box(sluice_core::parse::parse_mysql_tree(text).map(|r| r.len()).ok());
                }
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    Measure { wall: best, cpu: best, rss_mib: None }
}

struct Row {
    corpus: String,
    files: usize,
    mb: f64,
    what: String,
    threads: usize,
    m: Measure,
    floor: Option<f64>,
    /// A `sluice lint` run (not a parser row).
    lint: bool,
}

impl Row {
    fn line(&self) -> String {
        format!(
            "| {:<16} | {:>6} | {:>6.1} | {:<39} | {:>7} | {:>7.2} | {:>7.2} | {:>9} | {:>14} |",
            self.corpus,
            self.files,
            self.mb,
            self.what,
            self.threads,
            self.m.wall,
            self.m.cpu,
            self.floor.map_or("-".into(), |f| format!("{:.2}x", self.m.cpu / f)),
            self.m.rss_mib.map_or("-".into(), |r| format!("{r:.0}")),
        )
    }
}

fn header() -> String {
    format!(
        "| {:<16} | {:>6} | {:>6} | {:<39} | {:>7} | {:>7} | {:>7} | {:>9} | {:>14} |\n|{:-<18}|{:->8}|{:->8}|{:-<41}|{:->9}|{:->9}|{:->9}|{:->11}|{:->16}|",
        "corpus", "files", "MB", "what", "threads", "wall s", "CPU s", "CPU/floor", "peak RSS MiB",
        "", "", "", "", "", "", "", "", ""
    )
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse::<f64>().ok())
        .map_or("? GiB".into(), |kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} logical CPUs (nproc), {ram_gib} RAM")
}

/// `p50` and `p95` of the edit latencies in `make bench-lsp` output.
fn lsp_latency(path: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.contains("publishDiagnostics") && l.contains("p95"))?;
    let grab = |key: &str| {
        let rest = line.split(key).nth(1)?;
        Some(rest.trim_start().split(',').next()?.trim().to_string())
    };
    Some((grab("p50")?, grab("p95")?))
}

fn main() {
    // `cargo bench` passes `--bench`; arguments are ignored.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| manifest.join("../target"), PathBuf::from);
    let bin = std::env::var_os("SLUICE_BENCH_BIN").map_or_else(|| target.join("release/sluice"), PathBuf::from);
    if !bin.is_file() {
        eprintln!("{} is missing: build it with `cargo build --release -p sluice` (make bench does)", bin.display());
        std::process::exit(2);
    }
    let scales: Vec<usize> = std::env::var("SLUICE_BENCH_SCALES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 16]);
    let runs: usize = std::env::var("SLUICE_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let shared = manifest.join("../../shared/corpus");
    let (pg_base, my_base, source) = if shared.join("pg").is_dir() && shared.join("mysql").is_dir() {
        (shared_files(&shared.join("pg")), shared_files(&shared.join("mysql")), "../shared/corpus")
    } else {
        (generated(PG_TEMPLATES, 1790, 1), generated(MYSQL_TEMPLATES, 539, 2), "generated from templates")
    };
    let root = target.join("bench-corpus");
    std::fs::remove_dir_all(&root).ok();

    let mut rows = Vec::new();
    let corpus = |name: String, base: &[BaseFile], scale: usize, postgres: bool, rows: &mut Vec<Row>| {
        let dir = root.join(&name);
        let config = (!postgres).then_some("dialect = \"mysql\"\n");
        let paths = match write_scaled(base, &dir, scale, config) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot write {}: {e}", dir.display());
                return;
            }
        };
        let mb = paths.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum::<u64>() as f64 / 1e6;
        let files = paths.len();
        eprintln!("{name}: {files} files, {mb:.1} MB");
        let floor = time_parse(&paths, if postgres { Parser::PgQuery } else { Parser::Mysql }, runs);
        let parser =
            if postgres { "floor: pg_query protobuf parse + decode" } else { "floor: sqlparser, every statement" };
        let row = Row {
            corpus: name.clone(),
            files,
            mb,
            what: parser.into(),
            threads: 1,
            m: floor,
            floor: None,
            lint: false,
        };
        rows.push(row);
        {
            let (m, what) = if postgres {
                (time_parse(&paths, Parser::PgDirect, runs), "parse: Sluice's lint trees + decode".into())
            } else {
                (time_parse(&paths, Parser::MysqlWholeFile, runs), "sqlparser parse_sql, to 1st error".into())
            };
            rows.push(Row {
                corpus: name.clone(),
                files,
                mb,
                what,
                threads: 1,
                m,
                floor: Some(floor.cpu),
                lint: false,
            });
        }
        let mut counts = vec![1];
        if threads > 1 {
            counts.push(threads);
        }
        for n in counts {
            if let Some(m) = time_cli(&bin, &dir, n, runs) {
                let what = "sluice lint --format json".into();
                rows.push(Row {
                    corpus: name.clone(),
                    files,
                    mb,
                    what,
                    threads: n,
                    m,
                    floor: Some(floor.cpu),
                    lint: true,
                });
            }
        }
    };
    for &s in &scales {
        corpus(format!("pg {s}x"), &pg_base, s, true, &mut rows);
    }
    let my_scale = 2000usize.div_ceil(my_base.len().max(1));
    corpus(format!("mysql {my_scale}x"), &my_base, my_scale, false, &mut rows);
    corpus("one dir, 10k".into(), &long_history(10_000), 1, true, &mut rows);

    let mut table = header();
    for r in &rows {
        table.push('\n');
        table.push_str(&r.line());
    }
    let lsp = std::env::var_os("SLUICE_BENCH_LSP").map(PathBuf::from);
    let lsp_line = match lsp.as_deref().and_then(lsp_latency) {
        Some((p50, p95)) => format!(
            "\n| {:<16} | {:>6} | {:>6} | {:<39} | {:>7} | {:>7} | {:>7} | {:>9} | {:>14} |",
            "lsp (bench-lsp)",
            1,
            "0.1",
            format!("edit p50 {p50}, p95 {p95}"),
            "-",
            "-",
            "-",
            "-",
            "-"
        ),
        None => String::new(),
    };
    table.push_str(&lsp_line);

    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let rustc = command_output(&std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()), &["--version"])
        .unwrap_or_else(|| "rustc ?".into());
    let summary = targets(&rows);
    let report = format!(
        "## {date}: `make bench`\n\nMachine: {}. Compiler: {rustc}, release profile. Corpus: {source} (PostgreSQL \
         {} files, MySQL {} files per copy), written to `target/bench-corpus/`. Command: `make bench`. {runs} runs: least \
         wall and CPU time (user+sys), highest peak RSS, from `/usr/bin/time`; the floor is one thread in-process.\n\n{table}\n\n{summary}\n",
        machine(),
        pg_base.len(),
        my_base.len(),
    );
    println!("\n{report}");
    if std::env::var("SLUICE_BENCH_APPEND").as_deref() != Ok("0") {
        let path = manifest.join("../BENCHMARKS.md");
        let appended = std::fs::read_to_string(&path).and_then(|old| {
            let sep = if old.ends_with("\n\n") {
                ""
            } else if old.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            std::fs::write(&path, format!("{old}{sep}{report}"))
        });
        match appended {
            Ok(()) => eprintln!("appended to {}", path.display()),
            Err(e) => eprintln!("cannot append to {}: {e}", path.display()),
        }
    }
}

/// The targets in words: CPU against the floor, scaling with cores and corpus size, memory.
fn targets(rows: &[Row]) -> String {
    let cli = |corpus: &str, threads: usize| rows.iter().find(|r| r.corpus == corpus && r.threads == threads && r.lint);
    let mut out = Vec::new();
    let worst = rows.iter().filter(|r| r.lint).filter_map(|r| Some(r.m.cpu / r.floor?)).fold(0.0f64, f64::max);
    out.push(format!("CPU against the floor: at most {worst:.2}x (target 1.5x)."));
    let pg: Vec<&Row> = rows.iter().filter(|r| r.corpus.starts_with("pg ") && r.lint && r.threads == 1).collect();
    if let Some((first, last)) = pg.first().zip(pg.last()).filter(|(f, l)| l.files > f.files) {
        let size = last.files as f64 / first.files as f64;
        out.push(format!(
            "Corpus size, one thread: {} files take {:.1}x the wall time and {:.1}x the CPU of {} ({size:.0}x the files).",
            last.files,
            last.m.wall / first.m.wall,
            last.m.cpu / first.m.cpu,
            first.files
        ));
    }
    let scaling: Vec<String> = rows
        .iter()
        .filter(|r| r.lint && r.threads > 1)
        .filter_map(|r| cli(&r.corpus, 1).map(|one| format!("{} {:.2}x", r.corpus, one.m.wall / r.m.wall)))
        .collect();
    if !scaling.is_empty() {
        out.push(format!("Speed-up from 1 thread to all cores: {}.", scaling.join(", ")));
    }
    if let Some(r) = rows.iter().find(|r| r.corpus.starts_with("pg ") && r.files >= 6000 && r.lint) {
        if let Some(rss) = rows.iter().filter(|x| x.corpus == r.corpus).filter_map(|x| x.m.rss_mib).reduce(f64::max) {
            out.push(format!("Peak RSS on {} ({} files): {rss:.0} MiB (target 100 MiB).", r.corpus, r.files));
        }
    }
    out.join(" ")
}
