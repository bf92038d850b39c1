//! File names: which paths are migrations of a tool, with their version, description and role.
//!
//! Each tool's rule, as the tool applies it:
//!
//! | tool | migration files | version |
//! |---|---|---|
//! | Flyway | `V<v>__<d>.sql`, `U<v>__<d>.sql` (undo), `R__<d>.sql` (repeatable) | dot- or underscore-separated numbers |
//! | golang-migrate | `<v>_<title>.up.sql`, `<v>_<title>.down.sql` | unsigned integer |
//! | sqlx | `<v>_<d>.sql`, or `<v>_<d>.up.sql` / `.down.sql` | integer |
//! | goose | `<v>_<name>.sql` | integer greater than zero |
//! | dbmate | `<digits>...sql` | the leading digits |
//! | diesel | `<dir>/up.sql`, `<dir>/down.sql` | `<dir>` up to its first `_`, dashes removed |
//! | Prisma | `<dir>/migration.sql` | the directory name |
//! | Atlas | `<v>_<name>.sql` (any `.sql` file of the directory) | the name up to its first `_` |
//! | plain | every `.sql` file | the path |
//!
//! Only the last path component (and, for diesel and Prisma, the directory holding the file) is
//! read, so paths may carry any leading directories (`db/migrations/...`).

use super::{FileRole, Framework, MigrationEntry};

/// The last component of a `/`-separated path.
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The name of the directory holding the file, when the path has one.
pub(crate) fn parent_name(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    parts.next();
    parts.next().filter(|p| !p.is_empty())
}

/// The leading ASCII digits of `s`.
pub(crate) fn leading_digits(s: &str) -> &str {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    &s[..n]
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The migration `path` is for tool `fw`, or `None` when the tool would not run it (READMEs,
/// seeds, Flyway `.conf` files, diesel `metadata.toml`, callbacks, files with a malformed name).
/// For [`Framework::Plain`] every `.sql` file is a versioned migration whose version is its path.
pub fn classify(fw: Framework, path: &str) -> Option<MigrationEntry> {
    let (version, description, role) = match fw {
        Framework::Plain => plain(path)?,
        Framework::Flyway => flyway(base_name(path))?,
        Framework::GolangMigrate => golang_migrate(base_name(path))?,
        Framework::Sqlx => sqlx(base_name(path))?,
        Framework::Goose => goose(base_name(path))?,
        Framework::Dbmate => dbmate(base_name(path))?,
        Framework::Diesel => diesel(path)?,
        Framework::Prisma => prisma(path)?,
        Framework::Atlas => atlas(base_name(path))?,
    };
    Some(MigrationEntry { path: path.to_string(), version, description, role, framework: fw })
}

type Parsed = (String, String, FileRole);

fn plain(path: &str) -> Option<Parsed> {
    let stem = base_name(path).strip_suffix(".sql")?;
    Some((path.to_string(), stem.to_string(), FileRole::Versioned))
}

/// A Flyway version (`1`, `1.1`, `1_1`, `2024.01.01`) in its dotted form, or `None` when Flyway
/// would reject it.
pub(crate) fn flyway_version(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split(['.', '_']).collect();
    parts.iter().all(|p| all_digits(p)).then(|| parts.join("."))
}

fn flyway(name: &str) -> Option<Parsed> {
    let stem = name.strip_suffix(".sql")?;
    if let Some(description) = stem.strip_prefix("R__") {
        return Some((String::new(), description.to_string(), FileRole::Repeatable));
    }
    let (role, rest) = if let Some(rest) = stem.strip_prefix('V') {
        (FileRole::Versioned, rest)
    } else {
        (FileRole::Down, stem.strip_prefix('U')?)
    };
    let (version, description) = rest.split_once("__")?;
    Some((flyway_version(version)?, description.to_string(), role))
}

/// `<digits>_<rest>` with the digits and the rest.
fn numbered(name: &str) -> Option<(&str, &str)> {
    let (version, rest) = name.split_once('_')?;
    all_digits(version).then_some((version, rest))
}

/// Splits `x.up.sql` / `x.down.sql` into `x` and the role.
fn up_down(name: &str) -> Option<(&str, FileRole)> {
    if let Some(stem) = name.strip_suffix(".up.sql") {
        Some((stem, FileRole::Versioned))
    } else {
        name.strip_suffix(".down.sql").map(|stem| (stem, FileRole::Down))
    }
}

fn golang_migrate(name: &str) -> Option<Parsed> {
    let (stem, role) = up_down(name)?;
    let (version, title) = numbered(stem)?;
    version.parse::<u64>().ok()?;
    Some((version.to_string(), title.to_string(), role))
}

fn sqlx(name: &str) -> Option<Parsed> {
    let (version, rest) = numbered(name)?;
    version.parse::<i64>().ok()?;
    let (description, role) = match up_down(rest) {
        Some(x) => x,
        None => (rest.strip_suffix(".sql")?, FileRole::Versioned),
    };
    Some((version.to_string(), description.to_string(), role))
}

fn goose(name: &str) -> Option<Parsed> {
    let stem = name.strip_suffix(".sql")?;
    let (version, description) = numbered(stem)?;
    if version.parse::<i64>().ok()? < 1 {
        return None;
    }
    Some((version.to_string(), description.to_string(), FileRole::Versioned))
}

fn dbmate(name: &str) -> Option<Parsed> {
    let stem = name.strip_suffix(".sql")?;
    let version = leading_digits(stem);
    if version.is_empty() {
        return None;
    }
    let rest = &stem[version.len()..];
    let description = rest.strip_prefix('_').unwrap_or(rest);
    Some((version.to_string(), description.to_string(), FileRole::Versioned))
}

/// The version diesel reads from a migration directory name (`2024-01-01-120000_x` ->
/// `20240101120000`), when the name starts with one.
pub(crate) fn diesel_version(dir: &str) -> Option<String> {
    let head = dir.split('_').next().unwrap_or(dir);
    let version: String = head.chars().filter(|&c| c != '-').collect();
    (all_digits(&version) && !dir.starts_with('.')).then_some(version)
}

fn diesel(path: &str) -> Option<Parsed> {
    let role = match base_name(path) {
        "up.sql" => FileRole::Versioned,
        "down.sql" => FileRole::Down,
        _ => return None,
    };
    let dir = parent_name(path)?;
    let version = diesel_version(dir)?;
    let description = dir.split_once('_').map_or("", |(_, d)| d);
    Some((version, description.to_string(), role))
}

fn prisma(path: &str) -> Option<Parsed> {
    if base_name(path) != "migration.sql" {
        return None;
    }
    let dir = parent_name(path)?;
    let description = dir.split_once('_').map_or("", |(_, d)| d);
    Some((dir.to_string(), description.to_string(), FileRole::Versioned))
}

fn atlas(name: &str) -> Option<Parsed> {
    let stem = name.strip_suffix(".sql")?;
    let (version, description) = stem.split_once('_').unwrap_or((stem, ""));
    if version.is_empty() {
        return None;
    }
    Some((version.to_string(), description.to_string(), FileRole::Versioned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fw: Framework, path: &str) -> Option<(String, String, FileRole)> {
        classify(fw, path).map(|e| {
            assert_eq!(e.path, path);
            assert_eq!(e.framework, fw);
            (e.version, e.description, e.role)
        })
    }

    fn some(v: &str, d: &str, r: FileRole) -> Option<(String, String, FileRole)> {
        Some((v.to_string(), d.to_string(), r))
    }

    #[test]
    fn flyway_names() {
        let fw = Framework::Flyway;
        assert_eq!(entry(fw, "db/V1__init.sql"), some("1", "init", FileRole::Versioned));
        assert_eq!(entry(fw, "V1.1__add_users.sql"), some("1.1", "add_users", FileRole::Versioned));
        assert_eq!(entry(fw, "V1_1__add_users.sql"), some("1.1", "add_users", FileRole::Versioned));
        assert_eq!(entry(fw, "V2024.01.01__x.sql"), some("2024.01.01", "x", FileRole::Versioned));
        assert_eq!(entry(fw, "V2__a__b.sql"), some("2", "a__b", FileRole::Versioned));
        assert_eq!(entry(fw, "U3__drop.sql"), some("3", "drop", FileRole::Down));
        assert_eq!(entry(fw, "R__views.sql"), some("", "views", FileRole::Repeatable));
        for bad in [
            "V1__init.sql.conf",
            "V__x.sql",
            "V1a__x.sql",
            "V1.__x.sql",
            "v1__x.sql",
            "V1_x.sql",
            "R_x.sql",
            "beforeMigrate.sql",
            "README.md",
            "V1__x.SQL",
        ] {
            assert_eq!(entry(fw, bad), None, "{bad}");
        }
    }

    #[test]
    fn golang_migrate_names() {
        let fw = Framework::GolangMigrate;
        assert_eq!(entry(fw, "000001_create_users.up.sql"), some("000001", "create_users", FileRole::Versioned));
        assert_eq!(entry(fw, "m/1_a.b.down.sql"), some("1", "a.b", FileRole::Down));
        assert_eq!(entry(fw, "20240101120000_x.up.sql"), some("20240101120000", "x", FileRole::Versioned));
        for bad in ["1_x.sql", "x_1.up.sql", "1x_a.up.sql", "99999999999999999999999_a.up.sql", "1.up.sql"] {
            assert_eq!(entry(fw, bad), None, "{bad}");
        }
    }

    #[test]
    fn sqlx_names() {
        let fw = Framework::Sqlx;
        assert_eq!(entry(fw, "20240101120000_users.sql"), some("20240101120000", "users", FileRole::Versioned));
        assert_eq!(entry(fw, "1_users.up.sql"), some("1", "users", FileRole::Versioned));
        assert_eq!(entry(fw, "1_users.down.sql"), some("1", "users", FileRole::Down));
        for bad in ["users.sql", "-1_users.sql", "1users.sql", "1_users.txt"] {
            assert_eq!(entry(fw, bad), None, "{bad}");
        }
    }

    #[test]
    fn goose_names() {
        let fw = Framework::Goose;
        assert_eq!(entry(fw, "00001_create_users.sql"), some("00001", "create_users", FileRole::Versioned));
        assert_eq!(entry(fw, "20230201093158_add.sql"), some("20230201093158", "add", FileRole::Versioned));
        for bad in ["0_init.sql", "seed.sql", "1.sql", "00002_x.go"] {
            assert_eq!(entry(fw, bad), None, "{bad}");
        }
    }

    #[test]
    fn dbmate_names() {
        let fw = Framework::Dbmate;
        assert_eq!(
            entry(fw, "20240101120000_create_users.sql"),
            some("20240101120000", "create_users", FileRole::Versioned)
        );
        assert_eq!(entry(fw, "1.sql"), some("1", "", FileRole::Versioned));
        assert_eq!(entry(fw, "12-init.sql"), some("12", "-init", FileRole::Versioned));
        assert_eq!(entry(fw, "schema.sql"), None);
    }

    #[test]
    fn diesel_names() {
        let fw = Framework::Diesel;
        let dir = "migrations/2024-01-01-120000_create_users";
        assert_eq!(entry(fw, &format!("{dir}/up.sql")), some("20240101120000", "create_users", FileRole::Versioned));
        assert_eq!(entry(fw, &format!("{dir}/down.sql")), some("20240101120000", "create_users", FileRole::Down));
        assert_eq!(
            entry(fw, "00000000000000_diesel_initial_setup/up.sql"),
            some("00000000000000", "diesel_initial_setup", FileRole::Versioned)
        );
        for bad in [&format!("{dir}/metadata.toml")[..], "up.sql", "docs/up.sql", "2024_x/other.sql"] {
            assert_eq!(entry(fw, bad), None, "{bad}");
        }
    }

    #[test]
    fn prisma_names() {
        let fw = Framework::Prisma;
        assert_eq!(
            entry(fw, "prisma/migrations/20240101120000_init/migration.sql"),
            some("20240101120000_init", "init", FileRole::Versioned)
        );
        assert_eq!(entry(fw, "prisma/migrations/migration_lock.toml"), None);
        assert_eq!(entry(fw, "migration.sql"), None);
        assert_eq!(entry(fw, "x/20240101120000_init/up.sql"), None);
    }

    #[test]
    fn atlas_and_plain_names() {
        assert_eq!(
            entry(Framework::Atlas, "20240101120000_init.sql"),
            some("20240101120000", "init", FileRole::Versioned)
        );
        assert_eq!(entry(Framework::Atlas, "1.sql"), some("1", "", FileRole::Versioned));
        assert_eq!(entry(Framework::Atlas, "atlas.sum"), None);
        assert_eq!(entry(Framework::Atlas, "_x.sql"), None);
        assert_eq!(
            entry(Framework::Plain, "db/001-users.sql"),
            some("db/001-users.sql", "001-users", FileRole::Versioned)
        );
        assert_eq!(entry(Framework::Plain, "db/notes.txt"), None);
    }
}
