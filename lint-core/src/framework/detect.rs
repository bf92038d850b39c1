//! Naming the migration tool from the files of a migrations directory.
//!
//! Every tool gets a score, the number of files that only it would name or mark that way:
//!
//! * Flyway: `V<v>__x.sql`, `U<v>__x.sql`, `R__x.sql` and their `.sql.conf` files;
//! * diesel: `up.sql`, `down.sql` and `metadata.toml` in a directory named `<version>_<name>`;
//! * Prisma: `<dir>/migration.sql` and `migration_lock.toml`;
//! * golang-migrate or sqlx: `<digits>_x.up.sql` / `.down.sql`. Both tools read that name; it goes
//!   to sqlx when one of the files sampled starts with sqlx's `-- no-transaction` marker, to
//!   golang-migrate otherwise (the usual owner of the `.up.sql` / `.down.sql` convention; either
//!   runs a file of several statements as one transaction on PostgreSQL);
//! * goose, dbmate, Atlas, sqlx: `<digits>...sql`. A sample of these files (at most
//!   [`SAMPLE`]) is read: a `-- +goose Up` annotation counts for goose, a `-- migrate:up` marker
//!   for dbmate; unmarked files count for Atlas when the directory holds an `atlas.sum` (which
//!   counts too), else for sqlx when they start with `-- no-transaction` or carry sqlx's default
//!   14-digit timestamp version. The sample's shares are scaled to all such files.
//!
//! The highest score wins; no score, or a tie between the highest, gives [`Framework::Plain`].

use super::layout::{dbmate_marker, goose_annotation};
use super::names::{base_name, classify, diesel_version, leading_digits, parent_name};
use super::Framework;

/// How many files [`detect`] reads at most, for each of its two questions.
pub const SAMPLE: usize = 8;

/// The tool whose layout the files under a migrations root follow. `paths` are all files under the
/// root (relative, `/`-separated, any extension); `text_of` returns a file's text and is called
/// for a few of them only.
pub fn detect(paths: &[&str], text_of: &dyn Fn(&str) -> Option<String>) -> Framework {
    let mut sorted: Vec<&str> = paths.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut score = [0usize; Framework::ALL.len()];
    let mut add = |fw: Framework, n: usize| score[fw as usize] += n;
    let mut up_down = Vec::new();
    let mut numbered = Vec::new();
    let mut atlas_sum = false;
    for &path in &sorted {
        let name = base_name(path);
        let in_versioned_dir = parent_name(path).and_then(diesel_version).is_some();
        if classify(Framework::Flyway, path).is_some()
            || name.strip_suffix(".conf").is_some_and(|sql| classify(Framework::Flyway, sql).is_some())
        {
            add(Framework::Flyway, 1);
        } else if in_versioned_dir && matches!(name, "up.sql" | "down.sql" | "metadata.toml") {
            add(Framework::Diesel, 1);
        } else if name == "migration_lock.toml" || (name == "migration.sql" && parent_name(path).is_some()) {
            add(Framework::Prisma, 1);
        } else if name == "atlas.sum" {
            atlas_sum = true;
        } else if classify(Framework::GolangMigrate, path).is_some() {
            up_down.push(path);
        } else if classify(Framework::Dbmate, path).is_some() {
            numbered.push(path);
        }
    }

    if !up_down.is_empty() {
        let sqlx = sample(&up_down).into_iter().any(|p| text_of(p).is_some_and(|t| t.starts_with("-- no-transaction")));
        add(if sqlx { Framework::Sqlx } else { Framework::GolangMigrate }, up_down.len());
    }
    if atlas_sum {
        add(Framework::Atlas, 1);
    }
    if !numbered.is_empty() {
        let picked = sample(&numbered);
        let mut votes = [0usize; Framework::ALL.len()];
        for &path in &picked {
            let text = text_of(path).unwrap_or_default();
            let fw = if text.lines().any(|l| goose_annotation(l).is_some_and(|a| a.eq_ignore_ascii_case("up"))) {
                Framework::Goose
            } else if text.lines().any(|l| dbmate_marker(l).is_some()) {
                Framework::Dbmate
            } else if atlas_sum {
                Framework::Atlas
            } else if classify(Framework::Sqlx, path).is_some()
                && (text.starts_with("-- no-transaction") || leading_digits(base_name(path)).len() == 14)
            {
                Framework::Sqlx
            } else {
                continue;
            };
            votes[fw as usize] += 1;
        }
        for fw in Framework::ALL {
            // The sample's share of each tool, scaled to every numbered file, rounded half up.
            let share = votes[fw as usize] * numbered.len();
            add(fw, (2 * share + picked.len()) / (2 * picked.len()));
        }
    }

    let best = score.iter().copied().max().unwrap_or(0);
    let winners: Vec<Framework> = Framework::ALL.into_iter().filter(|&fw| score[fw as usize] == best).collect();
    match winners[..] {
        [fw] if best > 0 => fw,
        _ => Framework::Plain,
    }
}

/// At most [`SAMPLE`] paths spread evenly over `paths` (all of them when there are few).
fn sample<'a>(paths: &[&'a str]) -> Vec<&'a str> {
    if paths.len() <= SAMPLE {
        return paths.to_vec();
    }
    (0..SAMPLE).map(|i| paths[i * (paths.len() - 1) / (SAMPLE - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    fn run(files: &[(&str, &str)]) -> Framework {
        let texts: HashMap<&str, &str> = files.iter().copied().collect();
        let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        detect(&paths, &|p| texts.get(p).map(|t| t.to_string()))
    }

    #[test]
    fn each_tool_by_its_layout() {
        assert_eq!(run(&[("V1__init.sql", ""), ("V2__users.sql", ""), ("README.md", "")]), Framework::Flyway);
        assert_eq!(run(&[("R__views.sql", ""), ("V1_1__x.sql.conf", "")]), Framework::Flyway);
        assert_eq!(run(&[("000001_a.up.sql", ""), ("000001_a.down.sql", "")]), Framework::GolangMigrate);
        assert_eq!(
            run(&[("20240101120000_a.up.sql", "-- no-transaction\nSELECT 1;"), ("20240101120000_a.down.sql", "")]),
            Framework::Sqlx
        );
        assert_eq!(run(&[("20240101120000_users.sql", "CREATE TABLE u ();")]), Framework::Sqlx);
        assert_eq!(
            run(&[("00001_a.sql", "-- +goose Up\nSELECT 1;\n"), ("00002_b.sql", "-- +goose up\n")]),
            Framework::Goose
        );
        assert_eq!(run(&[("20240101120000_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n")]), Framework::Dbmate);
        assert_eq!(
            run(&[
                ("2024-01-01-120000_a/up.sql", ""),
                ("2024-01-01-120000_a/down.sql", ""),
                ("2024-01-01-120000_a/metadata.toml", "")
            ]),
            Framework::Diesel
        );
        assert_eq!(
            run(&[
                ("prisma/migrations/20240101120000_init/migration.sql", ""),
                ("prisma/migrations/migration_lock.toml", "")
            ]),
            Framework::Prisma
        );
        assert_eq!(run(&[("20240101120000_init.sql", "CREATE TABLE t ();"), ("atlas.sum", "h1:x")]), Framework::Atlas);
    }

    #[test]
    fn plain_when_nothing_fits_or_on_a_tie() {
        assert_eq!(run(&[]), Framework::Plain);
        assert_eq!(run(&[("001_users.sql", "CREATE TABLE u ();"), ("002_orders.sql", "")]), Framework::Plain);
        assert_eq!(run(&[("schema.sql", ""), ("seed.sql", "")]), Framework::Plain);
        assert_eq!(run(&[("V1__a.sql", ""), ("000001_a.up.sql", "")]), Framework::Plain);
    }

    #[test]
    fn an_unusual_mix_goes_to_the_majority() {
        assert_eq!(
            run(&[("V1__a.sql", ""), ("V2__b.sql", ""), ("V3__c.sql", ""), ("000004_d.up.sql", ""), ("seed.sql", "")]),
            Framework::Flyway
        );
        // A goose project with one file whose annotation is missing is still goose.
        assert_eq!(
            run(&[
                ("00001_a.sql", "-- +goose Up\nSELECT 1;"),
                ("00002_b.sql", "-- +goose Up\nSELECT 1;"),
                ("00003_c.sql", "SELECT 1;"),
            ]),
            Framework::Goose
        );
    }

    #[test]
    fn markers_are_read_line_by_line_like_the_tools_read_them() {
        // goose scans lines without lexing SQL: a marker alone on a line counts even inside a
        // string literal, an indented one never does.
        let text = "CREATE TABLE t (note text DEFAULT '\n-- +goose Up\n');";
        assert_eq!(run(&[("00001_a.sql", text)]), Framework::Goose);
        let indented = "CREATE FUNCTION f() RETURNS int AS $$\n  -- +goose Up\n  SELECT 1;\n$$ LANGUAGE sql;";
        assert_eq!(run(&[("00001_a.sql", indented)]), Framework::Plain);
    }

    #[test]
    fn reads_only_a_sample() {
        let names: Vec<String> = (1..=40).map(|i| format!("{i:05}_m.sql")).collect();
        let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "-- +goose Up\nSELECT 1;")).collect();
        let texts: HashMap<&str, &str> = files.iter().copied().collect();
        let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        let reads = RefCell::new(0usize);
        let fw = detect(&paths, &|p| {
            *reads.borrow_mut() += 1;
            texts.get(p).map(|t| t.to_string())
        });
        assert_eq!(fw, Framework::Goose);
        assert!(*reads.borrow() <= SAMPLE, "{} reads", reads.borrow());
    }
}
