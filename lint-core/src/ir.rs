//! The one typed model of migration operations that both dialects are lowered into.
//!
//! Rules that apply to PostgreSQL and MySQL alike are written once against this model. Every node
//! that a rule may point at carries a [`Span`] in file coordinates (byte offsets into the decoded
//! source text). Names are normalised the way the server resolves them: unquoted PostgreSQL
//! identifiers are folded to lower case, quoted ones are kept verbatim; MySQL identifiers are kept
//! as written (compare them with [`Ident::eq_mysql`]).

use crate::span::Span;
use serde::Serialize;

/// An identifier with the span of where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident { name: name.into(), span }
    }

    /// MySQL column names are case-insensitive; table names depend on the platform, and
    /// migrations are portable only when they are treated as case-insensitive too.
    pub fn eq_mysql(&self, other: &str) -> bool {
        self.name.eq_ignore_ascii_case(other)
    }
}

/// A possibly schema-qualified object name (`schema.table`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
    pub span: Span,
}

impl QualifiedName {
    /// `schema.name` or `name`.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// True when both names denote the same object, treating a missing schema as a wildcard
    /// (the search path is not known statically).
    pub fn same_object(&self, other: &QualifiedName) -> bool {
        let schema_ok = match (&self.schema, &other.schema) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        schema_ok && self.name.eq_ignore_ascii_case(&other.name)
    }
}

/// A column type as written, normalised enough for rules to reason about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypeName {
    /// Canonical lower-case base name: PostgreSQL internal names where they exist
    /// (`int4`, `int8`, `varchar`, `bpchar`, `timestamptz`, `numeric`, `text`, `bool`...),
    /// MySQL names as written in lower case (`int`, `bigint`, `varchar`, `enum`, `datetime`...).
    pub name: String,
    /// Integer type modifiers: `varchar(20)` -> `[20]`, `numeric(10,2)` -> `[10, 2]`.
    pub modifiers: Vec<i64>,
    /// Array type (`int[]`).
    pub array: bool,
    /// Values of MySQL `ENUM(...)` / `SET(...)` types, in order.
    pub values: Vec<String>,
    /// MySQL `CHARACTER SET` given on the column, lower case.
    pub charset: Option<String>,
    /// MySQL `UNSIGNED`.
    pub unsigned: bool,
    /// The type exactly as written in the source.
    pub text: String,
    pub span: Span,
}

/// What is known about how expensive an expression is to evaluate per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Volatility {
    /// Constant or a literal: PostgreSQL 11+ stores it in the catalog without a rewrite.
    Constant,
    /// Stable within a statement (`now()`, `current_timestamp`): evaluated once, no rewrite.
    Stable,
    /// Different for every row (`random()`, `gen_random_uuid()`, `nextval()`, `clock_timestamp()`):
    /// forces a table rewrite when used as a default of an added column.
    Volatile,
}

/// A default or generation expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expr {
    /// The expression's source text.
    pub text: String,
    pub volatility: Volatility,
    /// The literal `NULL`.
    pub is_null: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum GeneratedKind {
    Stored,
    Virtual,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnDef {
    pub name: Ident,
    pub type_name: TypeName,
    /// `NOT NULL` (a `PRIMARY KEY` column also counts as not null).
    pub not_null: bool,
    pub default: Option<Expr>,
    /// `GENERATED ALWAYS AS (expr) STORED|VIRTUAL`.
    pub generated: Option<(GeneratedKind, Expr)>,
    /// `GENERATED ... AS IDENTITY`, `serial`/`bigserial` (PostgreSQL) or `AUTO_INCREMENT` (MySQL).
    pub identity: bool,
    pub primary_key: bool,
    pub unique: bool,
    /// Inline `REFERENCES other(col)` in the column definition.
    pub references: Option<ForeignKeyTarget>,
    /// Inline `CHECK (...)` in the column definition.
    pub check: Option<Expr>,
    /// MySQL `FIRST` / `AFTER col` position clause, when given.
    pub position: Option<ColumnPosition>,
    /// The whole column definition.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ColumnPosition {
    First,
    After(Ident),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForeignKeyTarget {
    pub table: QualifiedName,
    pub columns: Vec<Ident>,
    /// The span of the `REFERENCES ...` clause.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ConstraintKind {
    Check {
        expr: Expr,
    },
    ForeignKey {
        target: ForeignKeyTarget,
    },
    PrimaryKey,
    Unique,
    Exclusion,
    /// PostgreSQL 18 `NOT NULL col` table constraint.
    NotNull,
    /// MySQL `INDEX`/`KEY`/`FULLTEXT`/`SPATIAL` declared inside CREATE/ALTER TABLE.
    Index {
        fulltext: bool,
        spatial: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub name: Option<Ident>,
    pub kind: ConstraintKind,
    /// Local columns the constraint is on (empty for CHECK).
    pub columns: Vec<Ident>,
    pub not_valid: bool,
    /// `... USING INDEX idx` (PostgreSQL PRIMARY KEY / UNIQUE).
    pub using_index: Option<Ident>,
    /// The whole constraint clause.
    pub span: Span,
}

/// One subcommand of an `ALTER TABLE`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlterAction {
    pub kind: AlterActionKind,
    /// The subcommand's own text (one comma-separated clause).
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[allow(clippy::large_enum_variant)] // Built once per clause; boxing would only add noise.
pub enum AlterActionKind {
    AddColumn {
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        name: Ident,
        if_exists: bool,
        cascade: bool,
    },
    RenameColumn {
        from: Ident,
        to: Ident,
    },
    /// PostgreSQL `ALTER COLUMN c TYPE t [USING e]`, or a MySQL `MODIFY`/`CHANGE` (which restate
    /// the whole definition; `new_definition` then holds it and `rename_to` the new name of a
    /// `CHANGE`).
    AlterColumnType {
        column: Ident,
        new_type: TypeName,
        using: Option<Expr>,
        new_definition: Option<Box<ColumnDef>>,
        rename_to: Option<Ident>,
    },
    SetDefault {
        column: Ident,
        expr: Expr,
    },
    DropDefault {
        column: Ident,
    },
    SetNotNull {
        column: Ident,
    },
    DropNotNull {
        column: Ident,
    },
    AddConstraint(Constraint),
    ValidateConstraint {
        name: Ident,
    },
    DropConstraint {
        name: Ident,
        if_exists: bool,
        cascade: bool,
    },
    RenameConstraint {
        from: Ident,
        to: Ident,
    },
    /// MySQL `DROP PRIMARY KEY`.
    DropPrimaryKey,
    /// MySQL `DROP INDEX`/`DROP KEY` inside ALTER TABLE.
    DropIndex {
        name: Ident,
    },
    /// MySQL `RENAME INDEX a TO b` / PostgreSQL has ALTER INDEX ... RENAME instead.
    RenameIndex {
        from: Ident,
        to: Ident,
    },
    /// `RENAME TO new` (PostgreSQL) / `RENAME [TO|AS] new` (MySQL) inside ALTER TABLE.
    RenameTable {
        to: QualifiedName,
    },
    /// MySQL `ALGORITHM = x` clause.
    Algorithm(Algorithm),
    /// MySQL `LOCK = x` clause.
    Lock(LockClause),
    /// MySQL `CONVERT TO CHARACTER SET x`.
    ConvertCharset {
        charset: String,
    },
    /// PostgreSQL `SET TABLESPACE`.
    SetTablespace,
    /// PostgreSQL `SET LOGGED` / `SET UNLOGGED`.
    SetLogged {
        logged: bool,
    },
    /// PostgreSQL `ATTACH PARTITION`.
    AttachPartition {
        partition: QualifiedName,
    },
    /// PostgreSQL `DETACH PARTITION [CONCURRENTLY|FINALIZE]`.
    DetachPartition {
        partition: QualifiedName,
        concurrently: bool,
    },
    /// `ENABLE`/`DISABLE TRIGGER`.
    EnableDisableTrigger,
    /// PostgreSQL `SET STATISTICS`, `SET STORAGE`, `SET COMPRESSION`, and column or table
    /// `SET (...)` / `RESET (...)`.
    SetOption(SetOptionKind),
    /// MySQL table options such as `ENGINE=`, `ROW_FORMAT=`, `FORCE`, `AUTO_INCREMENT=`.
    TableOption {
        name: String,
    },
    /// Anything else, with a short kind name (e.g. `"AT_ClusterOn"`, `"owner"`).
    Other {
        kind: String,
    },
}

/// What a PostgreSQL `ALTER TABLE ... SET`/`RESET` subcommand changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum SetOptionKind {
    /// `ALTER COLUMN c SET STATISTICS n`.
    Statistics,
    /// `ALTER COLUMN c SET (n_distinct = ...)` / `RESET (...)`.
    ColumnOptions,
    /// `ALTER COLUMN c SET STORAGE ...` / `SET COMPRESSION ...`.
    ColumnStorage,
    /// The table's `SET (name = ...)` / `RESET (name)`: the storage parameter names in lower
    /// case, with their `toast.` prefix.
    StorageParameters(Vec<String>),
}

/// MySQL `ALGORITHM=` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Algorithm {
    Default,
    Instant,
    /// MariaDB `NOCOPY`.
    NoCopy,
    Inplace,
    Copy,
}

/// MySQL `LOCK=` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum LockClause {
    Default,
    None,
    Shared,
    Exclusive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexColumn {
    /// Column name, or `None` for an expression.
    pub name: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ObjectKind {
    Table,
    Index,
    View,
    MaterializedView,
    Sequence,
    Schema,
    Database,
    Type,
    Function,
    Procedure,
    Trigger,
    Extension,
    Other,
}

impl ObjectKind {
    /// The kind as written in SQL and in messages ("materialized view"); "object" for `Other`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Schema => "schema",
            ObjectKind::Database => "database",
            ObjectKind::Type => "type",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Extension => "extension",
            ObjectKind::Other => "object",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TransactionOp {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    ReleaseSavepoint,
    RollbackToSavepoint,
    /// `PREPARE TRANSACTION` / `COMMIT PREPARED` and other rarities.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DmlKind {
    Insert,
    Update,
    Delete,
    /// `MERGE` / MySQL `REPLACE`.
    Merge,
    Select,
    Copy,
}

/// One migration operation: what a statement does, in dialect-neutral terms.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    CreateTable {
        name: QualifiedName,
        if_not_exists: bool,
        temporary: bool,
        columns: Vec<ColumnDef>,
        constraints: Vec<Constraint>,
        /// `CREATE TABLE ... AS SELECT` / `LIKE`.
        as_select: bool,
        /// `PARTITION OF parent` (PostgreSQL).
        partition_of: Option<QualifiedName>,
        /// MySQL table default character set (`DEFAULT CHARSET=`, or the one a `COLLATE=` names),
        /// lower case.
        charset: Option<String>,
    },
    AlterTable {
        name: QualifiedName,
        if_exists: bool,
        /// PostgreSQL `ONLY`.
        only: bool,
        actions: Vec<AlterAction>,
    },
    /// `ALTER TABLE a RENAME TO b` in PostgreSQL and `RENAME TABLE a TO b` in MySQL are both
    /// lowered to this, one per pair.
    RenameTable {
        from: QualifiedName,
        to: QualifiedName,
    },
    CreateIndex {
        name: Option<Ident>,
        table: QualifiedName,
        unique: bool,
        concurrently: bool,
        if_not_exists: bool,
        columns: Vec<IndexColumn>,
        /// Partial index predicate present.
        has_where: bool,
        /// MySQL `ALGORITHM=`/`LOCK=` on CREATE INDEX.
        algorithm: Option<Algorithm>,
        lock: Option<LockClause>,
        /// The `CREATE [UNIQUE] INDEX` keywords: where `CONCURRENTLY` goes.
        keyword_span: Span,
    },
    DropIndex {
        names: Vec<QualifiedName>,
        concurrently: bool,
        if_exists: bool,
        cascade: bool,
        /// MySQL `DROP INDEX i ON t`.
        table: Option<QualifiedName>,
        /// The `DROP INDEX` keywords.
        keyword_span: Span,
    },
    /// `DROP TABLE/VIEW/SCHEMA/SEQUENCE/TYPE/...` (not indexes).
    Drop {
        kind: ObjectKind,
        names: Vec<QualifiedName>,
        if_exists: bool,
        cascade: bool,
    },
    /// `CREATE VIEW/SCHEMA/SEQUENCE/TYPE/FUNCTION/EXTENSION/TRIGGER/...`.
    Create {
        kind: ObjectKind,
        name: Option<QualifiedName>,
        if_not_exists: bool,
        /// `OR REPLACE`.
        or_replace: bool,
        /// The table the object is defined on (`CREATE TRIGGER ... ON t`).
        table: Option<QualifiedName>,
    },
    /// `ALTER INDEX a RENAME TO b`, `ALTER VIEW ... RENAME`, `ALTER SCHEMA ... RENAME`, etc.
    RenameObject {
        kind: ObjectKind,
        from: QualifiedName,
        to: Ident,
    },
    /// `CREATE TYPE t AS ENUM ('a', 'b')` (PostgreSQL).
    CreateEnumType {
        name: QualifiedName,
        values: Vec<String>,
    },
    /// `ALTER TYPE t ADD VALUE 'x'` (PostgreSQL enums).
    AlterEnumAddValue {
        type_name: QualifiedName,
        value: String,
        if_not_exists: bool,
        /// `BEFORE`/`AFTER` given.
        positioned: bool,
    },
    Truncate {
        tables: Vec<QualifiedName>,
        cascade: bool,
    },
    Transaction(TransactionOp),
    /// `SET [SESSION|LOCAL] name = value` / `SET name TO value`.
    Set {
        name: String,
        /// The value as written, without quotes.
        value: String,
        local: bool,
    },
    Dml {
        kind: DmlKind,
        table: Option<QualifiedName>,
        has_where: bool,
        /// `... LIMIT n` on MySQL UPDATE/DELETE.
        has_limit: bool,
    },
    /// `REINDEX [CONCURRENTLY] ...`.
    Reindex {
        concurrently: bool,
        /// `Index`, `Table`, `Schema`, `Database`; `Other` for `SYSTEM`.
        kind: ObjectKind,
        target: Option<QualifiedName>,
    },
    /// `VACUUM [FULL]`.
    Vacuum {
        full: bool,
        tables: Vec<QualifiedName>,
    },
    /// PostgreSQL `REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]`.
    RefreshMaterializedView {
        name: QualifiedName,
        concurrently: bool,
        /// False for `WITH NO DATA`, which empties the view.
        with_data: bool,
    },
    /// `CLUSTER [table]`.
    Cluster {
        table: Option<QualifiedName>,
    },
    /// PostgreSQL `LOCK TABLE`.
    LockTable {
        tables: Vec<QualifiedName>,
        /// Mode as written in upper case, e.g. `ACCESS EXCLUSIVE`.
        mode: String,
    },
    /// PostgreSQL `DO $$ ... $$` block.
    DoBlock,
    /// Anything else, with the parser's own statement kind (e.g. `"GrantStmt"`, `"Comment"`).
    Other {
        kind: String,
    },
}

impl Op {
    /// Tables whose rows or definition this operation touches and that lock rules care about.
    pub fn target_table(&self) -> Option<&QualifiedName> {
        match self {
            Op::AlterTable { name, .. } => Some(name),
            Op::CreateIndex { table, .. } => Some(table),
            Op::RenameTable { from, .. } => Some(from),
            Op::Dml { table, .. } => table.as_ref(),
            Op::Cluster { table } => table.as_ref(),
            _ => None,
        }
    }

    pub fn is_ddl(&self) -> bool {
        !matches!(self, Op::Transaction(_) | Op::Set { .. } | Op::Dml { .. } | Op::Other { .. } | Op::DoBlock)
    }
}
