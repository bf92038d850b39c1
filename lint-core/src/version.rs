//! Target server versions.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A PostgreSQL server version (`"15"`, `"14.3"`). A bare major version means the latest minor
/// release of that major ([`PgVersion::LATEST_MINOR`]): minor-release gates then count as fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PgVersion {
    pub major: u32,
    pub minor: u32,
}

impl PgVersion {
    /// The minor number stored for a bare major version such as `"15"`.
    pub const LATEST_MINOR: u32 = 999;
    pub const DEFAULT: PgVersion = PgVersion { major: 15, minor: Self::LATEST_MINOR };

    pub const fn new(major: u32, minor: u32) -> Self {
        PgVersion { major, minor }
    }

    /// True when this version is `major` or newer.
    pub fn at_least(self, major: u32) -> bool {
        self.major >= major
    }
}

impl Default for PgVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid version `{input}`: {reason}")]
pub struct VersionError {
    pub input: String,
    pub reason: &'static str,
}

fn numbers(s: &str, max_parts: usize) -> Option<Vec<u32>> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > max_parts {
        return None;
    }
    parts.iter().map(|p| p.parse::<u32>().ok()).collect()
}

impl FromStr for PgVersion {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| VersionError { input: s.to_string(), reason };
        let n = numbers(s.trim(), 2).ok_or_else(|| err("expected MAJOR or MAJOR.MINOR, e.g. \"15\" or \"14.3\""))?;
        let v = PgVersion { major: n[0], minor: n.get(1).copied().unwrap_or(Self::LATEST_MINOR) };
        if !(9..=30).contains(&v.major) {
            return Err(err("PostgreSQL major versions from 9 to 30 are supported"));
        }
        Ok(v)
    }
}

impl fmt::Display for PgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.minor == Self::LATEST_MINOR {
            write!(f, "{}", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum MySqlFlavor {
    MySql,
    MariaDb,
}

/// A MySQL or MariaDB server version (`"8.0.35"`, `"8.4"`, `"mariadb-10.11"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MySqlVersion {
    pub flavor: MySqlFlavor,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl MySqlVersion {
    pub const DEFAULT: MySqlVersion = MySqlVersion { flavor: MySqlFlavor::MySql, major: 8, minor: 0, patch: 35 };

    pub const fn mysql(major: u32, minor: u32, patch: u32) -> Self {
        MySqlVersion { flavor: MySqlFlavor::MySql, major, minor, patch }
    }

    pub const fn mariadb(major: u32, minor: u32, patch: u32) -> Self {
        MySqlVersion { flavor: MySqlFlavor::MariaDb, major, minor, patch }
    }

    pub fn is_mariadb(self) -> bool {
        self.flavor == MySqlFlavor::MariaDb
    }

    /// True for MySQL (not MariaDB) at or above `major.minor.patch`.
    pub fn mysql_at_least(self, major: u32, minor: u32, patch: u32) -> bool {
        self.flavor == MySqlFlavor::MySql && (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// True for MariaDB at or above `major.minor`.
    pub fn mariadb_at_least(self, major: u32, minor: u32) -> bool {
        self.flavor == MySqlFlavor::MariaDb && (self.major, self.minor) >= (major, minor)
    }
}

impl Default for MySqlVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for MySqlVersion {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| VersionError { input: s.to_string(), reason };
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        let (flavor, rest) = if let Some(r) = lower.strip_prefix("mariadb-").or_else(|| lower.strip_prefix("mariadb")) {
            (MySqlFlavor::MariaDb, r.trim_start_matches(['-', ' ']).to_string())
        } else {
            (MySqlFlavor::MySql, lower.strip_prefix("mysql-").unwrap_or(&lower).to_string())
        };
        let n = numbers(&rest, 3).ok_or_else(|| err("expected e.g. \"8.0.35\", \"8.4\" or \"mariadb-10.11\""))?;
        let v = MySqlVersion {
            flavor,
            major: n[0],
            minor: n.get(1).copied().unwrap_or(0),
            patch: n.get(2).copied().unwrap_or(0),
        };
        let ok = match flavor {
            MySqlFlavor::MySql => (5..=9).contains(&v.major),
            MySqlFlavor::MariaDb => (10..=12).contains(&v.major),
        };
        if !ok {
            return Err(err("MySQL 5.x to 9.x or MariaDB 10.x to 12.x are supported"));
        }
        // A MySQL version without a patch level means "the latest of that series" for gates.
        if flavor == MySqlFlavor::MySql && n.len() < 3 {
            return Ok(MySqlVersion { patch: 99, ..v });
        }
        Ok(v)
    }
}

impl fmt::Display for MySqlVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.flavor {
            MySqlFlavor::MySql => write!(f, "MySQL {}.{}.{}", self.major, self.minor, self.patch),
            MySqlFlavor::MariaDb => write!(f, "MariaDB {}.{}", self.major, self.minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!("14.3".parse::<PgVersion>().unwrap(), PgVersion::new(14, 3));
        assert_eq!("14".parse::<PgVersion>().unwrap().to_string(), "14");
        assert!("14".parse::<PgVersion>().unwrap() > PgVersion::new(14, 3));
        assert!("banana".parse::<PgVersion>().is_err());
        assert_eq!("8.0.35".parse::<MySqlVersion>().unwrap(), MySqlVersion::mysql(8, 0, 35));
        assert_eq!("mariadb-10.11".parse::<MySqlVersion>().unwrap(), MySqlVersion::mariadb(10, 11, 0));
        assert!("8.4".parse::<MySqlVersion>().unwrap().mysql_at_least(8, 0, 29));
        assert!("mariadb-3".parse::<MySqlVersion>().is_err());
    }
}
