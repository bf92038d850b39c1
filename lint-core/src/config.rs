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
    pub level: RuleLevel,
    /// Span of the rule name in the config text (for "unknown rule" errors).
    pub span: Span,
}

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
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
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
        for (name, level) in raw.rules {
            let key = format!("rules.{}", name.get_ref());
            let lvl = match level.get_ref().as_str() {
                "off" => RuleLevel::Off,
                other => RuleLevel::Severity(other.parse().map_err(|_| {
                    err(
                        format!("invalid level `{other}`: expected \"off\", \"info\", \"warning\" or \"error\""),
                        &key,
                        level.span(),
                    )
                })?),
            };
            cfg.rules.push(RuleSetting { name: name.get_ref().clone(), level: lvl, span: name.span().into() });
        }
        Ok(cfg)
    }
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
        assert_eq!(c.rules[0].level, RuleLevel::Off);
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
}
