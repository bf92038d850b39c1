//! The order in which a tool applies its migrations.
//!
//! Versioned migrations come first, by version compared the way the tool compares it:
//!
//! * Flyway: numerically part by part, `1.10` after `1.9`, a missing part counting as `0` (`1` and
//!   `1.0` are the same version); `_` and `.` separate parts alike;
//! * golang-migrate, goose, sqlx: as integers (`9` before `10`, leading zeros ignored);
//! * dbmate: by file name, as text (dbmate sorts the file names);
//! * diesel: the version string as text (the directory name up to its first `_`, dashes removed);
//! * Prisma: the directory name as text;
//! * Atlas: the version (the file name up to its first `_`) as text;
//! * plain: the path as text.
//!
//! Flyway repeatable migrations follow, by description. A rollback file (`.down.sql`, diesel
//! `down.sql`, Flyway `U` undo migration) is placed right after the up migration of the same
//! version: it is not part of an up run, and the pairing keeps listings readable. Code replaying
//! the schema changes of an up run skips [`FileRole::Down`] entries (and down sections of files).
//! Ties (the same version twice, which the tools themselves reject) are broken by path, so the
//! order is always deterministic.

use super::names::base_name;
use super::{FileRole, Framework, MigrationEntry};
use std::cmp::Ordering;

/// Sorts `entries` into the order their tool applies them (see the module documentation).
pub fn apply_order(entries: &mut [MigrationEntry]) {
    entries.sort_by(compare);
}

fn compare(a: &MigrationEntry, b: &MigrationEntry) -> Ordering {
    let repeatable = |e: &MigrationEntry| e.role == FileRole::Repeatable;
    let down = |e: &MigrationEntry| e.role == FileRole::Down;
    repeatable(a)
        .cmp(&repeatable(b))
        .then_with(|| {
            if repeatable(a) && repeatable(b) {
                a.description.cmp(&b.description)
            } else {
                a.framework.cmp(&b.framework).then_with(|| compare_versions(a, b))
            }
        })
        .then_with(|| down(a).cmp(&down(b)))
        .then_with(|| a.path.cmp(&b.path))
}

fn compare_versions(a: &MigrationEntry, b: &MigrationEntry) -> Ordering {
    match a.framework {
        Framework::Flyway => compare_dotted(&a.version, &b.version),
        Framework::GolangMigrate | Framework::Goose | Framework::Sqlx => compare_integers(&a.version, &b.version),
        Framework::Dbmate => base_name(&a.path).cmp(base_name(&b.path)),
        Framework::Diesel | Framework::Prisma | Framework::Atlas | Framework::Plain => a.version.cmp(&b.version),
    }
}

/// Compares two strings of ASCII digits by the integers they denote, whatever their length.
fn compare_integers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares Flyway versions part by part; a missing part counts as zero.
fn compare_dotted(a: &str, b: &str) -> Ordering {
    let mut a = a.split(['.', '_']);
    let mut b = b.split(['.', '_']);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => match compare_integers(x.unwrap_or("0"), y.unwrap_or("0")) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::classify;

    fn ordered(fw: Framework, paths: &[&str]) -> Vec<String> {
        let mut entries: Vec<MigrationEntry> = paths.iter().filter_map(|p| classify(fw, p)).collect();
        apply_order(&mut entries);
        entries.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn integers_and_dotted_versions() {
        assert_eq!(compare_integers("9", "10"), Ordering::Less);
        assert_eq!(compare_integers("0010", "10"), Ordering::Equal);
        assert_eq!(compare_integers("99999999999999999999999", "100000000000000000000000"), Ordering::Less);
        assert_eq!(compare_dotted("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_dotted("1_1", "1.1"), Ordering::Equal);
        assert_eq!(compare_dotted("1", "1.0"), Ordering::Equal);
        assert_eq!(compare_dotted("1", "1.0.1"), Ordering::Less);
        assert_eq!(compare_dotted("2024.01.02", "2024.1.10"), Ordering::Less);
    }

    #[test]
    fn flyway_versions_numeric_then_repeatables_by_description() {
        let got = ordered(
            Framework::Flyway,
            &["R__b_view.sql", "V1.10__c.sql", "V1.9__b.sql", "R__a_func.sql", "U1.9__b.sql", "V1__a.sql", "V2__d.sql"],
        );
        assert_eq!(
            got,
            ["V1__a.sql", "V1.9__b.sql", "U1.9__b.sql", "V1.10__c.sql", "V2__d.sql", "R__a_func.sql", "R__b_view.sql"]
        );
    }

    #[test]
    fn integer_versions_with_down_after_up() {
        let got = ordered(Framework::GolangMigrate, &["10_c.up.sql", "9_b.down.sql", "9_b.up.sql", "0001_a.up.sql"]);
        assert_eq!(got, ["0001_a.up.sql", "9_b.up.sql", "9_b.down.sql", "10_c.up.sql"]);
        assert_eq!(ordered(Framework::Goose, &["10_b.sql", "2_a.sql"]), ["2_a.sql", "10_b.sql"]);
        assert_eq!(ordered(Framework::Sqlx, &["10_b.sql", "2_a.sql"]), ["2_a.sql", "10_b.sql"]);
    }

    #[test]
    fn text_ordered_tools() {
        // dbmate sorts file names as text, so `10_` comes before `2_`.
        assert_eq!(ordered(Framework::Dbmate, &["2_a.sql", "10_b.sql"]), ["10_b.sql", "2_a.sql"]);
        assert_eq!(ordered(Framework::Atlas, &["2_a.sql", "1_b.sql", "10_c.sql"]), ["1_b.sql", "10_c.sql", "2_a.sql"]);
        assert_eq!(
            ordered(
                Framework::Diesel,
                &["2024-02-01-000000_b/down.sql", "2024-02-01-000000_b/up.sql", "2024-01-01-000000_a/up.sql"]
            ),
            ["2024-01-01-000000_a/up.sql", "2024-02-01-000000_b/up.sql", "2024-02-01-000000_b/down.sql"]
        );
        assert_eq!(
            ordered(Framework::Prisma, &["m/20240201_b/migration.sql", "m/20240101_a/migration.sql"]),
            ["m/20240101_a/migration.sql", "m/20240201_b/migration.sql"]
        );
        assert_eq!(ordered(Framework::Plain, &["b/1.sql", "a/2.sql", "10.sql"]), ["10.sql", "a/2.sql", "b/1.sql"]);
    }
}
