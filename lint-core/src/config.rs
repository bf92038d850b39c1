//! `sluice.toml`: parsing and validation. Finding the file on disk is the caller's job (the core
//! does no IO); every error carries the byte span and key so the caller can name file, line and key.

use crate::diagnostic::Severity;
use crate::framework::FrameworkSetting;
use crate::span::Span;
use crate::version::{MySqlVersion, PgVersion};
use crate::Dialect;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// What `[rules]` sets a rule to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Off,
    Severity(Severity),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSetting {
    pub name: String,
    /// `None` when a `[rules.<name>]` table sets options but no `level`.
    pub level: Option<RuleLevel>,
    /// Span of the rule name in the config text (for "unknown rule" errors).
    pub span: Span,
}

/// A span of time as PostgreSQL reads a time parameter whose base unit is the millisecond
/// (`lock_timeout`, `statement_timeout`): `5000`, `'5s'`, `'500ms'`, `'1.5min'`, `'1 h'`.
/// Zero means "no limit" for those parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgDuration {
    pub millis: u64,
}

impl PgDuration {
    pub const fn from_millis(millis: u64) -> Self {
        PgDuration { millis }
    }

    /// Zero: the timeout is disabled.
    pub fn is_unlimited(self) -> bool {
        self.millis == 0
    }
}

impl std::fmt::Display for PgDuration {
    /// The largest unit that represents the value exactly: `5s`, `500ms`, `2min`, `0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.millis;
        if ms == 0 {
            return f.write_str("0");
        }
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1_000)] {
            if ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl std::str::FromStr for PgDuration {
    type Err = String;

    /// Parses a value the way PostgreSQL parses an integer parameter with the time unit `ms`:
    /// an integer (decimal, `0x` hexadecimal or `0`-prefixed octal) or a decimal fraction,
    /// optionally followed by whitespace and a case-sensitive unit (`us`, `ms`, `s`, `min`, `h`,
    /// `d`); no unit means milliseconds. Fractions are rounded to whole milliseconds; negative
    /// values and values above 2147483647 ms are out of range.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let (digits_end, value) = leading_number(t).ok_or_else(|| format!("`{text}` is not a duration"))?;
        let unit = t[digits_end..].trim_start();
        let per_unit_ms = match unit {
            "" | "ms" => 1.0,
            "us" => 0.001,
            "s" => 1_000.0,
            "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            other => {
                return Err(format!(
                    "unknown time unit `{other}` in `{text}`: expected us, ms, s, min, h or d (case-sensitive)"
                ))
            }
        };
        let ms = (value * per_unit_ms).round();
        if ms < 0.0 {
            return Err(format!("`{text}` is negative"));
        }
        if ms > f64::from(i32::MAX) {
            return Err(format!("`{text}` is out of range (at most 2147483647 ms)"));
        }
        // In range of u64 and integral after the checks above.
        Ok(PgDuration { millis: ms as u64 })
    }
}

/// The number at the start of `t` and where it ends, read like `strtol(.., 0)` falling back to
/// `strtod` for fractions and exponents (what PostgreSQL's `parse_int` does).
fn leading_number(t: &str) -> Option<(usize, f64)> {
    let b = t.as_bytes();
    let sign_len = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let negative = b.first() == Some(&b'-');
    let rest = &t[sign_len..];
    let signed = |v: f64| if negative { -v } else { v };
    let count = |s: &str, f: fn(&u8) -> bool| s.as_bytes().iter().take_while(|c| f(c)).count();
    if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        let n = count(hex, u8::is_ascii_hexdigit);
        let v = u64::from_str_radix(hex.get(..n)?, 16).ok()?;
        return Some((sign_len + 2 + n, signed(v as f64)));
    }
    let int_len = count(rest, u8::is_ascii_digit);
    let after = rest.as_bytes().get(int_len).copied();
    let fractional = matches!(after, Some(b'.' | b'e' | b'E'));
    if rest.starts_with('0') && int_len > 1 && !fractional {
        let n = count(rest, |c| (b'0'..=b'7').contains(c));
        let v = u64::from_str_radix(&rest[..n], 8).ok()?;
        return Some((sign_len + n, signed(v as f64)));
    }
    let mut end = int_len;
    if after == Some(b'.') {
        end += 1 + count(&rest[end + 1..], u8::is_ascii_digit);
    }
    if end == 0 || (end == 1 && int_len == 0) {
        return None;
    }
    if let Some(b'e' | b'E') = rest.as_bytes().get(end) {
        let exp = &rest[end + 1..];
        let exp_sign = usize::from(matches!(exp.as_bytes().first(), Some(b'+' | b'-')));
        let n = count(&exp[exp_sign..], u8::is_ascii_digit);
        if n > 0 {
            end += 1 + exp_sign + n;
        }
    }
    let v: f64 = rest[..end].parse().ok()?;
    Some((sign_len + end, signed(v)))
}

/// Options of individual rules, set in `[rules.<name>]` tables next to `level`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOptions {
    /// `[rules.lock-timeout-too-high] max`: the longest `lock_timeout` a migration may set
    /// (default 5s).
    pub lock_timeout_max: PgDuration,
    /// `[rules.mixed-contract-migration] require-contract-in-own-file`: a migration marked
    /// `-- sluice:phase contract` may hold only contract statements (default false).
    pub require_contract_in_own_file: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions { lock_timeout_max: PgDuration::from_millis(5_000), require_contract_in_own_file: false }
    }
}

/// The options each rule accepts besides `level`, by rule name.
pub const RULE_OPTION_KEYS: &[(&str, &[&str])] =
    &[("lock-timeout-too-high", &["max"]), ("mixed-contract-migration", &["require-contract-in-own-file"])];

/// A parsed configuration file. `None` means "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub dialect: Option<Dialect>,
    pub pg_version: Option<PgVersion>,
    pub mysql_version: Option<MySqlVersion>,
    pub assume_in_transaction: Option<bool>,
    /// `framework = "auto" | "flyway" | ...`.
    pub framework: Option<FrameworkSetting>,
    pub fail_on: Option<Severity>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub rules: Vec<RuleSetting>,
    /// Options given in `[rules.<name>]` tables (defaults for the rest).
    pub rule_options: RuleOptions,
}

/// A configuration error with the offending key and its span in the config text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    /// Dotted key path, e.g. `rules.drop-column` or `pg_version`.
    pub key: Option<String>,
    pub span: Option<Span>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    dialect: Option<Spanned<String>>,
    pg_version: Option<Spanned<toml::Value>>,
    mysql_version: Option<Spanned<toml::Value>>,
    assume_in_transaction: Option<bool>,
    framework: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<RawRuleEntry>>,
}

/// A `[rules]` entry: `name = "level"`, or a `[rules.name]` table with `level` and options.
enum RawRuleEntry {
    Level(String),
    Table(Vec<(Spanned<String>, Spanned<toml::Value>)>),
}

impl<'de> Deserialize<'de> for RawRuleEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawRuleEntry;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a level (\"off\", \"info\", \"warning\", \"error\") or a table with `level` and options")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawRuleEntry, E> {
                Ok(RawRuleEntry::Level(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawRuleEntry, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value::<Spanned<toml::Value>>()?));
                }
                Ok(RawRuleEntry::Table(entries))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn err(message: impl Into<String>, key: &str, span: std::ops::Range<usize>) -> ConfigError {
    ConfigError { message: message.into(), key: Some(key.to_string()), span: Some(span.into()) }
}

fn version_text(v: &Spanned<toml::Value>) -> Option<String> {
    match v.get_ref() {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

impl Config {
    /// Parses and validates a configuration text. Rule names are not checked here (the core does
    /// not know the rule set); callers check [`Config::rules`] against their registry.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            let key = message.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).map(str::to_string);
            ConfigError { message, key, span: e.span().map(Span::from) }
        })?;
        let mut cfg = Config { assume_in_transaction: raw.assume_in_transaction, ..Config::default() };
        if let Some(d) = raw.dialect {
            cfg.dialect = Some(d.get_ref().parse().map_err(|m: String| err(m, "dialect", d.span()))?);
        }
        if let Some(v) = raw.pg_version {
            let t = version_text(&v)
                .ok_or_else(|| err("expected a version string such as \"15\"", "pg_version", v.span()))?;
            cfg.pg_version =
                Some(t.parse().map_err(|e: crate::version::VersionError| err(e.to_string(), "pg_version", v.span()))?);
        }
        if let Some(v) = raw.mysql_version {
            let t = version_text(&v).ok_or_else(|| {
                err("expected a version string such as \"8.0.35\" or \"mariadb-10.11\"", "mysql_version", v.span())
            })?;
            cfg.mysql_version = Some(
                t.parse().map_err(|e: crate::version::VersionError| err(e.to_string(), "mysql_version", v.span()))?,
            );
        }
        if let Some(f) = raw.framework {
            cfg.framework = Some(f.get_ref().parse().map_err(|m: String| err(m, "framework", f.span()))?);
        }
        if let Some(f) = raw.fail_on {
            cfg.fail_on = Some(f.get_ref().parse().map_err(|m: String| err(m, "fail_on", f.span()))?);
        }
        for (list, key, out) in [(raw.include, "include", &mut cfg.include), (raw.exclude, "exclude", &mut cfg.exclude)]
        {
            for g in list {
                globset::Glob::new(g.get_ref()).map_err(|e| err(format!("invalid glob: {e}"), key, g.span()))?;
                out.push(g.into_inner());
            }
        }
        for (name, entry) in raw.rules {
            let key = format!("rules.{}", name.get_ref());
            let span = entry.span();
            let level = match entry.into_inner() {
                RawRuleEntry::Level(level) => Some(parse_level(&level, &key, span)?),
                RawRuleEntry::Table(entries) => {
                    let mut level = None;
                    for (option, value) in entries {
                        let option_key = format!("{key}.{}", option.get_ref());
                        if option.get_ref() == "level" {
                            let text = value.get_ref().as_str().ok_or_else(|| {
                                err("expected a level string such as \"warning\"", &option_key, value.span())
                            })?;
                            level = Some(parse_level(text, &option_key, value.span())?);
                        } else {
                            set_rule_option(&mut cfg.rule_options, name.get_ref(), &option, &value, &option_key)?;
                        }
                    }
                    level
                }
            };
            cfg.rules.push(RuleSetting { name: name.get_ref().clone(), level, span: name.span().into() });
        }
        Ok(cfg)
    }
}

fn parse_level(text: &str, key: &str, span: std::ops::Range<usize>) -> Result<RuleLevel, ConfigError> {
    match text {
        "off" => Ok(RuleLevel::Off),
        other => other.parse().map(RuleLevel::Severity).map_err(|_| {
            err(format!("invalid level `{other}`: expected \"off\", \"info\", \"warning\" or \"error\""), key, span)
        }),
    }
}

/// Applies one `[rules.<rule>]` option other than `level`.
fn set_rule_option(
    options: &mut RuleOptions,
    rule: &str,
    option: &Spanned<String>,
    value: &Spanned<toml::Value>,
    key: &str,
) -> Result<(), ConfigError> {
    match (rule, option.get_ref().as_str()) {
        ("lock-timeout-too-high", "max") => {
            options.lock_timeout_max = duration_option(value, key)?;
            Ok(())
        }
        ("mixed-contract-migration", "require-contract-in-own-file") => match value.get_ref() {
            toml::Value::Boolean(b) => {
                options.require_contract_in_own_file = *b;
                Ok(())
            }
            _ => Err(err("expected true or false".to_string(), key, value.span())),
        },
        (_, name) => {
            let accepted = RULE_OPTION_KEYS.iter().find(|(r, _)| *r == rule).map_or(&[][..], |(_, keys)| *keys);
            let message = if accepted.is_empty() {
                let with_options = RULE_OPTION_KEYS.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ");
                format!("unknown option `{name}`: `{rule}` accepts only `level` (rules with options: {with_options})")
            } else {
                let list = accepted.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                format!("unknown option `{name}` for rule `{rule}`: expected `level` or {list}")
            };
            Err(err(message, key, option.span()))
        }
    }
}

/// A duration option: a string in PostgreSQL syntax (`"2s"`, `"500ms"`) or an integer of
/// milliseconds.
fn duration_option(value: &Spanned<toml::Value>, key: &str) -> Result<PgDuration, ConfigError> {
    let parsed = match value.get_ref() {
        toml::Value::String(s) => s.parse(),
        toml::Value::Integer(i) => i.to_string().parse(),
        _ => Err("expected a duration such as \"2s\" or \"500ms\"".to_string()),
    };
    parsed.map_err(|m| err(format!("invalid duration: {m}"), key, value.span()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let c = Config::parse(
            "dialect = \"mysql\"\nmysql_version = \"mariadb-10.11\"\nassume_in_transaction = true\nfail_on = \"error\"\n[rules]\n\"drop-column\" = \"off\"\nrename-table = \"info\"\n",
        )
        .unwrap();
        assert_eq!(c.dialect, Some(Dialect::MySql));
        assert_eq!(c.mysql_version, Some(MySqlVersion::mariadb(10, 11, 0)));
        assert_eq!(c.fail_on, Some(Severity::Error));
        assert_eq!(c.rules.len(), 2);
        assert_eq!(c.rules[0].level, Some(RuleLevel::Off));
    }

    #[test]
    fn errors_name_key_and_span() {
        let text = "pg_version = \"15\"\nfail_on = \"loud\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("fail_on"));
        assert_eq!(e.span.unwrap().slice(text), "\"loud\"");

        let e = Config::parse("pg_versoin = 15\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("pg_versoin"));
        assert!(e.message.contains("unknown field"), "{}", e.message);

        let text = "[rules]\ndrop-column = \"loud\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.drop-column"));

        let e = Config::parse("pg_version = 15\n").unwrap();
        assert_eq!(e.pg_version, Some(PgVersion::new(15, PgVersion::LATEST_MINOR)));
        assert!(Config::parse("pg_version = \"fifteen\"\n").is_err());
    }
    #[test]
    fn durations_parse_like_postgresql() {
        let ms = |t: &str| t.parse::<PgDuration>().map(|d| d.millis);
        assert_eq!(ms("5000"), Ok(5000));
        assert_eq!(ms("5s"), Ok(5000));
        assert_eq!(ms(" 5 s "), Ok(5000));
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1min"), Ok(60_000));
        assert_eq!(ms("1.5min"), Ok(90_000));
        assert_eq!(ms("2h"), Ok(7_200_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("1500us"), Ok(2));
        assert_eq!(ms("0"), Ok(0));
        assert_eq!(ms("0x10"), Ok(16));
        assert_eq!(ms("010"), Ok(8));
        assert_eq!(ms("1e3"), Ok(1000));
        assert_eq!(ms("0.5s"), Ok(500));
        assert_eq!(ms(".5s"), Ok(500));
        assert!(ms("5S").is_err(), "units are case-sensitive");
        assert!(ms("5 sec").is_err());
        assert!(ms("5m").is_err());
        assert!(ms("-1").is_err());
        assert!(ms("s").is_err());
        assert!(ms("").is_err());
        assert!(ms("30d").is_err(), "above INT_MAX milliseconds");
        let show = |m: u64| PgDuration::from_millis(m).to_string();
        assert_eq!(
            (show(5000), show(500), show(90_000), show(120_000), show(0)),
            ("5s".into(), "500ms".into(), "90s".into(), "2min".into(), "0".into())
        );
    }

    #[test]
    fn rule_tables_set_level_and_options() {
        let text = "[rules]\ndrop-column = \"off\"\n[rules.lock-timeout-too-high]\nlevel = \"error\"\nmax = \"2s\"\n";
        let c = Config::parse(text).unwrap();
        assert_eq!(c.rules.len(), 2);
        let r = c.rules.iter().find(|r| r.name == "lock-timeout-too-high").unwrap();
        assert_eq!(r.level, Some(RuleLevel::Severity(Severity::Error)));
        assert_eq!(r.span.slice(text), "lock-timeout-too-high");
        assert_eq!(c.rule_options.lock_timeout_max, PgDuration::from_millis(2000));

        let c = Config::parse("[rules.lock-timeout-too-high]\nmax = 1500\n").unwrap();
        assert_eq!(c.rules[0].level, None);
        assert_eq!(c.rule_options.lock_timeout_max.millis, 1500);
        assert_eq!(Config::parse("").unwrap().rule_options.lock_timeout_max.millis, 5000);

        let text = "[rules.lock-timeout-too-high]\nmax = \"2 seconds\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.lock-timeout-too-high.max"));
        assert_eq!(e.span.unwrap().slice(text), "\"2 seconds\"");
        assert!(e.message.contains("unknown time unit `seconds`"), "{}", e.message);

        let text = "[rules.lock-timeout-too-high]\nmaximum = \"2s\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.lock-timeout-too-high.maximum"));
        assert_eq!(e.span.unwrap().slice(text), "maximum");
        assert!(e.message.contains("expected `level` or `max`"), "{}", e.message);

        let text = "[rules.drop-column]\nmax = \"2s\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.drop-column.max"));
        assert!(e.message.contains("accepts only `level`"), "{}", e.message);

        let text = "[rules.drop-column]\nlevel = \"loud\"\n";
        let e = Config::parse(text).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("rules.drop-column.level"));
        assert_eq!(e.span.unwrap().slice(text), "\"loud\"");

        let e = Config::parse("[rules.lock-timeout-too-high]\nmax = true\n").unwrap_err();
        assert!(e.message.contains("expected a duration"), "{}", e.message);
        let e = Config::parse("[rules]\ndrop-column = 3\n").unwrap_err();
        assert!(e.message.contains("a level"), "{}", e.message);
    }
}
