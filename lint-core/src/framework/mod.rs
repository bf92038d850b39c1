//! Migration tools and how they run a file: which files are migrations, in what order they apply,
//! which part of a file is the up or the down migration, and whether it runs inside a transaction.
//!
//! Pure functions over paths and texts; the caller reads the files:
//!
//! * [`detect`] names the tool from the files of a migrations directory;
//! * [`classify`] says which paths are migrations of a tool, with their version and role;
//! * [`apply_order`] sorts them the way the tool applies them;
//! * [`layout`] splits one file into up and down sections and says whether each runs in a
//!   transaction, reading the tool's markers (`-- +goose Up`, `-- migrate:down transaction:false`,
//!   `-- no-transaction`, `-- atlas:txmode none`) and its per-file settings ([`sidecar_path`]:
//!   Flyway's `<file>.sql.conf`, diesel's `metadata.toml`).

mod detect;
mod layout;
mod names;
mod order;

pub use detect::detect;
pub use layout::{layout, layout_for, sidecar_path};
pub use names::classify;
pub use order::apply_order;

use crate::span::Span;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A migration tool whose layout and conventions Sluice models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// No tool: every `.sql` file is one up migration, applied in path order; whether it runs in a
    /// transaction comes from the `assume_in_transaction` setting.
    #[default]
    Plain,
    Flyway,
    GolangMigrate,
    Goose,
    Sqlx,
    Diesel,
    Dbmate,
    Prisma,
    Atlas,
}

impl Framework {
    pub const ALL: [Framework; 9] = [
        Framework::Plain,
        Framework::Flyway,
        Framework::GolangMigrate,
        Framework::Goose,
        Framework::Sqlx,
        Framework::Diesel,
        Framework::Dbmate,
        Framework::Prisma,
        Framework::Atlas,
    ];

    /// The name used in `sluice.toml` (`framework = "golang-migrate"`).
    pub fn name(self) -> &'static str {
        match self {
            Framework::Plain => "plain",
            Framework::Flyway => "flyway",
            Framework::GolangMigrate => "golang-migrate",
            Framework::Goose => "goose",
            Framework::Sqlx => "sqlx",
            Framework::Diesel => "diesel",
            Framework::Dbmate => "dbmate",
            Framework::Prisma => "prisma",
            Framework::Atlas => "atlas",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Framework::ALL
            .into_iter()
            .find(|f| f.name() == lower || (lower == "migrate" && *f == Framework::GolangMigrate))
            .ok_or_else(|| {
                let names: Vec<String> = Framework::ALL.iter().map(|f| format!("\"{}\"", f.name())).collect();
                format!("unknown framework `{s}`: expected \"auto\", {}", names.join(", "))
            })
    }
}

/// `framework = "auto" | name` in `sluice.toml`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum FrameworkSetting {
    /// Detect the tool from the layout of the migrations directory.
    #[default]
    Auto,
    Fixed(Framework),
}

impl FromStr for FrameworkSetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auto") {
            Ok(FrameworkSetting::Auto)
        } else {
            s.parse().map(FrameworkSetting::Fixed)
        }
    }
}

/// Which way a migration (or a section of one) goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Up,
    /// A rollback: golang-migrate/sqlx `.down.sql`, diesel `down.sql`, goose `-- +goose Down`,
    /// dbmate `-- migrate:down`, Flyway `U__` undo migrations.
    Down,
}

/// The role a file plays for its migration tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    /// Applied once, in version order. May hold both an up and a down section (goose, dbmate).
    Versioned,
    /// Flyway `R__`: re-applied after the versioned migrations whenever its checksum changes.
    Repeatable,
    /// A file that only holds a rollback (`.down.sql`, `down.sql`, Flyway `U__`).
    Down,
}

/// One migration file as its tool sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationEntry {
    /// The path relative to the migrations root, with `/` separators.
    pub path: String,
    /// The version the tool orders by (`"1.2"`, `"20240101120000"`, `"0003"`), empty for
    /// repeatable migrations.
    pub version: String,
    /// The human part of the name (`add_users`).
    pub description: String,
    pub role: FileRole,
    /// The tool whose conventions named this file; [`apply_order`] compares versions its way.
    pub framework: Framework,
}

/// Whether a section runs inside a transaction the tool opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxMode {
    /// The tool wraps the section in a transaction (or sends it as one multi-statement query,
    /// which PostgreSQL runs as one implicit transaction).
    Transaction,
    /// The tool runs each statement on its own (`-- +goose NO TRANSACTION`, sqlx
    /// `-- no-transaction`, dbmate `transaction:false`, `-- atlas:txmode none`, ...).
    NoTransaction,
    /// The tool does not decide; the `assume_in_transaction` setting does.
    Setting,
}

/// A contiguous part of a file with one direction and transaction mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Byte range of the section in the file (the marker comment included).
    pub span: Span,
    pub direction: Direction,
    pub tx: TxMode,
}

/// How a file splits into sections, plus problems with its markers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileLayout {
    /// Sections in file order; together they cover the file. Never empty for a non-empty file.
    pub sections: Vec<Section>,
    /// Marker problems (an unknown `-- +goose` annotation, a down section before the up...).
    pub problems: Vec<LayoutProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LayoutProblem {
    pub span: Span,
    pub message: String,
}

impl FileLayout {
    /// One up section covering the whole text, with the given transaction mode.
    pub fn single(len: usize, direction: Direction, tx: TxMode) -> FileLayout {
        FileLayout { sections: vec![Section { span: Span::new(0, len), direction, tx }], problems: Vec::new() }
    }

    /// The section holding byte offset `at` (the last section for offsets past the end).
    pub fn section_at(&self, at: usize) -> Option<&Section> {
        let i = self.sections.partition_point(|s| s.span.start <= at);
        self.sections.get(i.saturating_sub(1))
    }
}
