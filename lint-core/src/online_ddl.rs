//! How MySQL and MariaDB (InnoDB) run each `ALTER TABLE` clause: instantly (metadata only), in
//! place (no copy by the server layer, possibly a rebuild inside InnoDB), or by copying the table
//! with writes blocked. The model is data: one `match` arm per clause kind, each citing the fact it
//! encodes, with the version gates of MySQL 8.0 and MariaDB 10.3/10.4.
//!
//! Facts (MySQL Reference Manual "Online DDL Operations"; MariaDB knowledge base "InnoDB Online
//! DDL Operations with ALGORITHM=INSTANT / INPLACE / NOCOPY"):
//!
//! | Clause | Best | Rebuilds | Concurrent DML |
//! |---|---|---|---|
//! | ADD COLUMN at the end | INSTANT from MySQL 8.0.12 / MariaDB 10.3, else INPLACE | INPLACE: yes | yes |
//! | ADD COLUMN with FIRST/AFTER | INSTANT from MySQL 8.0.29 / MariaDB 10.4, else INPLACE | INPLACE: yes | yes |
//! | ADD COLUMN ... AUTO_INCREMENT | INPLACE | yes | no |
//! | ADD COLUMN with an expression default `(expr)` | INPLACE (never INSTANT) | yes | yes |
//! | ADD COLUMN ... STORED generated | COPY | yes | no |
//! | ADD COLUMN ... VIRTUAL generated | INSTANT (MySQL 8.0.12 / MariaDB 10.3) | no | yes |
//! | DROP COLUMN | INSTANT from MySQL 8.0.29 / MariaDB 10.4, else INPLACE | INPLACE: yes | yes |
//! | RENAME COLUMN | INSTANT from MySQL 8.0.28, else INPLACE | no | yes |
//! | SET / DROP DEFAULT | INSTANT (INPLACE before instant DDL existed) | no | yes |
//! | MODIFY / CHANGE, old column unknown | COPY (a type change is assumed) | yes | no |
//! | MODIFY / CHANGE extending a VARCHAR, same length-prefix size | INPLACE | no | yes |
//! | MODIFY / CHANGE extending a VARCHAR across 255 bytes, or shortening it | COPY | yes | no |
//! | MODIFY / CHANGE appending ENUM/SET members, same storage size | INSTANT (INPLACE before) | no | yes |
//! | MODIFY / CHANGE removing, reordering ENUM/SET members or growing their storage | COPY | yes | no |
//! | CHANGE renaming only | as RENAME COLUMN | no | yes |
//! | MODIFY / CHANGE with another type or character set | COPY | yes | no |
//! | NULL / NOT NULL change | INPLACE | yes | yes |
//! | ADD INDEX / UNIQUE, DROP INDEX, RENAME INDEX | INPLACE | no | yes |
//! | ADD FULLTEXT | INPLACE | the first one may (no FTS_DOC_ID) | no |
//! | ADD SPATIAL | INPLACE | no | no |
//! | ADD PRIMARY KEY | INPLACE | yes | yes |
//! | DROP PRIMARY KEY alone | COPY | yes | no |
//! | DROP PRIMARY KEY + ADD PRIMARY KEY | INPLACE | yes | yes |
//! | ADD FOREIGN KEY | INPLACE with foreign_key_checks=0, else COPY | no | INPLACE: yes |
//! | DROP FOREIGN KEY / DROP CONSTRAINT | INPLACE | no | yes |
//! | ADD CHECK | COPY (MySQL 8.0.16+ and MariaDB 10.2+ validate rows; older MySQL ignores it) | yes | no |
//! | CONVERT TO CHARACTER SET | COPY | yes | no |
//! | ENGINE= / FORCE / ROW_FORMAT= / KEY_BLOCK_SIZE= / table charset | INPLACE | yes | yes |
//! | AUTO_INCREMENT= / COMMENT= / STATS_*= | INPLACE | no | yes |
//! | RENAME TABLE | INSTANT | no | yes |
//!
//! Whatever the algorithm, every ALTER also needs an exclusive metadata lock briefly; that is a
//! separate concern (`lock_wait_timeout`) and not modelled here.

use crate::catalog::{Column, Table};
use crate::ir::{
    self, AlterAction, AlterActionKind, ColumnDef, ConstraintKind, GeneratedKind, Ident, LockClause, TypeName,
    Volatility,
};
use crate::version::MySqlVersion;
use std::fmt;

/// The cheapest way the server can run an operation, ordered from cheap to expensive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// Metadata-only change.
    Instant,
    /// No copy by the server layer; InnoDB may still rebuild the table (see `rebuilds_table`).
    Inplace,
    /// Full table copy; writes are blocked for the whole copy.
    Copy,
}

impl Algorithm {
    /// The `ALGORITHM=` keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Algorithm::Instant => "INSTANT",
            Algorithm::Inplace => "INPLACE",
            Algorithm::Copy => "COPY",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// What the server does for one clause (or, combined, for a whole statement).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnlineDdl {
    /// The best algorithm the server can use.
    pub best: Algorithm,
    /// InnoDB rewrites every row (time and I/O proportional to the table size).
    pub rebuilds_table: bool,
    /// Reads and writes continue during the operation (`LOCK=NONE` is accepted).
    pub concurrent_dml: bool,
    /// Why, in a few words, suitable for a diagnostic message ("changes the column type ...").
    pub reason: &'static str,
}

impl OnlineDdl {
    pub const fn instant(reason: &'static str) -> Self {
        OnlineDdl { best: Algorithm::Instant, rebuilds_table: false, concurrent_dml: true, reason }
    }

    /// In place, metadata or index work only, concurrent DML allowed.
    pub const fn inplace(reason: &'static str) -> Self {
        OnlineDdl { best: Algorithm::Inplace, rebuilds_table: false, concurrent_dml: true, reason }
    }

    /// In place with a table rebuild, concurrent DML allowed.
    pub const fn inplace_rebuild(reason: &'static str) -> Self {
        OnlineDdl { best: Algorithm::Inplace, rebuilds_table: true, concurrent_dml: true, reason }
    }

    /// In place, but writes are blocked while it runs.
    pub const fn inplace_blocking(rebuilds_table: bool, reason: &'static str) -> Self {
        OnlineDdl { best: Algorithm::Inplace, rebuilds_table, concurrent_dml: false, reason }
    }

    pub const fn copy(reason: &'static str) -> Self {
        OnlineDdl { best: Algorithm::Copy, rebuilds_table: true, concurrent_dml: false, reason }
    }

    /// True when writes to the table wait for the whole operation (a copy, or an in-place
    /// operation that does not permit concurrent DML).
    pub fn blocks_writes(&self) -> bool {
        self.best == Algorithm::Copy || !self.concurrent_dml
    }

    /// Sort key: higher is worse for the application.
    fn cost(&self) -> (Algorithm, bool, bool) {
        (self.best, !self.concurrent_dml, self.rebuilds_table)
    }

    /// True when `self` costs more than `other`.
    pub fn is_worse_than(&self, other: &OnlineDdl) -> bool {
        self.cost() > other.cost()
    }
}

/// Server and session facts the model depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub version: MySqlVersion,
    /// `SET foreign_key_checks = 0` is in force: ADD FOREIGN KEY can then run in place.
    pub foreign_key_checks_off: bool,
}

impl Target {
    pub fn new(version: MySqlVersion) -> Self {
        Target { version, foreign_key_checks_off: false }
    }

    /// `ALGORITHM=INSTANT` exists: MySQL 8.0.12, MariaDB 10.3.
    pub fn has_instant(self) -> bool {
        self.version.mysql_at_least(8, 0, 12) || self.version.mariadb_at_least(10, 3)
    }

    /// Instant ADD COLUMN at the end of the table: MySQL 8.0.12, MariaDB 10.3.
    pub fn instant_add_column_at_end(self) -> bool {
        self.has_instant()
    }

    /// Instant ADD COLUMN anywhere (FIRST/AFTER): MySQL 8.0.29, MariaDB 10.4.
    pub fn instant_add_column_anywhere(self) -> bool {
        self.version.mysql_at_least(8, 0, 29) || self.version.mariadb_at_least(10, 4)
    }

    /// Instant DROP COLUMN: MySQL 8.0.29, MariaDB 10.4.
    pub fn instant_drop_column(self) -> bool {
        self.version.mysql_at_least(8, 0, 29) || self.version.mariadb_at_least(10, 4)
    }

    /// Instant RENAME COLUMN: MySQL 8.0.28, MariaDB 10.3 (a metadata-only change; confirmed on a
    /// MariaDB 10.11 server by the runner's agreement test).
    pub fn instant_rename_column(self) -> bool {
        self.version.mysql_at_least(8, 0, 28) || self.version.mariadb_at_least(10, 3)
    }

    /// CHECK constraints are enforced (and adding one validates every row): MySQL 8.0.16,
    /// MariaDB 10.2.1. Older MySQL parses and ignores them.
    pub fn enforces_check_constraints(self) -> bool {
        self.version.mysql_at_least(8, 0, 16) || self.version.mariadb_at_least(10, 2)
    }

    /// A column-level `REFERENCES` creates a foreign key: MySQL 9.0, MariaDB 10.5. Older servers
    /// parse it and silently ignore it.
    pub fn honours_inline_references(self) -> bool {
        self.version.mysql_at_least(9, 0, 0) || self.version.mariadb_at_least(10, 5)
    }

    /// Metadata-only work: instant where the server has instant DDL, else in place.
    fn metadata_only(self, reason: &'static str) -> OnlineDdl {
        if self.has_instant() {
            OnlineDdl::instant(reason)
        } else {
            OnlineDdl::inplace(reason)
        }
    }
}

/// The kind of a secondary index being added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    Plain,
    Unique,
    FullText,
    Spatial,
}

/// `ADD INDEX` / `CREATE INDEX` of the given kind.
pub fn add_index(kind: IndexKind) -> OnlineDdl {
    match kind {
        IndexKind::Plain => OnlineDdl::inplace("adds a secondary index, built in place"),
        IndexKind::Unique => OnlineDdl::inplace("adds a unique index, built in place"),
        // The first FULLTEXT index rebuilds the table when it has no FTS_DOC_ID column; which
        // one is first is not known here, so assume the rebuild.
        IndexKind::FullText => {
            OnlineDdl::inplace_blocking(true, "adds a FULLTEXT index, which blocks writes while it is built")
        }
        IndexKind::Spatial => {
            OnlineDdl::inplace_blocking(false, "adds a SPATIAL index, which blocks writes while it is built")
        }
    }
}

/// `DROP INDEX` (in ALTER TABLE or as its own statement): metadata only.
pub fn drop_index() -> OnlineDdl {
    OnlineDdl::inplace("drops an index (metadata only)")
}

/// `RENAME TABLE a TO b` / `ALTER TABLE a RENAME TO b`.
pub fn rename_table(target: Target) -> OnlineDdl {
    target.metadata_only("renames the table (metadata only)")
}

/// One `ALTER TABLE` clause. `None` for clauses that are not operations (`ALGORITHM=`, `LOCK=`)
/// and for clauses the model does not know (PostgreSQL-only actions, `Other`).
pub fn alter_action(kind: &AlterActionKind, target: Target) -> Option<OnlineDdl> {
    alter_action_in(kind, target, None)
}

/// One `ALTER TABLE` clause on `table`, the table as the migration history left it before the
/// statement: a `MODIFY`/`CHANGE` is then judged against the column's old definition (see
/// [`column_change`]). Without the table, or when the column is not known, a type change and so
/// a table copy is assumed.
pub fn alter_action_in(kind: &AlterActionKind, target: Target, table: Option<&Table>) -> Option<OnlineDdl> {
    use AlterActionKind as K;
    Some(match kind {
        K::AddColumn { column, .. } => add_column(column, target),
        K::DropColumn { .. } => {
            if target.instant_drop_column() {
                OnlineDdl::instant("drops a column (instant from MySQL 8.0.29 / MariaDB 10.4)")
            } else {
                OnlineDdl::inplace_rebuild("drops a column, which rebuilds the table in place on this version")
            }
        }
        K::RenameColumn { .. } => {
            if target.instant_rename_column() {
                OnlineDdl::instant("renames a column (instant from MySQL 8.0.28 / MariaDB 10.3)")
            } else {
                OnlineDdl::inplace("renames a column in place (metadata only)")
            }
        }
        K::AlterColumnType { column, new_type, new_definition, rename_to, .. }
            if table.and_then(|t| t.column(&column.name)).is_some() =>
        {
            let t = table?;
            let old = t.column(&column.name)?;
            column_change(old, t, new_type, new_definition.as_deref(), rename_to.as_ref(), target).ddl
        }
        K::AlterColumnType { new_type, new_definition, .. } => {
            let is_enum_or_set = matches!(new_type.name.as_str(), "enum" | "set");
            let moves = new_definition.as_ref().is_some_and(|d| d.position.is_some());
            if is_enum_or_set {
                OnlineDdl::copy(
                    "redefines an ENUM/SET column, and without the old definition a copy is assumed (only members appended at the end avoid one)",
                )
            } else if moves {
                OnlineDdl::copy(
                    "restates the column and moves it with FIRST/AFTER (a reorder alone rebuilds the table, a type change copies it)",
                )
            } else {
                OnlineDdl::copy(
                    "restates the column with MODIFY/CHANGE, and the old type is not known here (a type change copies the table)",
                )
            }
        }
        K::SetDefault { .. } => target.metadata_only("sets a column default (metadata only)"),
        K::DropDefault { .. } => target.metadata_only("drops a column default (metadata only)"),
        K::SetNotNull { .. } => {
            OnlineDdl::inplace_rebuild("makes a column NOT NULL, which rebuilds the table in place")
        }
        K::DropNotNull { .. } => {
            OnlineDdl::inplace_rebuild("makes a column nullable, which rebuilds the table in place")
        }
        K::AddConstraint(c) => match &c.kind {
            ConstraintKind::Check { .. } => add_check(target),
            ConstraintKind::ForeignKey { .. } => add_foreign_key(target),
            ConstraintKind::PrimaryKey => {
                OnlineDdl::inplace_rebuild("adds a primary key, which rebuilds the table in place")
            }
            ConstraintKind::Unique => add_index(IndexKind::Unique),
            ConstraintKind::Index { fulltext: true, .. } => add_index(IndexKind::FullText),
            ConstraintKind::Index { spatial: true, .. } => add_index(IndexKind::Spatial),
            ConstraintKind::Index { .. } => add_index(IndexKind::Plain),
            ConstraintKind::NotNull => {
                OnlineDdl::inplace_rebuild("makes a column NOT NULL, which rebuilds the table in place")
            }
            ConstraintKind::Exclusion => return None,
        },
        // MySQL's DROP CONSTRAINT / DROP FOREIGN KEY / DROP CHECK: metadata only.
        K::DropConstraint { .. } => OnlineDdl::inplace("drops a constraint (metadata only)"),
        K::RenameConstraint { .. } => OnlineDdl::inplace("renames a constraint (metadata only)"),
        K::DropPrimaryKey => OnlineDdl::copy("drops the primary key without adding a new one, which copies the table"),
        K::DropIndex { .. } => drop_index(),
        K::RenameIndex { .. } => OnlineDdl::inplace("renames an index (metadata only)"),
        K::RenameTable { .. } => rename_table(target),
        K::ConvertCharset { .. } => {
            OnlineDdl::copy("converts every text column to another character set, which copies the table")
        }
        K::TableOption { name } => table_option(name),
        K::Algorithm(_) | K::Lock(_) => return None,
        K::ValidateConstraint { .. }
        | K::SetTablespace
        | K::SetLogged { .. }
        | K::AttachPartition { .. }
        | K::DetachPartition { .. }
        | K::EnableDisableTrigger
        | K::SetOption(_)
        | K::Other { .. } => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// MODIFY / CHANGE against the column's old definition
//
// Facts (MySQL 8.0 Reference Manual 17.12.1 "Online DDL Operations", Column Operations; WL#6554;
// 13.7 "Data Type Storage Requirements"; MariaDB "Setting Character Sets and Collations"):
// * Extending a VARCHAR is in place without a rebuild (metadata only) while the number of length
//   bytes stays the same: 0..=255 bytes need one, 256 bytes or more need two. Going from under
//   256 bytes to 256 or more, and any decrease, need ALGORITHM=COPY. Bytes are characters times
//   the character set's maximum width (utf8mb4 4, utf8mb3 3, latin1 and binary 1).
// * Adding ENUM/SET members at the end of the list is instant (in place before instant DDL) as
//   long as the storage size does not change: ENUM uses 1 byte up to 255 members, 2 above; SET
//   uses 1, 2, 3, 4 or 8 bytes for up to 8, 16, 24, 32 or 64 members. Adding members elsewhere
//   renumbers the stored values and, like removing members, copies the table.
// * Renaming through CHANGE with the same type is RENAME COLUMN (instant from MySQL 8.0.28, in
//   place before); making a column NULL or NOT NULL rebuilds the table in place; reordering with
//   FIRST/AFTER rebuilds it in place; a DEFAULT or COMMENT change alone is metadata only; any
//   other type or character set change copies the table.
// * A MODIFY/CHANGE without CHARACTER SET gives a text column the table's default character set,
//   whatever the column had before. The server default is utf8mb4 on MySQL 8.0 and MariaDB 11.6+,
//   latin1 on MySQL 5.7 and older MariaDB (distributions may configure another one).

/// The maximum number of bytes one character takes in a character set; `None` when unknown.
pub fn max_bytes_per_char(charset: &str) -> Option<u32> {
    Some(match normalize_charset(charset).as_str() {
        "utf8mb4" | "utf16" | "utf16le" | "utf32" | "gb18030" => 4,
        "utf8mb3" | "ujis" | "eucjpms" => 3,
        "ucs2" | "gbk" | "big5" | "sjis" | "cp932" | "gb2312" | "euckr" => 2,
        "latin1" | "latin2" | "latin5" | "latin7" | "ascii" | "binary" | "cp1250" | "cp1251" | "cp1256" | "cp1257"
        | "cp850" | "cp852" | "cp866" | "koi8r" | "koi8u" | "greek" | "hebrew" | "armscii8" | "dec8" | "hp8"
        | "keybcs2" | "macce" | "macroman" | "swe7" | "tis620" | "geostd8" => 1,
        _ => return None,
    })
}

/// `utf8` is an alias of `utf8mb3`.
fn normalize_charset(charset: &str) -> String {
    let c = charset.trim().to_ascii_lowercase();
    if c == "utf8" {
        "utf8mb3".into()
    } else {
        c
    }
}

/// The character set a server uses when neither the column nor the table names one: utf8mb4 on
/// MySQL 8.0+ and MariaDB 11.6+, latin1 before.
pub fn server_default_charset(target: Target) -> &'static str {
    let v = target.version;
    if v.mysql_at_least(8, 0, 0) || v.mariadb_at_least(11, 6) {
        "utf8mb4"
    } else {
        "latin1"
    }
}

/// Where a column's character set comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharsetSource {
    /// Its own `CHARACTER SET` / `COLLATE` (or the type's: binary types, NATIONAL types).
    Column,
    /// The table's `DEFAULT CHARSET`.
    Table,
    /// Neither names one: the server default for the configured version is assumed.
    ServerDefault,
}

/// A column's character set and how wide its characters can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnCharset {
    pub name: String,
    /// Maximum bytes per character; `None` for a character set the model does not know.
    pub max_bytes: Option<u32>,
    pub source: CharsetSource,
}

impl ColumnCharset {
    fn resolve(type_name: &TypeName, table: &Table, target: Target) -> ColumnCharset {
        let binary =
            matches!(type_name.name.as_str(), "varbinary" | "binary" | "tinyblob" | "blob" | "mediumblob" | "longblob");
        let (name, source) = match (&type_name.charset, &table.charset) {
            _ if binary => ("binary".to_string(), CharsetSource::Column),
            (Some(c), _) => (normalize_charset(c), CharsetSource::Column),
            (None, Some(t)) => (normalize_charset(t), CharsetSource::Table),
            (None, None) => (server_default_charset(target).to_string(), CharsetSource::ServerDefault),
        };
        ColumnCharset { max_bytes: max_bytes_per_char(&name), name, source }
    }

    /// "utf8mb4 (4 bytes per character)", saying when the server default is assumed.
    pub fn describe(&self) -> String {
        let width = match self.max_bytes {
            Some(1) => "1 byte per character".to_string(),
            Some(n) => format!("{n} bytes per character"),
            None => "width unknown".to_string(),
        };
        match self.source {
            CharsetSource::ServerDefault => format!(
                "{} ({width}; assumed, the server default: neither the column nor the table names a character set)",
                self.name
            ),
            _ => format!("{} ({width})", self.name),
        }
    }
}

/// A VARCHAR/VARBINARY length change, in characters, with the character set that turns them into
/// bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarcharChange {
    pub from_chars: i64,
    pub to_chars: i64,
    pub charset: ColumnCharset,
}

impl VarcharChange {
    /// Maximum size in bytes of the old definition.
    pub fn from_bytes(&self) -> i64 {
        self.from_chars.saturating_mul(i64::from(self.charset.max_bytes.unwrap_or(1)))
    }

    /// Maximum size in bytes of the new definition.
    pub fn to_bytes(&self) -> i64 {
        self.to_chars.saturating_mul(i64::from(self.charset.max_bytes.unwrap_or(1)))
    }

    /// The length prefix of a VARCHAR of `bytes` bytes: 1 byte up to 255, else 2.
    pub fn prefix_bytes(bytes: i64) -> u8 {
        if bytes <= 255 {
            1
        } else {
            2
        }
    }

    /// The longest length in characters that keeps a one-byte prefix.
    pub fn one_byte_limit_chars(&self) -> i64 {
        255 / i64::from(self.charset.max_bytes.unwrap_or(1).max(1))
    }
}

/// An ENUM or SET member list change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberChange {
    /// `"ENUM"` or `"SET"`.
    pub type_keyword: &'static str,
    pub old: Vec<String>,
    pub new: Vec<String>,
}

impl MemberChange {
    /// Storage bytes per value for `members` members.
    pub fn storage_bytes(&self, members: usize) -> u8 {
        if self.type_keyword == "SET" {
            match members.div_ceil(8) {
                0 | 1 => 1,
                n @ 2..=4 => n as u8,
                _ => 8,
            }
        } else if members <= 255 {
            1
        } else {
            2
        }
    }

    /// Old members no longer in the list.
    pub fn removed(&self) -> Vec<&str> {
        self.old.iter().filter(|o| !self.new.contains(o)).map(String::as_str).collect()
    }

    /// The new list keeps every old member in place and only adds at the end.
    pub fn is_append(&self) -> bool {
        self.new.len() >= self.old.len() && self.new[..self.old.len()] == self.old[..]
    }
}

/// One aspect of a `MODIFY`/`CHANGE` compared with the column's old definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnChangeKind {
    /// Nothing that touches the stored data changes (the same definition restated, or only its
    /// DEFAULT / COMMENT).
    MetadataOnly,
    /// `CHANGE old new` with the same type.
    Rename,
    /// NULL becomes NOT NULL (`true`) or the reverse.
    Nullability { to_not_null: bool },
    /// FIRST / AFTER.
    Reorder,
    /// A longer VARCHAR whose length prefix keeps its size.
    VarcharExtend(VarcharChange),
    /// A longer VARCHAR that crosses 255 bytes: the length prefix grows from 1 to 2 bytes.
    VarcharPrefixGrows(VarcharChange),
    /// A shorter VARCHAR.
    VarcharShrink(VarcharChange),
    /// A VARCHAR length change in a character set of unknown width.
    VarcharUnknownWidth(VarcharChange),
    /// Members appended at the end, same storage size.
    MembersAppended(MemberChange),
    /// Members appended at the end, but the storage size grows.
    MemberStorageGrows(MemberChange),
    /// Members removed, reordered or inserted before existing ones.
    MembersNotAppended(MemberChange),
    /// The column's character set changes (given, or reset to the table default).
    CharsetChange { from: String, to: String },
    /// Another type change (`from`, `to` as written).
    TypeChange { from: String, to: String },
    /// AUTO_INCREMENT or a generation expression is added or removed.
    AutoIncrementOrGenerated,
}

/// One aspect with its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnAspect {
    pub kind: ColumnChangeKind,
    pub ddl: OnlineDdl,
}

/// What a `MODIFY`/`CHANGE` does to a column the history knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnChange {
    pub aspects: Vec<ColumnAspect>,
    /// All aspects combined.
    pub ddl: OnlineDdl,
}

const INTEGER_TYPES: &[&str] = &["tinyint", "smallint", "mediumint", "int", "bigint"];
const TEXT_TYPES: &[&str] = &["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"];

/// The type with what does not change storage normalised away: integer display widths, DECIMAL's
/// implied precision and scale.
fn type_key(t: &TypeName) -> (String, Vec<i64>, bool, Vec<String>) {
    let modifiers = match t.name.as_str() {
        n if INTEGER_TYPES.contains(&n) => Vec::new(),
        "decimal" => match t.modifiers.as_slice() {
            [] => vec![10, 0],
            [p] => vec![*p, 0],
            m => m.to_vec(),
        },
        _ => t.modifiers.clone(),
    };
    (t.name.clone(), modifiers, t.unsigned, t.values.clone())
}

/// Compares `MODIFY`/`CHANGE` (the new type and definition) with the column's old state in
/// `table` and names every aspect that changes, each with its cost on `target`.
pub fn column_change(
    old: &Column,
    table: &Table,
    new_type: &TypeName,
    new_definition: Option<&ColumnDef>,
    rename_to: Option<&Ident>,
    target: Target,
) -> ColumnChange {
    let mut aspects = Vec::new();
    let mut push = |kind: ColumnChangeKind, ddl: OnlineDdl| aspects.push(ColumnAspect { kind, ddl });
    let old_type = &old.type_name;
    let is_text = TEXT_TYPES.contains(&new_type.name.as_str()) && TEXT_TYPES.contains(&old_type.name.as_str());
    let old_cs = ColumnCharset::resolve(old_type, table, target);
    let new_cs = ColumnCharset::resolve(new_type, table, target);
    let charset_changes = is_text && old_cs.name != new_cs.name;
    let same_base = old_type.name == new_type.name && old_type.unsigned == new_type.unsigned;

    if charset_changes {
        push(
            ColumnChangeKind::CharsetChange { from: old_cs.name.clone(), to: new_cs.name.clone() },
            OnlineDdl::copy("changes the column's character set, which copies the table"),
        );
    } else if same_base && matches!(new_type.name.as_str(), "varchar" | "varbinary") {
        let (from, to) = (old_type.modifiers.first().copied(), new_type.modifiers.first().copied());
        if let (Some(from_chars), Some(to_chars)) = (from, to) {
            let change = VarcharChange { from_chars, to_chars, charset: new_cs.clone() };
            if from_chars != to_chars && new_cs.max_bytes.is_none() {
                push(
                    ColumnChangeKind::VarcharUnknownWidth(change),
                    OnlineDdl::copy(
                        "changes a VARCHAR length in a character set whose width is not known, so a table copy is assumed",
                    ),
                );
            } else if to_chars < from_chars {
                push(
                    ColumnChangeKind::VarcharShrink(change),
                    OnlineDdl::copy(
                        "shortens a VARCHAR, which copies the table (and rejects or truncates longer values)",
                    ),
                );
            } else if to_chars > from_chars {
                let crosses =
                    VarcharChange::prefix_bytes(change.from_bytes()) != VarcharChange::prefix_bytes(change.to_bytes());
                // MariaDB 10.4+ extends a VARCHAR instantly (outside ROW_FORMAT=COMPRESSED). Across
                // 255 bytes too when the old maximum is at most 127 bytes: InnoDB's variable-length
                // encoding stores such lengths in one byte either way.
                let mariadb_instant = target.version.mariadb_at_least(10, 4);
                if mariadb_instant && (!crosses || change.from_bytes() <= 127) {
                    push(
                        ColumnChangeKind::VarcharExtend(change),
                        OnlineDdl::instant(if crosses {
                            "extends a VARCHAR past 255 bytes from at most 127 bytes, instant on MariaDB 10.4+ (the stored lengths keep one byte)"
                        } else {
                            "extends a VARCHAR within the same length-prefix size, instant on MariaDB 10.4+ (metadata only)"
                        }),
                    );
                } else if crosses {
                    push(
                        ColumnChangeKind::VarcharPrefixGrows(change),
                        OnlineDdl::copy(
                            "extends a VARCHAR past 255 bytes, so its length prefix grows from 1 to 2 bytes and the table is copied",
                        ),
                    );
                } else {
                    push(
                        ColumnChangeKind::VarcharExtend(change),
                        OnlineDdl::inplace(
                            "extends a VARCHAR within the same length-prefix size, in place without a rebuild (metadata only)",
                        ),
                    );
                }
            }
        } else if type_key(old_type) != type_key(new_type) {
            push(
                ColumnChangeKind::TypeChange { from: old_type.text.clone(), to: new_type.text.clone() },
                OnlineDdl::copy("changes the column type, which copies the table"),
            );
        }
    } else if same_base && matches!(new_type.name.as_str(), "enum" | "set") {
        let change = MemberChange {
            type_keyword: if new_type.name == "set" { "SET" } else { "ENUM" },
            old: old_type.values.clone(),
            new: new_type.values.clone(),
        };
        if change.old != change.new {
            if !change.is_append() {
                push(
                    ColumnChangeKind::MembersNotAppended(change),
                    OnlineDdl::copy(
                        "removes, reorders or inserts ENUM/SET members other than at the end, which copies the table",
                    ),
                );
            } else if change.storage_bytes(change.old.len()) != change.storage_bytes(change.new.len()) {
                push(
                    ColumnChangeKind::MemberStorageGrows(change),
                    OnlineDdl::copy("adds ENUM/SET members past a storage-size boundary, which copies the table"),
                );
            } else {
                push(
                    ColumnChangeKind::MembersAppended(change),
                    target.metadata_only("appends ENUM/SET members at the end, same storage size (metadata only)"),
                );
            }
        }
    } else if type_key(old_type) != type_key(new_type) {
        push(
            ColumnChangeKind::TypeChange { from: old_type.text.clone(), to: new_type.text.clone() },
            OnlineDdl::copy("changes the column type, which copies the table"),
        );
    }

    if let Some(def) = new_definition {
        let not_null = def.not_null || def.primary_key;
        if not_null != old.not_null {
            let ddl = if not_null {
                OnlineDdl::inplace_rebuild("makes a column NOT NULL, which rebuilds the table in place")
            } else {
                OnlineDdl::inplace_rebuild("makes a column nullable, which rebuilds the table in place")
            };
            push(ColumnChangeKind::Nullability { to_not_null: not_null }, ddl);
        }
        if def.identity != old.identity || def.generated.is_some() != old.generated {
            push(
                ColumnChangeKind::AutoIncrementOrGenerated,
                OnlineDdl::copy("adds or removes AUTO_INCREMENT or a generation expression, which copies the table"),
            );
        }
        if def.position.is_some() {
            push(
                ColumnChangeKind::Reorder,
                OnlineDdl::inplace_rebuild("moves the column with FIRST/AFTER, which rebuilds the table in place"),
            );
        }
    }
    if rename_to.is_some_and(|r| r.name != old.name) {
        let ddl = if target.instant_rename_column() {
            OnlineDdl::instant("renames a column (instant from MySQL 8.0.28)")
        } else {
            OnlineDdl::inplace("renames a column in place (metadata only)")
        };
        push(ColumnChangeKind::Rename, ddl);
    }
    if aspects.is_empty() {
        aspects.push(ColumnAspect {
            kind: ColumnChangeKind::MetadataOnly,
            ddl: target
                .metadata_only("restates the column with the same type (a DEFAULT or COMMENT change is metadata only)"),
        });
    }
    let ddl = combine(aspects.iter().map(|a| a.ddl));
    ColumnChange { aspects, ddl }
}

/// The `MODIFY`/`CHANGE` clauses of an `ALTER TABLE` whose column `table` knows, each with what it
/// changes.
pub fn column_changes<'a>(
    actions: &'a [AlterAction],
    table: &Table,
    target: Target,
) -> Vec<(&'a AlterAction, ColumnChange)> {
    actions
        .iter()
        .filter_map(|a| match &a.kind {
            AlterActionKind::AlterColumnType { column, new_type, new_definition, rename_to, .. } => {
                let old = table.column(&column.name)?;
                Some((a, column_change(old, table, new_type, new_definition.as_deref(), rename_to.as_ref(), target)))
            }
            _ => None,
        })
        .collect()
}

fn add_check(target: Target) -> OnlineDdl {
    if target.enforces_check_constraints() {
        OnlineDdl::copy("adds a CHECK constraint, which copies the table to validate every row")
    } else {
        target.metadata_only("adds a CHECK constraint, which this server parses and ignores")
    }
}

fn add_foreign_key(target: Target) -> OnlineDdl {
    if target.foreign_key_checks_off {
        OnlineDdl::inplace("adds a foreign key in place (foreign_key_checks = 0, existing rows are not checked)")
    } else {
        OnlineDdl::copy("adds a foreign key while foreign_key_checks is on, which copies the table")
    }
}

fn add_column(column: &ColumnDef, target: Target) -> OnlineDdl {
    let mut parts = Vec::with_capacity(4);
    // Where the column goes decides whether the plain add can be instant. A VIRTUAL generated
    // column stores nothing, so adding one is metadata only wherever it goes (handled below).
    let anywhere = target.instant_add_column_anywhere();
    let placement = match (column.position.is_some(), anywhere, target.instant_add_column_at_end()) {
        (_, true, _) | (false, _, true) => OnlineDdl::instant("adds a column (metadata only)"),
        (true, false, true) => OnlineDdl::inplace_rebuild(
            "adds a column with FIRST/AFTER, which rebuilds the table before MySQL 8.0.29 / MariaDB 10.4",
        ),
        _ => OnlineDdl::inplace_rebuild("adds a column, which rebuilds the table in place on this version"),
    };
    if !matches!(column.generated, Some((GeneratedKind::Virtual, _))) {
        parts.push(placement);
    }
    if column.identity {
        parts.push(OnlineDdl::inplace_blocking(
            true,
            "adds an AUTO_INCREMENT column, which rebuilds the table to number every row and blocks writes",
        ));
    }
    match &column.generated {
        Some((GeneratedKind::Stored, _)) => {
            parts.push(OnlineDdl::copy("adds a STORED generated column, which copies the table to compute every row"));
        }
        Some((GeneratedKind::Virtual, _)) => {
            parts.push(target.metadata_only("adds a VIRTUAL generated column (metadata only)"));
        }
        None => {}
    }
    if let Some(default) = &column.default {
        // MySQL refuses ALGORITHM=INSTANT for any parenthesised expression default; a
        // per-row (volatile) default is evaluated for every existing row.
        let expression = default.text.trim_start().starts_with('(') || default.volatility == Volatility::Volatile;
        if expression {
            parts.push(OnlineDdl::inplace_rebuild(
                "adds a column with an expression default, which is never instant and rebuilds the table",
            ));
        }
    }
    if column.primary_key {
        parts.push(OnlineDdl::inplace_rebuild("adds a column that becomes the primary key, which rebuilds the table"));
    } else if column.unique {
        parts.push(OnlineDdl::inplace_rebuild(
            "adds a column together with a unique index on it, which cannot be instant and rebuilds the table",
        ));
    }
    if column.check.is_some() && target.enforces_check_constraints() {
        parts.push(add_check(target));
    }
    if column.references.is_some() && target.honours_inline_references() {
        parts.push(add_foreign_key(target));
    }
    combine(parts)
}

fn table_option(name: &str) -> OnlineDdl {
    let upper = name.trim().to_ascii_uppercase().replace('_', " ");
    let upper = upper.strip_prefix("DEFAULT ").unwrap_or(&upper);
    match upper {
        "ENGINE" => OnlineDdl::inplace_rebuild("rebuilds the table (ENGINE=)"),
        "FORCE" => OnlineDdl::inplace_rebuild("rebuilds the table (FORCE)"),
        "ROW FORMAT" => OnlineDdl::inplace_rebuild("changes ROW_FORMAT, which rebuilds the table"),
        "KEY BLOCK SIZE" => OnlineDdl::inplace_rebuild("changes KEY_BLOCK_SIZE, which rebuilds the table"),
        "CHARSET" | "CHARACTER SET" | "COLLATE" => {
            OnlineDdl::inplace_rebuild("changes the table's default character set, which rebuilds the table")
        }
        "AUTO INCREMENT" | "COMMENT" | "STATS PERSISTENT" | "STATS AUTO RECALC" | "STATS SAMPLE PAGES" => {
            OnlineDdl::inplace("changes a table option (metadata only)")
        }
        _ => OnlineDdl::copy("changes a table option this model does not know, so a table copy is assumed"),
    }
}

/// The cost of several clauses run by one statement: the worst clause decides (one non-instant
/// clause makes the whole statement non-instant, one copying clause makes it copy). An empty list
/// costs nothing (instant).
pub fn combine(list: impl IntoIterator<Item = OnlineDdl>) -> OnlineDdl {
    let mut out: Option<OnlineDdl> = None;
    let mut rebuilds = false;
    let mut dml = true;
    for d in list {
        rebuilds |= d.rebuilds_table;
        dml &= d.concurrent_dml;
        if out.is_none_or(|o| d.is_worse_than(&o)) {
            out = Some(d);
        }
    }
    match out {
        Some(worst) => OnlineDdl { rebuilds_table: rebuilds, concurrent_dml: dml, ..worst },
        None => OnlineDdl::instant("changes nothing"),
    }
}

/// The model's verdict on a whole `ALTER TABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlterTableDdl {
    /// All clauses combined.
    pub overall: OnlineDdl,
    /// Index into the actions of the clause that decides `overall` (the first of the worst).
    pub worst: Option<usize>,
}

/// All clauses of one `ALTER TABLE`. `None` when a clause is not modelled (the verdict would be a
/// guess) or the statement has no operation at all (only `ALGORITHM=`/`LOCK=`).
pub fn alter_table(actions: &[AlterAction], target: Target) -> Option<AlterTableDdl> {
    alter_table_in(actions, target, None)
}

/// [`alter_table`] on `table`, the table as the migration history left it before the statement
/// (see [`alter_action_in`]).
pub fn alter_table_in(actions: &[AlterAction], target: Target, table: Option<&Table>) -> Option<AlterTableDdl> {
    // DROP PRIMARY KEY with ADD PRIMARY KEY in the same statement is an in-place rebuild.
    let adds_pk = actions
        .iter()
        .any(|a| matches!(&a.kind, AlterActionKind::AddConstraint(c) if c.kind == ConstraintKind::PrimaryKey));
    let mut overall: Option<OnlineDdl> = None;
    let mut worst = None;
    let mut all = Vec::with_capacity(actions.len());
    for (i, a) in actions.iter().enumerate() {
        let d = match &a.kind {
            AlterActionKind::Algorithm(_) | AlterActionKind::Lock(_) => continue,
            AlterActionKind::DropPrimaryKey if adds_pk => {
                OnlineDdl::inplace_rebuild("replaces the primary key, which rebuilds the table in place")
            }
            kind => alter_action_in(kind, target, table)?,
        };
        if overall.is_none_or(|o| d.is_worse_than(&o)) {
            overall = Some(d);
            worst = Some(i);
        }
        all.push(d);
    }
    overall?;
    Some(AlterTableDdl { overall: combine(all), worst })
}

/// The `ALGORITHM=` written in the statement, if any other than `DEFAULT` (the last one wins).
pub fn explicit_algorithm(actions: &[AlterAction]) -> Option<ir::Algorithm> {
    actions.iter().rev().find_map(|a| match a.kind {
        AlterActionKind::Algorithm(x) if x != ir::Algorithm::Default => Some(x),
        _ => None,
    })
}

/// The `LOCK=` written in the statement, if any other than `DEFAULT` (the last one wins).
pub fn explicit_lock(actions: &[AlterAction]) -> Option<LockClause> {
    actions.iter().rev().find_map(|a| match a.kind {
        AlterActionKind::Lock(x) if x != LockClause::Default => Some(x),
        _ => None,
    })
}

/// Whether the server refuses the statement because of its explicit `ALGORITHM=`/`LOCK=`
/// (errors 1845/1846 in MySQL), given what the model says is possible. `None` when accepted.
pub fn explicit_request_refused(
    algorithm: Option<ir::Algorithm>,
    lock: Option<LockClause>,
    best: &OnlineDdl,
) -> Option<String> {
    let algorithm = algorithm.filter(|a| *a != ir::Algorithm::Default);
    let lock = lock.filter(|l| *l != LockClause::Default);
    if algorithm == Some(ir::Algorithm::Instant) {
        if let Some(l) = lock {
            return Some(format!(
                "`ALGORITHM=INSTANT` does not accept `LOCK={}`: only LOCK=DEFAULT is permitted",
                lock_keyword(l)
            ));
        }
    }
    // The algorithm the server would use, given the request.
    let effective = match algorithm {
        Some(ir::Algorithm::Instant) => {
            if best.best != Algorithm::Instant {
                return Some(format!("`ALGORITHM=INSTANT` is not supported: the statement {}", best.reason));
            }
            Algorithm::Instant
        }
        Some(ir::Algorithm::NoCopy) => {
            if best.best == Algorithm::Copy || best.rebuilds_table {
                return Some(format!("`ALGORITHM=NOCOPY` is not supported: the statement {}", best.reason));
            }
            best.best
        }
        Some(ir::Algorithm::Inplace) => {
            if best.best == Algorithm::Copy {
                return Some(format!("`ALGORITHM=INPLACE` is not supported: the statement {}", best.reason));
            }
            Algorithm::Inplace
        }
        Some(ir::Algorithm::Copy) => Algorithm::Copy,
        Some(ir::Algorithm::Default) | None => best.best,
    };
    if lock == Some(LockClause::None) && (effective == Algorithm::Copy || !best.concurrent_dml) {
        return Some(format!("`LOCK=NONE` is not supported: the statement {}", best.reason));
    }
    None
}

fn lock_keyword(l: LockClause) -> &'static str {
    match l {
        LockClause::Default => "DEFAULT",
        LockClause::None => "NONE",
        LockClause::Shared => "SHARED",
        LockClause::Exclusive => "EXCLUSIVE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{ColumnPosition, Constraint, Expr, ForeignKeyTarget, Ident, QualifiedName, TypeName};
    use crate::span::Span;

    const MY_8_0_11: MySqlVersion = MySqlVersion::mysql(8, 0, 11);
    const MY_8_0_12: MySqlVersion = MySqlVersion::mysql(8, 0, 12);
    const MY_8_0_27: MySqlVersion = MySqlVersion::mysql(8, 0, 27);
    const MY_8_0_28: MySqlVersion = MySqlVersion::mysql(8, 0, 28);
    const MY_8_0_29: MySqlVersion = MySqlVersion::mysql(8, 0, 29);
    const MY_8_0_35: MySqlVersion = MySqlVersion::mysql(8, 0, 35);
    const MY_5_7: MySqlVersion = MySqlVersion::mysql(5, 7, 44);
    const MARIA_10_2: MySqlVersion = MySqlVersion::mariadb(10, 2, 0);
    const MARIA_10_3: MySqlVersion = MySqlVersion::mariadb(10, 3, 0);
    const MARIA_10_11: MySqlVersion = MySqlVersion::mariadb(10, 11, 0);

    fn ident(n: &str) -> Ident {
        Ident::new(n, Span::default())
    }

    fn ty(name: &str) -> TypeName {
        TypeName {
            name: name.into(),
            modifiers: vec![],
            array: false,
            values: vec![],
            charset: None,
            unsigned: false,
            text: name.into(),
            span: Span::default(),
        }
    }

    fn expr(text: &str, volatility: Volatility) -> Expr {
        Expr { text: text.into(), volatility, is_null: false, span: Span::default() }
    }

    fn col(name: &str) -> ColumnDef {
        ColumnDef {
            name: ident(name),
            type_name: ty("int"),
            not_null: false,
            default: None,
            generated: None,
            identity: false,
            primary_key: false,
            unique: false,
            references: None,
            check: None,
            position: None,
            span: Span::default(),
        }
    }

    fn add(column: ColumnDef) -> AlterActionKind {
        AlterActionKind::AddColumn { column, if_not_exists: false }
    }

    fn constraint(kind: ConstraintKind) -> AlterActionKind {
        AlterActionKind::AddConstraint(Constraint {
            name: None,
            kind,
            columns: vec![],
            not_valid: false,
            using_index: None,
            span: Span::default(),
        })
    }

    fn fk_target() -> ForeignKeyTarget {
        ForeignKeyTarget {
            table: QualifiedName { schema: None, name: "customers".into(), span: Span::default() },
            columns: vec![ident("id")],
            span: Span::default(),
        }
    }

    fn on(kind: &AlterActionKind, v: MySqlVersion) -> OnlineDdl {
        alter_action(kind, Target::new(v)).unwrap_or_else(|| panic!("not modelled: {kind:?}"))
    }

    fn act(kind: AlterActionKind) -> AlterAction {
        AlterAction { kind, span: Span::default() }
    }

    #[test]
    fn add_column_version_gates() {
        let end = add(col("note"));
        assert_eq!(on(&end, MY_8_0_11).best, Algorithm::Inplace);
        assert!(on(&end, MY_8_0_11).rebuilds_table);
        assert_eq!(on(&end, MY_8_0_12).best, Algorithm::Instant);
        assert_eq!(on(&end, MY_5_7).best, Algorithm::Inplace);
        assert_eq!(on(&end, MARIA_10_2).best, Algorithm::Inplace);
        assert_eq!(on(&end, MARIA_10_3).best, Algorithm::Instant);

        let after = add(ColumnDef { position: Some(ColumnPosition::After(ident("id"))), ..col("note") });
        let first = add(ColumnDef { position: Some(ColumnPosition::First), ..col("note") });
        for kind in [&after, &first] {
            let d = on(kind, MY_8_0_28);
            assert_eq!((d.best, d.rebuilds_table, d.concurrent_dml), (Algorithm::Inplace, true, true));
            assert_eq!(on(kind, MY_8_0_29).best, Algorithm::Instant);
            assert_eq!(on(kind, MARIA_10_3).best, Algorithm::Inplace);
            assert_eq!(on(kind, MARIA_10_11).best, Algorithm::Instant);
        }
    }

    #[test]
    fn add_column_special_cases() {
        let auto = add(ColumnDef { identity: true, not_null: true, unique: true, ..col("seq") });
        let d = on(&auto, MY_8_0_35);
        assert_eq!((d.best, d.rebuilds_table, d.concurrent_dml), (Algorithm::Inplace, true, false));
        assert!(d.reason.contains("AUTO_INCREMENT"), "{}", d.reason);
        assert!(d.blocks_writes());

        let stored = add(ColumnDef {
            generated: Some((GeneratedKind::Stored, expr("(a * 100)", Volatility::Constant))),
            ..col("c")
        });
        assert_eq!(on(&stored, MY_8_0_35).best, Algorithm::Copy);
        assert!(on(&stored, MY_8_0_35).reason.contains("STORED"));

        let virt = add(ColumnDef {
            generated: Some((GeneratedKind::Virtual, expr("(a * 100)", Volatility::Constant))),
            ..col("c")
        });
        assert_eq!(on(&virt, MY_8_0_35).best, Algorithm::Instant);
        assert_eq!(on(&virt, MY_5_7), OnlineDdl::inplace("adds a VIRTUAL generated column (metadata only)"));

        let uuid = add(ColumnDef { default: Some(expr("(UUID())", Volatility::Volatile)), ..col("public_id") });
        let d = on(&uuid, MY_8_0_35);
        assert_eq!((d.best, d.rebuilds_table, d.concurrent_dml), (Algorithm::Inplace, true, true));
        assert!(d.reason.contains("expression default"));
        // Any parenthesised expression default refuses INSTANT, even a constant one.
        let constant_expr = add(ColumnDef { default: Some(expr("(2 + 5)", Volatility::Constant)), ..col("n") });
        assert_eq!(on(&constant_expr, MY_8_0_35).best, Algorithm::Inplace);
        // A plain literal default stays instant.
        let literal = add(ColumnDef { default: Some(expr("0", Volatility::Constant)), not_null: true, ..col("n") });
        assert_eq!(on(&literal, MY_8_0_35).best, Algorithm::Instant);

        let uniq = add(ColumnDef { unique: true, ..col("code") });
        assert_eq!(on(&uniq, MY_8_0_35).best, Algorithm::Inplace);

        let checked = add(ColumnDef { check: Some(expr("(n > 0)", Volatility::Constant)), ..col("n") });
        assert_eq!(on(&checked, MY_8_0_35).best, Algorithm::Copy);
        assert_eq!(on(&checked, MY_8_0_12).best, Algorithm::Instant);

        // Inline REFERENCES is ignored before MySQL 9.0, honoured (a foreign key) from 9.0.
        let inline_fk = add(ColumnDef { references: Some(fk_target()), ..col("customer_id") });
        assert_eq!(on(&inline_fk, MY_8_0_35).best, Algorithm::Instant);
        assert_eq!(on(&inline_fk, MySqlVersion::mysql(9, 1, 0)).best, Algorithm::Copy);
    }

    #[test]
    fn drop_and_rename_column() {
        let drop = AlterActionKind::DropColumn { name: ident("legacy"), if_exists: false, cascade: false };
        assert_eq!(
            on(&drop, MY_8_0_28),
            OnlineDdl::inplace_rebuild("drops a column, which rebuilds the table in place on this version")
        );
        assert_eq!(on(&drop, MY_8_0_29).best, Algorithm::Instant);
        assert_eq!(on(&drop, MARIA_10_3).best, Algorithm::Inplace);
        assert_eq!(on(&drop, MARIA_10_11).best, Algorithm::Instant);

        let rename = AlterActionKind::RenameColumn { from: ident("a"), to: ident("b") };
        assert_eq!(on(&rename, MY_8_0_27), OnlineDdl::inplace("renames a column in place (metadata only)"));
        assert_eq!(on(&rename, MY_8_0_28).best, Algorithm::Instant);
        assert_eq!(on(&rename, MARIA_10_11).best, Algorithm::Instant);
    }

    #[test]
    fn modify_and_change_are_assumed_to_copy() {
        let modify = AlterActionKind::AlterColumnType {
            column: ident("amount"),
            new_type: ty("decimal"),
            using: None,
            new_definition: Some(Box::new(col("amount"))),
            rename_to: None,
        };
        let d = on(&modify, MY_8_0_35);
        assert_eq!(d, OnlineDdl::copy(d.reason));
        assert!(d.reason.contains("type"));

        let moved = AlterActionKind::AlterColumnType {
            column: ident("amount"),
            new_type: ty("decimal"),
            using: None,
            new_definition: Some(Box::new(ColumnDef { position: Some(ColumnPosition::First), ..col("amount") })),
            rename_to: None,
        };
        assert!(on(&moved, MY_8_0_35).reason.contains("FIRST/AFTER"));

        let enum_change = AlterActionKind::AlterColumnType {
            column: ident("status"),
            new_type: ty("enum"),
            using: None,
            new_definition: None,
            rename_to: None,
        };
        assert_eq!(on(&enum_change, MY_8_0_35).best, Algorithm::Copy);
        assert!(on(&enum_change, MY_8_0_35).reason.contains("ENUM"));
    }

    /// The table `t` after `history`, and the verdict on `alter` (one ALTER TABLE t ...) against it.
    fn against(history: &str, alter: &str, v: MySqlVersion) -> (OnlineDdl, Vec<ColumnChangeKind>) {
        use crate::catalog::{Catalog, Origin};
        use crate::{parse_file, Dialect};
        let mut cat = Catalog::new(Dialect::MySql);
        for st in parse_file(history, Dialect::MySql).statements {
            for op in &st.ops {
                cat.apply(op, &Origin::default());
            }
        }
        let file = parse_file(alter, Dialect::MySql);
        let Some(crate::ir::Op::AlterTable { name, actions, .. }) = file.statements.first().and_then(|s| s.ops.first())
        else {
            panic!("not an ALTER TABLE: {alter}")
        };
        let table = cat.table(name);
        let target = Target::new(v);
        let verdict = alter_table_in(actions, target, table).map(|d| d.overall).expect("modelled");
        let kinds = table
            .map(|t| {
                column_changes(actions, t, target).into_iter().flat_map(|(_, c)| c.aspects).map(|a| a.kind).collect()
            })
            .unwrap_or_default();
        (verdict, kinds)
    }

    fn best(history: &str, alter: &str, v: MySqlVersion) -> (Algorithm, bool) {
        let (d, _) = against(history, alter, v);
        (d.best, d.rebuilds_table)
    }

    #[test]
    fn varchar_extension_depends_on_the_length_prefix() {
        let mb4 =
            "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, bio VARCHAR(100)) DEFAULT CHARSET=utf8mb4;";
        // 63 x 4 = 252 bytes: still one length byte. 64 x 4 = 256: two.
        assert_eq!(best(mb4, "ALTER TABLE t MODIFY name VARCHAR(63) NOT NULL", MY_8_0_35), (Algorithm::Inplace, false));
        let (d, kinds) = against(mb4, "ALTER TABLE t MODIFY name VARCHAR(64) NOT NULL", MY_8_0_35);
        assert_eq!(d.best, Algorithm::Copy);
        assert!(
            matches!(&kinds[..], [ColumnChangeKind::VarcharPrefixGrows(c)] if c.from_bytes() == 200 && c.to_bytes() == 256),
            "{kinds:?}"
        );
        // Both sides already need two bytes.
        assert_eq!(best(mb4, "ALTER TABLE t MODIFY bio VARCHAR(500)", MY_8_0_35), (Algorithm::Inplace, false));
        let (d, kinds) = against(mb4, "ALTER TABLE t MODIFY bio VARCHAR(99)", MY_8_0_35);
        assert_eq!(d.best, Algorithm::Copy);
        assert!(matches!(&kinds[..], [ColumnChangeKind::VarcharShrink(_)]), "{kinds:?}");

        let latin1 = "CREATE TABLE t (name VARCHAR(100)) ENGINE=InnoDB DEFAULT CHARSET=latin1;";
        assert_eq!(best(latin1, "ALTER TABLE t MODIFY name VARCHAR(255)", MY_8_0_35).0, Algorithm::Inplace);
        assert_eq!(best(latin1, "ALTER TABLE t MODIFY name VARCHAR(256)", MY_8_0_35).0, Algorithm::Copy);

        // The column's own character set wins over the table's; utf8 is utf8mb3 (85 x 3 = 255).
        let mb3 = "CREATE TABLE t (code VARCHAR(80) CHARACTER SET utf8 COLLATE utf8_bin) DEFAULT CHARSET=utf8mb4;";
        assert_eq!(
            best(mb3, "ALTER TABLE t MODIFY code VARCHAR(85) CHARACTER SET utf8", MY_8_0_35).0,
            Algorithm::Inplace
        );
        assert_eq!(best(mb3, "ALTER TABLE t MODIFY code VARCHAR(86) CHARACTER SET utf8", MY_8_0_35).0, Algorithm::Copy);
        // Without CHARACTER SET the column takes the table default: a character set change.
        let (d, kinds) = against(mb3, "ALTER TABLE t MODIFY code VARCHAR(85)", MY_8_0_35);
        assert_eq!(d.best, Algorithm::Copy);
        assert!(matches!(&kinds[..], [ColumnChangeKind::CharsetChange { .. }]), "{kinds:?}");

        // No character set anywhere: the server default (utf8mb4 on MySQL 8.0, latin1 on MariaDB 10.11).
        let none = "CREATE TABLE t (name VARCHAR(50));";
        let (_, kinds) = against(none, "ALTER TABLE t MODIFY name VARCHAR(100)", MY_8_0_35);
        assert!(
            matches!(&kinds[..], [ColumnChangeKind::VarcharPrefixGrows(c)] if c.charset.source == CharsetSource::ServerDefault && c.charset.name == "utf8mb4"),
            "{kinds:?}"
        );
        // MariaDB 10.4+ extends instantly (latin1: 50 -> 100 bytes keeps a one-byte prefix).
        assert_eq!(best(none, "ALTER TABLE t MODIFY name VARCHAR(100)", MARIA_10_11).0, Algorithm::Instant);
        // utf8mb4 on MariaDB 11.8: 200 -> 400 bytes crosses 255 from above 127 bytes: a copy.
        assert_eq!(
            best(none, "ALTER TABLE t MODIFY name VARCHAR(100)", MySqlVersion::mariadb(11, 8, 0)).0,
            Algorithm::Copy
        );
        // From at most 127 bytes, MariaDB crosses 255 bytes instantly (80 -> 400 bytes).
        let short = "CREATE TABLE t (name VARCHAR(20));";
        assert_eq!(
            best(short, "ALTER TABLE t MODIFY name VARCHAR(100)", MySqlVersion::mariadb(11, 8, 0)).0,
            Algorithm::Instant
        );
        assert_eq!(best(short, "ALTER TABLE t MODIFY name VARCHAR(100)", MY_8_0_35).0, Algorithm::Copy);
        // VARBINARY counts bytes.
        let bin = "CREATE TABLE t (h VARBINARY(100)) DEFAULT CHARSET=utf8mb4;";
        assert_eq!(best(bin, "ALTER TABLE t MODIFY h VARBINARY(255)", MY_8_0_35).0, Algorithm::Inplace);
    }

    #[test]
    fn enum_and_set_members() {
        let h = "CREATE TABLE t (s ENUM('a','b') NOT NULL, f SET('x','y','z','w','v','u','r','q')) DEFAULT CHARSET=utf8mb4;";
        assert_eq!(
            best(h, "ALTER TABLE t MODIFY s ENUM('a','b','c') NOT NULL", MY_8_0_35),
            (Algorithm::Instant, false)
        );
        assert_eq!(best(h, "ALTER TABLE t MODIFY s ENUM('a','b','c') NOT NULL", MY_5_7), (Algorithm::Inplace, false));
        let (d, kinds) = against(h, "ALTER TABLE t MODIFY s ENUM('c','a','b') NOT NULL", MY_8_0_35);
        assert_eq!(d.best, Algorithm::Copy);
        assert!(matches!(&kinds[..], [ColumnChangeKind::MembersNotAppended(m)] if m.removed().is_empty()), "{kinds:?}");
        let (_, kinds) = against(h, "ALTER TABLE t MODIFY s ENUM('a') NOT NULL", MY_8_0_35);
        assert!(matches!(&kinds[..], [ColumnChangeKind::MembersNotAppended(m)] if m.removed() == ["b"]), "{kinds:?}");
        // A ninth SET member needs a second byte.
        let (d, kinds) = against(h, "ALTER TABLE t MODIFY f SET('x','y','z','w','v','u','r','q','p')", MY_8_0_35);
        assert_eq!(d.best, Algorithm::Copy);
        assert!(
            matches!(&kinds[..], [ColumnChangeKind::MemberStorageGrows(m)] if m.storage_bytes(9) == 2),
            "{kinds:?}"
        );
        let e = MemberChange { type_keyword: "ENUM", old: vec![], new: vec![] };
        assert_eq!((e.storage_bytes(255), e.storage_bytes(256)), (1, 2));
        let s = MemberChange { type_keyword: "SET", old: vec![], new: vec![] };
        assert_eq!([8, 9, 16, 17, 24, 25, 32, 33, 64].map(|n| s.storage_bytes(n)), [1, 2, 2, 3, 3, 4, 4, 8, 8]);
    }

    #[test]
    fn renames_nullability_and_other_type_changes() {
        let h = "CREATE TABLE t (id INT(11) NOT NULL, name VARCHAR(20) NULL, n INT) DEFAULT CHARSET=latin1;";
        assert_eq!(best(h, "ALTER TABLE t CHANGE name title VARCHAR(20) NULL", MY_8_0_28).0, Algorithm::Instant);
        assert_eq!(best(h, "ALTER TABLE t CHANGE name title VARCHAR(20) NULL", MY_8_0_27).0, Algorithm::Inplace);
        // Renamed and extended: in place, no rebuild.
        assert_eq!(best(h, "ALTER TABLE t CHANGE name title VARCHAR(40) NULL", MY_8_0_35), (Algorithm::Inplace, false));
        assert_eq!(best(h, "ALTER TABLE t MODIFY name VARCHAR(20) NOT NULL", MY_8_0_35), (Algorithm::Inplace, true));
        assert_eq!(
            best(h, "ALTER TABLE t MODIFY name VARCHAR(20) NULL AFTER id", MY_8_0_35),
            (Algorithm::Inplace, true)
        );
        // Display width and a new default change nothing stored.
        assert_eq!(best(h, "ALTER TABLE t MODIFY id INT NOT NULL DEFAULT 0", MY_8_0_35).0, Algorithm::Instant);
        assert_eq!(best(h, "ALTER TABLE t MODIFY n BIGINT", MY_8_0_35).0, Algorithm::Copy);
        assert_eq!(best(h, "ALTER TABLE t MODIFY n INT AUTO_INCREMENT", MY_8_0_35).0, Algorithm::Copy);
        // A column the history does not know: a copy is assumed, as without a catalog.
        assert_eq!(best(h, "ALTER TABLE t MODIFY other VARCHAR(30)", MY_8_0_35).0, Algorithm::Copy);
        assert_eq!(best("", "ALTER TABLE t MODIFY name VARCHAR(30)", MY_8_0_35).0, Algorithm::Copy);
    }

    #[test]
    fn defaults_and_nullability() {
        let set = AlterActionKind::SetDefault { column: ident("s"), expr: expr("'new'", Volatility::Constant) };
        let drop = AlterActionKind::DropDefault { column: ident("s") };
        for k in [&set, &drop] {
            assert_eq!(on(k, MY_8_0_35).best, Algorithm::Instant);
            assert_eq!(on(k, MY_5_7).best, Algorithm::Inplace);
            assert!(!on(k, MY_5_7).rebuilds_table);
        }
        let nn = on(&AlterActionKind::SetNotNull { column: ident("s") }, MY_8_0_35);
        assert_eq!((nn.best, nn.rebuilds_table, nn.concurrent_dml), (Algorithm::Inplace, true, true));
    }

    #[test]
    fn indexes_and_keys() {
        let plain = on(&constraint(ConstraintKind::Index { fulltext: false, spatial: false }), MY_8_0_35);
        assert_eq!(plain, OnlineDdl::inplace(plain.reason));
        let uniq = on(&constraint(ConstraintKind::Unique), MY_8_0_35);
        assert_eq!((uniq.best, uniq.rebuilds_table, uniq.concurrent_dml), (Algorithm::Inplace, false, true));
        let ft = on(&constraint(ConstraintKind::Index { fulltext: true, spatial: false }), MY_8_0_35);
        assert_eq!((ft.best, ft.concurrent_dml), (Algorithm::Inplace, false));
        let sp = on(&constraint(ConstraintKind::Index { fulltext: false, spatial: true }), MY_8_0_35);
        assert_eq!((sp.best, sp.rebuilds_table, sp.concurrent_dml), (Algorithm::Inplace, false, false));
        assert_eq!(on(&AlterActionKind::DropIndex { name: ident("i") }, MY_8_0_35), drop_index());
        assert_eq!(add_index(IndexKind::Plain).best, Algorithm::Inplace);

        let pk = on(&constraint(ConstraintKind::PrimaryKey), MY_8_0_35);
        assert_eq!((pk.best, pk.rebuilds_table, pk.concurrent_dml), (Algorithm::Inplace, true, true));
        assert_eq!(on(&AlterActionKind::DropPrimaryKey, MY_8_0_35).best, Algorithm::Copy);
    }

    #[test]
    fn drop_primary_key_with_a_new_one_is_in_place() {
        let alone =
            alter_table(&[act(AlterActionKind::DropPrimaryKey)], Target::new(MY_8_0_35)).map(|a| a.overall.best);
        assert_eq!(alone, Some(Algorithm::Copy));
        let swap = alter_table(
            &[act(AlterActionKind::DropPrimaryKey), act(constraint(ConstraintKind::PrimaryKey))],
            Target::new(MY_8_0_35),
        )
        .map(|a| (a.overall.best, a.overall.rebuilds_table, a.overall.concurrent_dml));
        assert_eq!(swap, Some((Algorithm::Inplace, true, true)));
    }

    #[test]
    fn foreign_keys_depend_on_foreign_key_checks() {
        let fk = constraint(ConstraintKind::ForeignKey { target: fk_target() });
        assert_eq!(on(&fk, MY_8_0_35).best, Algorithm::Copy);
        let off = alter_action(&fk, Target { version: MY_8_0_35, foreign_key_checks_off: true });
        assert_eq!(off.map(|d| (d.best, d.rebuilds_table, d.concurrent_dml)), Some((Algorithm::Inplace, false, true)));
        let drop = AlterActionKind::DropConstraint { name: ident("fk"), if_exists: false, cascade: false };
        assert_eq!(on(&drop, MY_8_0_35).best, Algorithm::Inplace);
    }

    #[test]
    fn check_constraints_copy_where_enforced() {
        let check = constraint(ConstraintKind::Check { expr: expr("(amount >= 0)", Volatility::Constant) });
        assert_eq!(on(&check, MY_8_0_35).best, Algorithm::Copy);
        assert_eq!(on(&check, MySqlVersion::mysql(8, 0, 16)).best, Algorithm::Copy);
        assert_eq!(on(&check, MySqlVersion::mysql(8, 0, 15)).best, Algorithm::Instant);
        assert!(on(&check, MySqlVersion::mysql(8, 0, 15)).reason.contains("ignores"));
        assert_eq!(on(&check, MARIA_10_3).best, Algorithm::Copy);
    }

    #[test]
    fn table_level_operations() {
        let conv = on(&AlterActionKind::ConvertCharset { charset: "utf8mb4".into() }, MY_8_0_35);
        assert_eq!((conv.best, conv.concurrent_dml), (Algorithm::Copy, false));
        for name in ["ENGINE", "engine", "FORCE", "ROW_FORMAT", "KEY_BLOCK_SIZE", "DEFAULT CHARSET"] {
            let d = on(&AlterActionKind::TableOption { name: name.into() }, MY_8_0_35);
            assert_eq!((d.best, d.rebuilds_table, d.concurrent_dml), (Algorithm::Inplace, true, true), "{name}");
        }
        let ai = on(&AlterActionKind::TableOption { name: "AUTO_INCREMENT".into() }, MY_8_0_35);
        assert_eq!((ai.best, ai.rebuilds_table), (Algorithm::Inplace, false));
        assert_eq!(on(&AlterActionKind::TableOption { name: "PARTITION BY".into() }, MY_8_0_35).best, Algorithm::Copy);

        let to = QualifiedName { schema: None, name: "b".into(), span: Span::default() };
        assert_eq!(on(&AlterActionKind::RenameTable { to }, MY_8_0_35).best, Algorithm::Instant);
        assert_eq!(rename_table(Target::new(MY_5_7)).best, Algorithm::Inplace);
    }

    #[test]
    fn clauses_that_are_not_operations_or_not_modelled() {
        let t = Target::new(MY_8_0_35);
        assert_eq!(alter_action(&AlterActionKind::Algorithm(ir::Algorithm::Instant), t), None);
        assert_eq!(alter_action(&AlterActionKind::Lock(LockClause::None), t), None);
        assert_eq!(alter_action(&AlterActionKind::Other { kind: "partition".into() }, t), None);
        // One unknown clause makes the whole verdict unknown.
        assert_eq!(alter_table(&[act(add(col("a"))), act(AlterActionKind::Other { kind: "x".into() })], t), None);
        // Only ALGORITHM= / LOCK=: nothing to judge.
        assert_eq!(alter_table(&[act(AlterActionKind::Algorithm(ir::Algorithm::Copy))], t), None);
    }

    #[test]
    fn combine_takes_the_worst() {
        assert_eq!(combine([]).best, Algorithm::Instant);
        let i = OnlineDdl::instant("i");
        let p = OnlineDdl::inplace("p");
        let r = OnlineDdl::inplace_rebuild("r");
        let b = OnlineDdl::inplace_blocking(false, "b");
        let c = OnlineDdl::copy("c");
        assert_eq!(combine([i, i]), i);
        assert_eq!(combine([i, p]), p);
        assert_eq!(combine([p, r, i]), r);
        // Writes blocked beats a rebuild that allows writes; both flags carry over.
        assert_eq!(
            combine([r, b]),
            OnlineDdl { best: Algorithm::Inplace, rebuilds_table: true, concurrent_dml: false, reason: "b" }
        );
        assert_eq!(combine([i, c, b]).reason, "c");

        let t = Target::new(MY_8_0_35);
        let v = alter_table(
            &[
                act(add(col("a"))),
                act(AlterActionKind::Algorithm(ir::Algorithm::Instant)),
                act(constraint(ConstraintKind::Index { fulltext: false, spatial: false })),
            ],
            t,
        );
        assert_eq!(v.map(|v| (v.overall.best, v.worst)), Some((Algorithm::Inplace, Some(2))));
        let only_instant = alter_table(&[act(add(col("a"))), act(add(col("b")))], t);
        assert_eq!(only_instant.map(|v| (v.overall.best, v.worst)), Some((Algorithm::Instant, Some(0))));
    }

    #[test]
    fn explicit_clauses_are_read_from_the_actions() {
        let actions = [
            act(add(col("a"))),
            act(AlterActionKind::Algorithm(ir::Algorithm::Inplace)),
            act(AlterActionKind::Lock(LockClause::Default)),
        ];
        assert_eq!(explicit_algorithm(&actions), Some(ir::Algorithm::Inplace));
        assert_eq!(explicit_lock(&actions), None);
        assert_eq!(explicit_algorithm(&[act(AlterActionKind::Algorithm(ir::Algorithm::Default))]), None);
    }

    #[test]
    fn explicit_requests_the_server_refuses() {
        use ir::Algorithm as A;
        let instant = OnlineDdl::instant("adds a column");
        let inplace = OnlineDdl::inplace("adds an index");
        let rebuild = OnlineDdl::inplace_rebuild("drops a column");
        let blocking = OnlineDdl::inplace_blocking(false, "adds a SPATIAL index");
        let copy = OnlineDdl::copy("changes a type");

        // INSTANT with any LOCK other than DEFAULT is an error, even when instant is possible.
        assert!(explicit_request_refused(Some(A::Instant), Some(LockClause::None), &instant).is_some());
        assert!(explicit_request_refused(Some(A::Instant), Some(LockClause::Exclusive), &instant).is_some());
        assert_eq!(explicit_request_refused(Some(A::Instant), Some(LockClause::Default), &instant), None);
        assert_eq!(explicit_request_refused(Some(A::Instant), None, &instant), None);
        let msg = explicit_request_refused(Some(A::Instant), None, &inplace);
        assert!(msg.as_deref().is_some_and(|m| m.contains("INSTANT") && m.contains("adds an index")), "{msg:?}");

        assert_eq!(explicit_request_refused(Some(A::Inplace), Some(LockClause::None), &instant), None);
        assert_eq!(explicit_request_refused(Some(A::Inplace), Some(LockClause::None), &rebuild), None);
        assert!(explicit_request_refused(Some(A::Inplace), None, &copy).is_some());
        assert!(explicit_request_refused(Some(A::Inplace), Some(LockClause::None), &blocking).is_some());
        assert_eq!(explicit_request_refused(Some(A::Inplace), Some(LockClause::Shared), &blocking), None);

        // MariaDB NOCOPY: in place without a rebuild.
        assert_eq!(explicit_request_refused(Some(A::NoCopy), None, &inplace), None);
        assert!(explicit_request_refused(Some(A::NoCopy), None, &rebuild).is_some());

        // COPY is always possible, but never with LOCK=NONE.
        assert_eq!(explicit_request_refused(Some(A::Copy), None, &instant), None);
        assert!(explicit_request_refused(Some(A::Copy), Some(LockClause::None), &instant).is_some());
        assert_eq!(explicit_request_refused(Some(A::Copy), Some(LockClause::Shared), &copy), None);

        // No ALGORITHM: LOCK=NONE is checked against the best algorithm.
        assert_eq!(explicit_request_refused(None, Some(LockClause::None), &rebuild), None);
        assert!(explicit_request_refused(None, Some(LockClause::None), &copy).is_some());
        assert!(explicit_request_refused(Some(A::Default), Some(LockClause::None), &blocking).is_some());
        assert_eq!(explicit_request_refused(None, None, &copy), None);
    }
}
