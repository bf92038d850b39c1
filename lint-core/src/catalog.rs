//! The schema a migration history produces, replayed operation by operation in memory.
//!
//! Rules read it to know what existed before a statement: a column's old type, whether a table
//! was created by a migration that is not yet applied, which indexes cover a foreign key, which
//! validated CHECK constraints prove a column has no NULLs. Maps are persistent
//! ([`imbl::HashMap`]), so keeping the state before every statement of a file costs one cheap
//! clone per statement.
//!
//! Names are compared the way the dialect resolves them: ASCII case-insensitively (PostgreSQL
//! identifiers arrive already folded by the parser; MySQL names are case-insensitive in practice).
//! An unqualified PostgreSQL name resolves to `public` first, then to the only table of that name
//! in any schema, since the search path is not known statically.

use crate::ir::{
    AlterActionKind, ColumnDef, Constraint, ConstraintKind, IndexColumn, ObjectKind, Op, QualifiedName, TypeName,
};
use crate::Dialect;
/// Persistent maps hashed with foldhash: catalog keys are short identifiers, and SipHash was a
/// visible share of replaying a long history.
type PMap<K, V> = imbl::GenericHashMap<K, V, foldhash::fast::RandomState, imbl::shared_ptr::DefaultSharedPtr>;
type PSet<K> = imbl::GenericHashSet<K, foldhash::fast::RandomState, imbl::shared_ptr::DefaultSharedPtr>;
use std::sync::Arc;

/// Where an object came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The migration file (display path) that created it; `None` for the file being linted.
    pub file: Option<Arc<str>>,
    /// Created by a migration that is not applied yet (the file being linted, or a new migration
    /// of the change set): it holds no data and no other session uses it.
    pub pending: bool,
}

/// A column as the history left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_name: TypeName,
    pub not_null: bool,
    /// Default expression text.
    pub default: Option<String>,
    pub identity: bool,
    pub generated: bool,
    pub origin: Origin,
}

/// A table constraint (PostgreSQL constraints; MySQL keys are [`Index`]es).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConstraint {
    pub name: Option<String>,
    pub kind: CatalogConstraintKind,
    pub columns: Vec<String>,
    /// False for a constraint added `NOT VALID` and not validated since.
    pub validated: bool,
}

impl TableConstraint {
    /// Whether `name` names this constraint of table `table` (its unqualified name): its own
    /// name, or, for a constraint created without one on PostgreSQL, the name the server gives
    /// it (`<table>_pkey`, `<table>_<columns>_key`, `_fkey` or `_excl`) when that fits in
    /// an identifier (63 bytes) untruncated.
    pub fn is_named(&self, table: &str, name: &str, dialect: Dialect) -> bool {
        if let Some(own) = &self.name {
            return own.eq_ignore_ascii_case(name);
        }
        if dialect != Dialect::Postgres {
            return false;
        }
        let generated = match &self.kind {
            CatalogConstraintKind::PrimaryKey => format!("{table}_pkey"),
            CatalogConstraintKind::Unique => format!("{table}_{}_key", self.columns.join("_")),
            CatalogConstraintKind::ForeignKey { .. } => format!("{table}_{}_fkey", self.columns.join("_")),
            CatalogConstraintKind::Exclusion => format!("{table}_{}_excl", self.columns.join("_")),
            CatalogConstraintKind::Check { .. } | CatalogConstraintKind::Other => return false,
        };
        generated.len() <= 63 && generated.eq_ignore_ascii_case(name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogConstraintKind {
    PrimaryKey,
    Unique,
    /// A CHECK constraint; `not_null_of` names the column when the expression is exactly
    /// `col IS NOT NULL`.
    Check {
        expr: String,
        not_null_of: Option<String>,
    },
    ForeignKey {
        target: QualifiedName,
        target_columns: Vec<String>,
    },
    Exclusion,
    Other,
}

/// A table's columns in creation order, found by name (ASCII case-insensitively) without a scan.
///
/// Both maps are persistent: a snapshot of the catalog shares them, and changing one column of a
/// copy costs a few tree nodes rather than a copy of every column. A file of thousands of
/// `ADD COLUMN`s on one table, each statement keeping its catalog snapshot, stays linear.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    /// By position: a counter that only grows, so iteration follows creation order.
    by_seq: imbl::OrdMap<u64, Arc<Column>>,
    /// Lower-case name to position.
    seq_of: PMap<Key, u64>,
    next: u64,
}

/// The columns of a [`Columns`], in creation order.
pub type ColumnsIter<'a> = std::iter::Map<
    imbl::ordmap::Values<'a, u64, Arc<Column>, imbl::shared_ptr::DefaultSharedPtr>,
    fn(&'a Arc<Column>) -> &'a Column,
>;

/// `name` in ASCII lower case, borrowed when it already is.
fn lower(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(name.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

impl Columns {
    pub fn iter(&self) -> ColumnsIter<'_> {
        self.by_seq.values().map(|c| &**c)
    }

    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    pub fn first(&self) -> Option<&Column> {
        self.by_seq.get_min().map(|(_, c)| &**c)
    }

    /// The column called `name` (ASCII case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Column> {
        let seq = self.seq_of.get(lower(name).as_ref())?;
        self.by_seq.get(seq).map(|c| &**c)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Column> {
        let seq = *self.seq_of.get(lower(name).as_ref())?;
        self.by_seq.get_mut(&seq).map(Arc::make_mut)
    }

    /// Adds `column` last, replacing a column of the same name.
    pub fn push(&mut self, column: Column) {
        self.remove(&column.name);
        let seq = self.next;
        self.next += 1;
        self.seq_of.insert(Key::from(lower(&column.name).as_ref()), seq);
        self.by_seq.insert(seq, Arc::new(column));
    }

    pub fn remove(&mut self, name: &str) -> Option<Column> {
        let seq = self.seq_of.remove(lower(name).as_ref())?;
        self.by_seq.remove(&seq).map(Arc::unwrap_or_clone)
    }

    /// Renames column `from` to `to` in place (a column already called `to` is replaced).
    fn rename(&mut self, from: &str, to: &str) {
        if from.eq_ignore_ascii_case(to) {
            if let Some(c) = self.get_mut(from) {
                c.name = to.to_string();
            }
            return;
        }
        let Some(seq) = self.seq_of.remove(lower(from).as_ref()) else { return };
        if let Some(old) = self.seq_of.remove(lower(to).as_ref()) {
            self.by_seq.remove(&old);
        }
        self.seq_of.insert(Key::from(lower(to).as_ref()), seq);
        if let Some(c) = self.by_seq.get_mut(&seq) {
            Arc::make_mut(c).name = to.to_string();
        }
    }

    /// Applies `f` to every column.
    fn for_each_mut(&mut self, mut f: impl FnMut(&mut Column)) {
        let seqs: Vec<u64> = self.by_seq.keys().copied().collect();
        for seq in seqs {
            if let Some(c) = self.by_seq.get_mut(&seq) {
                f(Arc::make_mut(c));
            }
        }
    }
}

impl PartialEq for Columns {
    fn eq(&self, other: &Columns) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Columns {}

impl<'a> IntoIterator for &'a Columns {
    type Item = &'a Column;
    type IntoIter = ColumnsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Column> for Columns {
    fn from_iter<I: IntoIterator<Item = Column>>(iter: I) -> Self {
        let mut out = Columns::default();
        for c in iter {
            out.push(c);
        }
        out
    }
}

/// Applies `f` to the constraints `touches` selects, copying only those (and only when a
/// snapshot shares them).
fn change_constraints(
    constraints: &mut imbl::Vector<Arc<TableConstraint>>,
    touches: impl Fn(&TableConstraint) -> bool,
    mut f: impl FnMut(&mut TableConstraint),
) {
    let hit: Vec<usize> = constraints.iter().enumerate().filter(|(_, c)| touches(c)).map(|(i, _)| i).collect();
    for i in hit {
        if let Some(c) = constraints.get_mut(i) {
            f(Arc::make_mut(c));
        }
    }
}

/// A table with its columns and constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub schema: Option<String>,
    pub name: String,
    pub columns: Columns,
    /// False when the columns cannot be known (`CREATE TABLE ... AS SELECT`, `LIKE`).
    pub columns_known: bool,
    /// Persistent, like [`Columns`]: a snapshot shares them and a change copies only a few nodes.
    pub constraints: imbl::Vector<Arc<TableConstraint>>,
    /// MySQL table default character set (`DEFAULT CHARSET=` of CREATE TABLE, `CONVERT TO CHARACTER SET`).
    pub charset: Option<String>,
    pub origin: Origin,
    /// No migration of the history creates the table: it was first seen being altered or
    /// indexed, so it existed before the history begins and only what the history did to it is
    /// known.
    pub stub: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(name)
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.get_mut(name)
    }

    /// A validated `CHECK (col IS NOT NULL)` exists on the column.
    pub fn has_validated_not_null_check(&self, column: &str) -> bool {
        self.constraints.iter().any(|c| {
            c.validated
                && matches!(&c.kind, CatalogConstraintKind::Check { not_null_of: Some(n), .. } if n.eq_ignore_ascii_case(column))
        })
    }

    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// An index (explicit, or the one behind a PRIMARY KEY / UNIQUE constraint or a MySQL key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    pub name: Option<String>,
    /// Key of the indexed table in the catalog.
    pub table: String,
    /// Indexed columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
    pub unique: bool,
    pub partial: bool,
    pub origin: Origin,
}

impl Index {
    /// True when the index's leading columns are exactly `columns`, in any order: it can serve
    /// lookups on them (what a foreign key's referencing side needs).
    pub fn covers_prefix(&self, columns: &[String]) -> bool {
        if columns.is_empty() || self.columns.len() < columns.len() || self.partial {
            return false;
        }
        columns.iter().all(|c| {
            self.columns[..columns.len()].iter().any(|ic| ic.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(c)))
        })
    }
}

/// The replayed schema. Equality compares contents (two replays of the same operations are
/// equal); it holds no source positions, since its objects come from many files.
#[derive(Clone, Debug)]
pub struct Catalog {
    dialect: Dialect,
    tables: Tables,
    /// Keyed by `schema.name` (PostgreSQL: index names are unique per schema) or `table.name`
    /// (MySQL: per table). Unnamed indexes get a synthetic key.
    indexes: Indexes,
    /// PostgreSQL enum types and their labels, by key.
    enums: PMap<String, Arc<Vec<String>>>,
    /// Other named objects (views, sequences, functions, schemas, extensions, types).
    objects: PMap<(u8, String), Origin>,
    /// Counter for synthetic index keys.
    unnamed: u64,
}

/// Map keys are shared strings: copying a map node on write (after a snapshot) then only bumps
/// reference counts instead of allocating every key again.
type Key = Arc<str>;

/// Tables by key, with the keys of each (lower-case) table name, so an unqualified name resolves
/// without a scan.
#[derive(Clone, Debug, Default)]
struct Tables {
    by_key: PMap<Key, Arc<Table>>,
    by_name: PMap<Key, PSet<Key>>,
}

impl Tables {
    fn get(&self, key: &str) -> Option<&Arc<Table>> {
        self.by_key.get(key)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    fn insert(&mut self, key: String, table: Arc<Table>) {
        let key: Key = Arc::from(key);
        let name = table.name.to_ascii_lowercase();
        if let Some(old) = self.by_key.insert(key.clone(), table) {
            unlink(&mut self.by_name, &old.name.to_ascii_lowercase(), &key);
        }
        link(&mut self.by_name, &name, &key);
    }

    fn remove(&mut self, key: &str) -> Option<Arc<Table>> {
        // A persistent map copies the path to a key it removes, even an absent one.
        if !self.by_key.contains_key(key) {
            return None;
        }
        let old = self.by_key.remove(key)?;
        unlink(&mut self.by_name, &old.name.to_ascii_lowercase(), key);
        Some(old)
    }

    /// Keys of the tables called `name` (lower case) in any schema.
    fn named(&self, name: &str) -> impl Iterator<Item = String> + '_ {
        self.by_name.get(name).into_iter().flat_map(|k| k.iter().map(|k| k.to_string()))
    }

    fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.by_key.keys().map(|k| k.to_string())
    }

    fn len(&self) -> usize {
        self.by_key.len()
    }

    fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Indexes by key, with the keys of each table's indexes and of each (lower-case) index name.
#[derive(Clone, Debug, Default)]
struct Indexes {
    by_key: PMap<Key, Arc<Index>>,
    by_table: PMap<Key, PSet<Key>>,
    by_name: PMap<Key, PSet<Key>>,
}

/// Adds `key` to the set at `at`, updating the set in place when this map owns it.
fn link(map: &mut PMap<Key, PSet<Key>>, at: &str, key: &Key) {
    // `get_mut` copies the path to `at` (shared with a snapshot) even when `at` is absent.
    if map.contains_key(at) {
        if let Some(keys) = map.get_mut(at) {
            keys.insert(key.clone());
            return;
        }
    }
    let mut keys = PSet::default();
    keys.insert(key.clone());
    map.insert(Arc::from(at), keys);
}

/// Removes `key` from the set at `at`, and the set once it is empty.
fn unlink(map: &mut PMap<Key, PSet<Key>>, at: &str, key: &str) {
    if let Some(keys) = map.get_mut(at) {
        keys.remove(key);
        if keys.is_empty() {
            map.remove(at);
        }
    }
}

impl Indexes {
    fn get(&self, key: &str) -> Option<&Arc<Index>> {
        self.by_key.get(key)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    fn insert(&mut self, key: String, index: Arc<Index>) {
        self.remove(&key);
        let key: Key = Arc::from(key);
        link(&mut self.by_table, &index.table, &key);
        if let Some(n) = &index.name {
            link(&mut self.by_name, &n.to_ascii_lowercase(), &key);
        }
        self.by_key.insert(key, index);
    }

    fn remove(&mut self, key: &str) -> Option<Arc<Index>> {
        // A persistent map copies the path to a key it removes, even an absent one.
        if !self.by_key.contains_key(key) {
            return None;
        }
        let old = self.by_key.remove(key)?;
        unlink(&mut self.by_table, &old.table, key);
        if let Some(n) = &old.name {
            unlink(&mut self.by_name, &n.to_ascii_lowercase(), key);
        }
        Some(old)
    }

    /// Keys of the indexes on the table with catalog key `table`.
    fn on_table(&self, table: &str) -> Vec<String> {
        self.by_table.get(table).map(|k| k.iter().map(|k| k.to_string()).collect()).unwrap_or_default()
    }

    /// Keys of the indexes called `name` (lower case).
    fn named(&self, name: &str) -> Vec<String> {
        self.by_name.get(name).map(|k| k.iter().map(|k| k.to_string()).collect()).unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Same entries; maps sharing their root are equal without a look.
fn same_entries<K: std::hash::Hash + Eq + Clone, V: PartialEq + Clone>(a: &PMap<K, V>, b: &PMap<K, V>) -> bool {
    a.ptr_eq(b) || (a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v)))
}

impl PartialEq for Catalog {
    fn eq(&self, other: &Catalog) -> bool {
        // The secondary maps of tables and indexes are functions of their `by_key` maps.
        self.dialect == other.dialect
            && self.unnamed == other.unnamed
            && same_entries(&self.tables.by_key, &other.tables.by_key)
            && same_entries(&self.indexes.by_key, &other.indexes.by_key)
            && same_entries(&self.enums, &other.enums)
            && same_entries(&self.objects, &other.objects)
    }
}

fn kind_tag(kind: ObjectKind) -> u8 {
    kind as u8
}

impl Catalog {
    pub fn new(dialect: Dialect) -> Catalog {
        Catalog {
            dialect,
            tables: Tables::default(),
            indexes: Indexes::default(),
            enums: PMap::default(),
            objects: PMap::default(),
            unnamed: 0,
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.indexes.is_empty() && self.enums.is_empty() && self.objects.is_empty()
    }

    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// Every table, in no particular order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> + '_ {
        self.tables.by_key.values().map(|t| t.as_ref())
    }

    fn default_schema(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "public",
            Dialect::MySql => "",
        }
    }

    fn key(&self, name: &QualifiedName) -> String {
        let schema = name.schema.as_deref().unwrap_or(self.default_schema());
        format!("{}.{}", schema.to_ascii_lowercase(), name.name.to_ascii_lowercase())
    }

    /// The catalog key of the table `name` resolves to, if known.
    fn resolve(&self, name: &QualifiedName) -> Option<String> {
        let key = self.key(name);
        if self.tables.contains_key(&key) {
            return Some(key);
        }
        if name.schema.is_some() {
            return None;
        }
        let mut found = self.tables.named(&name.name.to_ascii_lowercase());
        match (found.next(), found.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.resolve(name).and_then(|k| self.tables.get(&k)).map(|t| t.as_ref())
    }

    /// The column's state, when both the table and the column are known.
    pub fn column(&self, table: &QualifiedName, column: &str) -> Option<&Column> {
        self.table(table).and_then(|t| t.column(column))
    }

    /// Every index on the table.
    pub fn indexes_on(&self, table: &QualifiedName) -> Vec<&Index> {
        let Some(key) = self.resolve(table) else { return Vec::new() };
        self.indexes.on_table(&key).iter().filter_map(|k| self.indexes.get(k)).map(|i| i.as_ref()).collect()
    }

    /// True when an index (including a primary key or unique constraint) on `table` has `columns`
    /// as its leading columns.
    pub fn has_index_covering(&self, table: &QualifiedName, columns: &[String]) -> bool {
        self.indexes_on(table).iter().any(|i| i.covers_prefix(columns))
    }

    fn index_key(&self, name: &str, table: Option<&QualifiedName>, schema: Option<&str>) -> String {
        match self.dialect {
            Dialect::MySql => {
                let t = table.and_then(|t| self.resolve(t)).unwrap_or_default();
                format!("{t}/{}", name.to_ascii_lowercase())
            }
            Dialect::Postgres => {
                let s = schema.or_else(|| table.and_then(|t| t.schema.as_deref())).unwrap_or(self.default_schema());
                format!("{}.{}", s.to_ascii_lowercase(), name.to_ascii_lowercase())
            }
        }
    }

    /// The index named `name` (schema-qualified for PostgreSQL; `table` for MySQL).
    pub fn index(&self, name: &QualifiedName, table: Option<&QualifiedName>) -> Option<&Index> {
        let key = self.index_key(&name.name, table, name.schema.as_deref());
        if let Some(i) = self.indexes.get(&key) {
            return Some(i);
        }
        if name.schema.is_none() && self.dialect == Dialect::Postgres {
            return self
                .indexes
                .named(&name.name.to_ascii_lowercase())
                .first()
                .and_then(|k| self.indexes.get(k))
                .map(|i| i.as_ref());
        }
        None
    }

    /// Labels of a PostgreSQL enum type.
    pub fn enum_values(&self, name: &QualifiedName) -> Option<&[String]> {
        self.enums.get(&self.key(name)).map(|v| v.as_slice())
    }

    /// The origin of another kind of named object (view, sequence, schema, extension...).
    pub fn object(&self, kind: ObjectKind, name: &QualifiedName) -> Option<&Origin> {
        if let Some(t) = self.table(name).filter(|_| kind == ObjectKind::Table) {
            return Some(&t.origin);
        }
        self.objects.get(&(kind_tag(kind), self.key(name)))
    }

    /// Applies one operation. Unknown objects are created on the fly where the operation
    /// describes them fully, and otherwise left unknown (rules then fall back to caution).
    pub fn apply(&mut self, op: &Op, origin: &Origin) {
        match op {
            Op::CreateTable {
                name,
                if_not_exists,
                temporary: _,
                columns,
                constraints,
                as_select,
                partition_of,
                charset,
            } => {
                let key = self.key(name);
                if *if_not_exists && self.tables.contains_key(&key) {
                    return;
                }
                let mut table = Table {
                    schema: name.schema.clone(),
                    name: name.name.clone(),
                    columns: Columns::default(),
                    columns_known: !as_select,
                    constraints: imbl::Vector::new(),
                    charset: charset.clone(),
                    origin: origin.clone(),
                    stub: false,
                };
                if let Some(parent) = partition_of {
                    match self.table(parent) {
                        Some(p) => {
                            table.columns = p.columns.clone();
                            table.columns_known = p.columns_known;
                        }
                        None => table.columns_known = false,
                    }
                }
                self.remove_table_indexes(&key);
                self.tables.insert(key.clone(), Arc::new(table));
                for c in columns {
                    self.add_column(&key, c, origin);
                }
                for c in constraints {
                    self.add_constraint(&key, name, c, origin);
                }
            }
            Op::AlterTable { name, actions, .. } => {
                let key = self.resolve_or_stub(name);
                for a in actions {
                    self.alter(&key, name, &a.kind, origin);
                }
            }
            Op::RenameTable { from, to } => self.rename_table(from, to),
            Op::CreateIndex { name, table, unique, if_not_exists, columns, has_where, .. } => {
                let tkey = self.resolve_or_stub(table);
                let key = match name {
                    Some(n) => self.index_key(&n.name, Some(table), table.schema.as_deref()),
                    None => self.synthetic_key(),
                };
                if *if_not_exists && self.indexes.contains_key(&key) {
                    return;
                }
                let index = Index {
                    name: name.as_ref().map(|n| n.name.clone()),
                    table: tkey,
                    columns: index_columns(columns),
                    unique: *unique,
                    partial: *has_where,
                    origin: origin.clone(),
                };
                self.indexes.insert(key, Arc::new(index));
            }
            Op::DropIndex { names, table, .. } => {
                for n in names {
                    let key = self.index_key(&n.name, table.as_ref(), n.schema.as_deref());
                    if self.indexes.remove(&key).is_none() && n.schema.is_none() {
                        let found = self.indexes.named(&n.name.to_ascii_lowercase()).into_iter().next();
                        if let Some(k) = found {
                            self.indexes.remove(&k);
                        }
                    }
                }
            }
            Op::Drop { kind, names, .. } => {
                for n in names {
                    match kind {
                        ObjectKind::Table => {
                            if let Some(key) = self.resolve(n) {
                                self.tables.remove(&key);
                                self.remove_table_indexes(&key);
                            }
                        }
                        ObjectKind::Type => {
                            let key = self.key(n);
                            self.enums.remove(&key);
                            self.objects.remove(&(kind_tag(*kind), key));
                        }
                        ObjectKind::Schema => {
                            let prefix = format!("{}.", n.name.to_ascii_lowercase());
                            let doomed: Vec<String> = self.tables.keys().filter(|k| k.starts_with(&prefix)).collect();
                            for k in doomed {
                                self.tables.remove(&k);
                                self.remove_table_indexes(&k);
                            }
                            self.objects.remove(&(kind_tag(*kind), self.key(n)));
                        }
                        _ => {
                            self.objects.remove(&(kind_tag(*kind), self.key(n)));
                        }
                    }
                }
            }
            Op::Create { kind, name: Some(name), if_not_exists, or_replace, .. } => {
                let key = (kind_tag(*kind), self.key(name));
                if (*if_not_exists || *or_replace) && self.objects.contains_key(&key) {
                    return;
                }
                self.objects.insert(key, origin.clone());
            }
            Op::CreateEnumType { name, values } => {
                let key = self.key(name);
                self.enums.insert(key.clone(), Arc::new(values.clone()));
                self.objects.insert((kind_tag(ObjectKind::Type), key), origin.clone());
            }
            Op::AlterEnumAddValue { type_name, value, .. } => {
                let key = self.key(type_name);
                if let Some(values) = self.enums.get(&key) {
                    if !values.iter().any(|v| v == value) {
                        let mut v = values.as_ref().clone();
                        v.push(value.clone());
                        self.enums.insert(key, Arc::new(v));
                    }
                }
            }
            Op::RenameObject { kind: ObjectKind::Index, from, to } => {
                let Some(old) = self.index(from, None).cloned() else { return };
                let key = self.index_key(&from.name, None, from.schema.as_deref());
                let found = if self.indexes.contains_key(&key) {
                    Some(key)
                } else {
                    self.indexes.named(&from.name.to_ascii_lowercase()).into_iter().next()
                };
                if let Some(k) = found {
                    self.indexes.remove(&k);
                    let new_key = self.index_key(&to.name, None, from.schema.as_deref());
                    self.indexes.insert(new_key, Arc::new(Index { name: Some(to.name.clone()), ..old }));
                }
            }
            Op::RenameObject { kind, from, to } => {
                let key = (kind_tag(*kind), self.key(from));
                if let Some(o) = self.objects.remove(&key) {
                    let renamed = QualifiedName { name: to.name.clone(), ..from.clone() };
                    self.objects.insert((kind_tag(*kind), self.key(&renamed)), o);
                }
            }
            _ => {}
        }
    }

    /// The key of `name`, adding it as a [`Table::stub`] when the history has not created it.
    fn resolve_or_stub(&mut self, name: &QualifiedName) -> String {
        if let Some(k) = self.resolve(name) {
            return k;
        }
        let key = self.key(name);
        let table = Table {
            schema: name.schema.clone(),
            name: name.name.clone(),
            columns: Columns::default(),
            columns_known: false,
            constraints: imbl::Vector::new(),
            charset: None,
            origin: Origin::default(),
            stub: true,
        };
        self.tables.insert(key.clone(), Arc::new(table));
        key
    }

    fn synthetic_key(&mut self) -> String {
        self.unnamed += 1;
        format!("\u{0}unnamed{}", self.unnamed)
    }

    /// The indexes on the table with catalog key `table_key`, with their keys.
    fn table_indexes(&self, table_key: &str) -> Vec<(String, Arc<Index>)> {
        self.indexes
            .on_table(table_key)
            .into_iter()
            .filter_map(|k| self.indexes.get(&k).cloned().map(|i| (k, i)))
            .collect()
    }

    fn remove_table_indexes(&mut self, table_key: &str) {
        for k in self.indexes.on_table(table_key) {
            self.indexes.remove(&k);
        }
    }

    /// Changes table `key` in place (copying it first only when a snapshot shares it). `f` must
    /// not rename the table ([`rename_table`](Self::rename_table) re-keys it).
    fn update_table(&mut self, key: &str, f: impl FnOnce(&mut Table)) {
        if let Some(t) = self.tables.by_key.get_mut(key) {
            f(Arc::make_mut(t));
        }
    }

    fn add_column(&mut self, key: &str, c: &ColumnDef, origin: &Origin) {
        let column = Column {
            name: c.name.name.clone(),
            type_name: TypeName { span: crate::Span::default(), ..storage_type(&c.type_name) },
            not_null: c.not_null || c.primary_key,
            default: c.default.as_ref().filter(|d| !d.is_null).map(|d| d.text.clone()),
            identity: c.identity,
            generated: c.generated.is_some(),
            origin: origin.clone(),
        };
        self.update_table(key, |t| {
            t.columns.push(column);
        });
        let col = vec![c.name.name.clone()];
        if c.primary_key || c.unique {
            let kind = if c.primary_key { CatalogConstraintKind::PrimaryKey } else { CatalogConstraintKind::Unique };
            self.update_table(key, |t| {
                t.constraints.push_back(Arc::new(TableConstraint {
                    name: None,
                    kind,
                    columns: col.clone(),
                    validated: true,
                }))
            });
            self.add_implicit_index(key, None, &col, true, origin);
        }
        if let Some(target) = &c.references {
            let kind = CatalogConstraintKind::ForeignKey {
                target: target.table.clone(),
                target_columns: target.columns.iter().map(|i| i.name.clone()).collect(),
            };
            self.update_table(key, |t| {
                t.constraints.push_back(Arc::new(TableConstraint {
                    name: None,
                    kind,
                    columns: col.clone(),
                    validated: true,
                }))
            });
            if self.dialect == Dialect::MySql {
                self.add_implicit_index(key, None, &col, false, origin);
            }
        }
        if let Some(check) = &c.check {
            let kind =
                CatalogConstraintKind::Check { expr: check.text.clone(), not_null_of: is_not_null_check(&check.text) };
            self.update_table(key, |t| {
                t.constraints.push_back(Arc::new(TableConstraint {
                    name: None,
                    kind,
                    columns: col.clone(),
                    validated: true,
                }))
            });
        }
    }

    fn add_implicit_index(
        &mut self,
        table_key: &str,
        name: Option<&str>,
        columns: &[String],
        unique: bool,
        origin: &Origin,
    ) {
        let key = match name {
            Some(n) if self.dialect == Dialect::MySql => format!("{table_key}/{}", n.to_ascii_lowercase()),
            Some(n) => {
                let schema = table_key.split('.').next().unwrap_or("public");
                format!("{schema}.{}", n.to_ascii_lowercase())
            }
            None => self.synthetic_key(),
        };
        let index = Index {
            name: name.map(str::to_string),
            table: table_key.to_string(),
            columns: columns.iter().cloned().map(Some).collect(),
            unique,
            partial: false,
            origin: origin.clone(),
        };
        self.indexes.insert(key, Arc::new(index));
    }

    fn add_constraint(&mut self, key: &str, table: &QualifiedName, c: &Constraint, origin: &Origin) {
        let columns: Vec<String> = c.columns.iter().map(|i| i.name.clone()).collect();
        let name = c.name.as_ref().map(|n| n.name.clone());
        let kind = match &c.kind {
            ConstraintKind::PrimaryKey => CatalogConstraintKind::PrimaryKey,
            ConstraintKind::Unique => CatalogConstraintKind::Unique,
            ConstraintKind::Check { expr } => {
                CatalogConstraintKind::Check { expr: expr.text.clone(), not_null_of: is_not_null_check(&expr.text) }
            }
            ConstraintKind::ForeignKey { target } => CatalogConstraintKind::ForeignKey {
                target: target.table.clone(),
                target_columns: target.columns.iter().map(|i| i.name.clone()).collect(),
            },
            ConstraintKind::Exclusion => CatalogConstraintKind::Exclusion,
            ConstraintKind::NotNull => {
                self.update_table(key, |t| {
                    for col in &columns {
                        if let Some(c) = t.column_mut(col) {
                            c.not_null = true;
                        }
                    }
                });
                return;
            }
            ConstraintKind::Index { .. } => {
                self.add_implicit_index(key, name.as_deref(), &columns, false, origin);
                return;
            }
        };
        let builds_index = matches!(kind, CatalogConstraintKind::PrimaryKey | CatalogConstraintKind::Unique)
            || (self.dialect == Dialect::MySql && matches!(kind, CatalogConstraintKind::ForeignKey { .. }));
        let unique = matches!(kind, CatalogConstraintKind::PrimaryKey | CatalogConstraintKind::Unique);
        let is_pk = matches!(kind, CatalogConstraintKind::PrimaryKey);
        self.update_table(key, |t| {
            if is_pk {
                for col in &columns {
                    if let Some(c) = t.column_mut(col) {
                        c.not_null = true;
                    }
                }
            }
            t.constraints.push_back(Arc::new(TableConstraint {
                name: name.clone(),
                kind,
                columns: columns.clone(),
                validated: !c.not_valid,
            }));
        });
        if builds_index {
            let index_name = c.using_index.as_ref().map(|i| i.name.clone()).or(name);
            if let Some(n) = &c.using_index {
                // `USING INDEX idx`: the existing index becomes the constraint's.
                let k = self.index_key(&n.name, Some(table), table.schema.as_deref());
                self.indexes.remove(&k);
            }
            self.add_implicit_index(key, index_name.as_deref(), &columns, unique, origin);
        }
    }

    fn alter(&mut self, key: &str, table: &QualifiedName, action: &AlterActionKind, origin: &Origin) {
        match action {
            AlterActionKind::AddColumn { column, if_not_exists } => {
                let exists = self.tables.get(key).is_some_and(|t| t.column(&column.name.name).is_some());
                if !(exists && *if_not_exists) {
                    self.add_column(key, column, origin);
                }
            }
            AlterActionKind::DropColumn { name, .. } => {
                let col = name.name.clone();
                self.update_table(key, |t| {
                    t.columns.remove(&col);
                    t.constraints.retain(|c| !c.columns.iter().any(|x| x.eq_ignore_ascii_case(&col)));
                });
                let doomed: Vec<String> = self
                    .table_indexes(key)
                    .into_iter()
                    .filter(|(_, i)| {
                        i.columns.iter().any(|c| c.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&col)))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in doomed {
                    self.indexes.remove(&k);
                }
            }
            AlterActionKind::RenameColumn { from, to } => {
                let (f, t2) = (from.name.clone(), to.name.clone());
                self.update_table(key, |t| {
                    t.columns.rename(&f, &t2);
                    change_constraints(
                        &mut t.constraints,
                        |c| c.columns.iter().any(|x| x.eq_ignore_ascii_case(&f)),
                        |c| {
                            for x in &mut c.columns {
                                if x.eq_ignore_ascii_case(&f) {
                                    *x = t2.clone();
                                }
                            }
                        },
                    );
                });
                self.rename_index_columns(key, &f, &t2);
            }
            AlterActionKind::AlterColumnType { column, new_type, new_definition, rename_to, .. } => {
                let col = column.name.clone();
                let new_type = new_type.clone();
                let def = new_definition.as_deref().cloned();
                let rename = rename_to.as_ref().map(|r| r.name.clone());
                self.update_table(key, |t| {
                    if let Some(c) = t.column_mut(&col) {
                        c.type_name = TypeName { span: crate::Span::default(), ..new_type };
                        if let Some(d) = &def {
                            // MySQL MODIFY/CHANGE restate the whole definition.
                            c.not_null = d.not_null || d.primary_key;
                            c.default = d.default.as_ref().filter(|e| !e.is_null).map(|e| e.text.clone());
                            c.identity = d.identity;
                            c.generated = d.generated.is_some();
                        }
                    }
                    if let Some(r) = &rename {
                        t.columns.rename(&col, r);
                    }
                });
                if let Some(r) = rename {
                    self.rename_index_columns(key, &col, &r);
                }
            }
            AlterActionKind::SetDefault { column, expr } => {
                let (col, text) = (column.name.clone(), expr.text.clone());
                self.update_table(key, |t| {
                    if let Some(c) = t.column_mut(&col) {
                        c.default = Some(text);
                    }
                });
            }
            AlterActionKind::DropDefault { column } => {
                let col = column.name.clone();
                self.update_table(key, |t| {
                    if let Some(c) = t.column_mut(&col) {
                        c.default = None;
                    }
                });
            }
            AlterActionKind::SetNotNull { column } | AlterActionKind::DropNotNull { column } => {
                let col = column.name.clone();
                let value = matches!(action, AlterActionKind::SetNotNull { .. });
                self.update_table(key, |t| {
                    if let Some(c) = t.column_mut(&col) {
                        c.not_null = value;
                    }
                });
            }
            AlterActionKind::AddConstraint(c) => self.add_constraint(key, table, c, origin),
            AlterActionKind::ValidateConstraint { name } => {
                let (n, dialect) = (name.name.clone(), self.dialect);
                self.update_table(key, |t| {
                    let table = t.name.clone();
                    change_constraints(&mut t.constraints, |c| c.is_named(&table, &n, dialect), |c| c.validated = true);
                });
            }
            AlterActionKind::DropConstraint { name, .. } => {
                let (n, dialect) = (name.name.clone(), self.dialect);
                self.update_table(key, |t| {
                    let table = t.name.clone();
                    t.constraints.retain(|c| !c.is_named(&table, &n, dialect));
                });
                let k = self.index_key(&n, Some(table), table.schema.as_deref());
                if self.indexes.get(&k).is_some_and(|i| i.table == key) {
                    self.indexes.remove(&k);
                }
            }
            AlterActionKind::RenameConstraint { from, to } => {
                let (f, t2, dialect) = (from.name.clone(), to.name.clone(), self.dialect);
                self.update_table(key, |t| {
                    let table = t.name.clone();
                    change_constraints(
                        &mut t.constraints,
                        |c| c.is_named(&table, &f, dialect),
                        |c| c.name = Some(t2.clone()),
                    );
                });
            }
            AlterActionKind::DropPrimaryKey => {
                let mut pk_cols = Vec::new();
                self.update_table(key, |t| {
                    if let Some(pk) = t.constraints.iter().find(|c| c.kind == CatalogConstraintKind::PrimaryKey) {
                        pk_cols = pk.columns.clone();
                    }
                    t.constraints.retain(|c| c.kind != CatalogConstraintKind::PrimaryKey);
                });
                let doomed: Vec<String> = self
                    .table_indexes(key)
                    .into_iter()
                    .filter(|(_, i)| i.unique && i.columns.iter().flatten().eq(pk_cols.iter()) && !pk_cols.is_empty())
                    .map(|(k, _)| k.clone())
                    .take(1)
                    .collect();
                for k in doomed {
                    self.indexes.remove(&k);
                }
            }
            AlterActionKind::DropIndex { name } => {
                let k = self.index_key(&name.name, Some(table), table.schema.as_deref());
                self.indexes.remove(&k);
            }
            AlterActionKind::RenameIndex { from, to } => {
                let k = self.index_key(&from.name, Some(table), table.schema.as_deref());
                if let Some(i) = self.indexes.remove(&k) {
                    let nk = self.index_key(&to.name, Some(table), table.schema.as_deref());
                    self.indexes.insert(nk, Arc::new(Index { name: Some(to.name.clone()), ..i.as_ref().clone() }));
                }
            }
            AlterActionKind::RenameTable { to } => self.rename_table(table, to),
            AlterActionKind::ConvertCharset { charset } => {
                let cs = charset.to_ascii_lowercase();
                self.update_table(key, |t| {
                    t.charset = Some(cs.clone());
                    t.columns.for_each_mut(|c| {
                        if is_text_type(&c.type_name.name) {
                            c.type_name.charset = Some(cs.clone());
                        }
                    });
                });
            }
            _ => {}
        }
    }

    fn rename_index_columns(&mut self, table_key: &str, from: &str, to: &str) {
        let touched: Vec<(String, Arc<Index>)> = self
            .table_indexes(table_key)
            .into_iter()
            .filter(|(_, i)| i.columns.iter().any(|c| c.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(from))))
            .collect();
        for (k, i) in touched {
            let mut i = i.as_ref().clone();
            for c in i.columns.iter_mut().flatten() {
                if c.eq_ignore_ascii_case(from) {
                    *c = to.to_string();
                }
            }
            self.indexes.insert(k, Arc::new(i));
        }
    }

    fn rename_table(&mut self, from: &QualifiedName, to: &QualifiedName) {
        let Some(old_key) = self.resolve(from) else { return };
        let Some(t) = self.tables.remove(&old_key) else { return };
        let schema = to.schema.clone().or_else(|| t.schema.clone());
        let renamed = QualifiedName { schema: schema.clone(), name: to.name.clone(), span: to.span };
        let new_key = self.key(&renamed);
        self.tables.insert(new_key.clone(), Arc::new(Table { schema, name: to.name.clone(), ..t.as_ref().clone() }));
        let moved = self.table_indexes(&old_key);
        for (k, i) in moved {
            let idx = Index { table: new_key.clone(), ..i.as_ref().clone() };
            self.indexes.remove(&k);
            let nk = match (self.dialect, &idx.name) {
                (Dialect::MySql, Some(n)) => format!("{new_key}/{}", n.to_ascii_lowercase()),
                _ => k,
            };
            self.indexes.insert(nk, Arc::new(idx));
        }
    }
}

/// The type a column is stored with: PostgreSQL's `serial` family are integers with a sequence
/// default.
fn storage_type(t: &TypeName) -> TypeName {
    let (name, text) = match t.name.as_str() {
        "serial" | "serial4" => ("int4", "integer"),
        "bigserial" | "serial8" => ("int8", "bigint"),
        "smallserial" | "serial2" => ("int2", "smallint"),
        _ => return t.clone(),
    };
    TypeName { name: name.into(), text: text.into(), ..t.clone() }
}

fn index_columns(columns: &[IndexColumn]) -> Vec<Option<String>> {
    columns.iter().map(|c| c.name.as_ref().map(|n| n.name.clone())).collect()
}

fn is_text_type(name: &str) -> bool {
    matches!(
        name,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" | "nchar" | "nvarchar"
    )
}

/// The column of a CHECK expression that is exactly `col IS NOT NULL` (parentheses, quotes and
/// case aside).
pub fn is_not_null_check(expr: &str) -> Option<String> {
    let mut e = expr.trim();
    while let Some(inner) = e.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        e = inner.trim();
    }
    let words: Vec<&str> = e.split_whitespace().collect();
    match words.as_slice() {
        [col, is, not, null]
            if is.eq_ignore_ascii_case("is")
                && not.eq_ignore_ascii_case("not")
                && null.eq_ignore_ascii_case("null") =>
        {
            let c = col.trim_matches(|ch| ch == '"' || ch == '`' || ch == '(' || ch == ')');
            let c = c.rsplit('.').next().unwrap_or(c);
            (!c.is_empty()).then(|| c.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_file;

    fn replay(dialect: Dialect, sql: &str) -> Catalog {
        let file = parse_file(sql, dialect);
        let mut cat = Catalog::new(dialect);
        let origin = Origin::default();
        for s in &file.statements {
            for op in &s.ops {
                cat.apply(op, &origin);
            }
        }
        cat
    }

    fn q(name: &str) -> QualifiedName {
        let (schema, name) = match name.split_once('.') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, name.to_string()),
        };
        QualifiedName { schema, name, span: crate::Span::default() }
    }

    #[test]
    fn tracks_columns_types_and_renames() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(20) NOT NULL, name text);
             ALTER TABLE users ALTER COLUMN email TYPE varchar(50);
             ALTER TABLE users RENAME COLUMN name TO full_name;
             ALTER TABLE users ADD COLUMN age int DEFAULT 0;
             ALTER TABLE users RENAME TO accounts;",
        );
        assert!(c.table(&q("users")).is_none());
        let t = c.table(&q("accounts")).unwrap();
        assert_eq!(t.column("email").unwrap().type_name.modifiers, vec![50]);
        assert!(t.column("email").unwrap().not_null);
        assert!(t.column("full_name").is_some() && t.column("name").is_none());
        assert_eq!(t.column("age").unwrap().default.as_deref(), Some("0"));
        assert!(c.has_index_covering(&q("accounts"), &["id".into()]), "primary key index moves with the table");
        assert!(c.table(&q("public.accounts")).is_some());
    }

    #[test]
    fn indexes_cover_foreign_keys_by_leading_columns() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users(id), shop_id int, day date);
             CREATE INDEX orders_shop_day ON orders (shop_id, day);
             CREATE INDEX orders_day_partial ON orders (day) WHERE day > '2020-01-01';",
        );
        assert!(c.has_index_covering(&q("orders"), &["shop_id".into()]));
        assert!(!c.has_index_covering(&q("orders"), &["day".into()]), "not leading / partial");
        assert!(!c.has_index_covering(&q("orders"), &["user_id".into()]));
        let c2 = replay(Dialect::Postgres, "CREATE TABLE o (a int, b int); CREATE INDEX i ON o (a); DROP INDEX i;");
        assert!(!c2.has_index_covering(&q("o"), &["a".into()]));
    }

    #[test]
    fn validated_not_null_checks_are_known() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TABLE t (a int, b int);
             ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;
             ALTER TABLE t ADD CONSTRAINT b_nn CHECK ((\"b\" IS NOT NULL)) NOT VALID;
             ALTER TABLE t VALIDATE CONSTRAINT b_nn;",
        );
        let t = c.table(&q("t")).unwrap();
        assert!(!t.has_validated_not_null_check("a"));
        assert!(t.has_validated_not_null_check("b"));
        assert_eq!(is_not_null_check("a IS NOT NULL AND b > 0"), None);
    }

    #[test]
    fn unnamed_constraints_answer_to_the_names_postgres_generates() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE);
             CREATE TABLE t (id int, p_id int REFERENCES p, code text);
             ALTER TABLE t ADD FOREIGN KEY (code) REFERENCES p (code) NOT VALID;
             ALTER TABLE t DROP CONSTRAINT t_p_id_fkey;
             ALTER TABLE t VALIDATE CONSTRAINT t_code_fkey;
             ALTER TABLE p RENAME CONSTRAINT p_code_key TO p_code_unique;",
        );
        let t = c.table(&q("t")).unwrap();
        let fks: Vec<(&[String], bool)> = t
            .constraints
            .iter()
            .filter(|k| matches!(k.kind, CatalogConstraintKind::ForeignKey { .. }))
            .map(|k| (k.columns.as_slice(), k.validated))
            .collect();
        assert_eq!(fks, vec![(&["code".to_string()][..], true)]);
        let p = c.table(&q("p")).unwrap();
        let unique = p.constraints.iter().find(|k| k.kind == CatalogConstraintKind::Unique).unwrap();
        assert_eq!(unique.name.as_deref(), Some("p_code_unique"));
        assert!(p.constraints[0].is_named("p", "P_PKEY", Dialect::Postgres));
        assert!(!p.constraints[0].is_named("p", "p_pkey", Dialect::MySql));
    }

    #[test]
    fn enums_indexes_and_drops() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TYPE mood AS ENUM ('sad', 'ok');
             ALTER TYPE mood ADD VALUE 'happy';
             CREATE TABLE t (a int); CREATE INDEX t_a ON t (a);
             ALTER INDEX t_a RENAME TO t_a_idx;
             CREATE TABLE gone (x int); DROP TABLE gone;",
        );
        assert_eq!(c.enum_values(&q("mood")).unwrap(), ["sad", "ok", "happy"]);
        assert!(c.index(&q("t_a"), None).is_none());
        assert!(c.index(&q("t_a_idx"), None).is_some());
        assert!(c.table(&q("gone")).is_none());
    }

    #[test]
    fn mysql_modify_restates_the_column() {
        let c = replay(
            Dialect::MySql,
            "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, KEY idx_name (name)) DEFAULT CHARSET=utf8mb4;
             ALTER TABLE t MODIFY name VARCHAR(100) NULL;
             ALTER TABLE t CHANGE name title VARCHAR(100) NOT NULL;",
        );
        let t = c.table(&q("T")).unwrap();
        let col = t.column("title").unwrap();
        assert_eq!(col.type_name.modifiers, vec![100]);
        assert!(col.not_null);
        assert!(c.has_index_covering(&q("t"), &["title".into()]));
    }

    #[test]
    fn unqualified_names_find_a_unique_table_in_another_schema() {
        let c = replay(
            Dialect::Postgres,
            "CREATE TABLE app.users (id int); CREATE TABLE a.x (i int); CREATE TABLE b.x (i int);",
        );
        assert!(c.table(&q("users")).is_some());
        assert!(c.table(&q("x")).is_none(), "ambiguous");
        assert!(c.table(&q("b.x")).is_some());
    }

    fn col(name: &str) -> Column {
        Column {
            name: name.to_string(),
            type_name: TypeName {
                name: "int4".into(),
                modifiers: Vec::new(),
                array: false,
                values: Vec::new(),
                charset: None,
                unsigned: false,
                text: "integer".into(),
                span: crate::Span::default(),
            },
            not_null: false,
            default: None,
            identity: false,
            generated: false,
            origin: Origin::default(),
        }
    }

    fn names(c: &Columns) -> Vec<&str> {
        c.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn columns_keep_creation_order_and_find_names_case_insensitively() {
        let mut c: Columns = ["id", "Name", "email"].into_iter().map(col).collect();
        assert_eq!(names(&c), ["id", "Name", "email"]);
        assert_eq!(c.get("NAME").map(|c| c.name.as_str()), Some("Name"));
        assert_eq!(c.first().map(|c| c.name.as_str()), Some("id"));
        // Re-adding a column replaces it and moves it last, as a restated definition does.
        c.push(col("ID"));
        assert_eq!(names(&c), ["Name", "email", "ID"]);
        assert_eq!(c.len(), 3);
        assert_eq!(c.remove("EMAIL").map(|c| c.name), Some("email".to_string()));
        assert!(c.get("email").is_none());
        assert_eq!(names(&c), ["Name", "ID"]);
    }

    #[test]
    fn renamed_columns_are_found_by_their_new_name_only() {
        let mut c: Columns = ["a", "b", "c"].into_iter().map(col).collect();
        c.rename("a", "x");
        assert_eq!(names(&c), ["x", "b", "c"]);
        assert!(c.get("a").is_none() && c.get("X").is_some());
        c.rename("B", "b_renamed");
        c.rename("b_renamed", "B_Renamed");
        assert_eq!(names(&c), ["x", "B_Renamed", "c"]);
        // Onto an existing name: that column is replaced.
        c.rename("x", "c");
        assert_eq!(names(&c), ["c", "B_Renamed"]);
        assert_eq!(c.len(), 2);
        c.rename("missing", "y");
        assert_eq!(names(&c), ["c", "B_Renamed"]);
    }

    #[test]
    fn a_snapshot_of_the_columns_does_not_see_later_changes() {
        let mut c: Columns = (0..1000).map(|i| col(&format!("c{i}"))).collect();
        let snapshot = c.clone();
        c.push(col("new"));
        c.remove("c500");
        c.rename("c1", "one");
        c.for_each_mut(|c| c.not_null = true);
        assert_eq!(snapshot.len(), 1000);
        assert!(snapshot.get("c500").is_some() && snapshot.get("new").is_none() && snapshot.get("c1").is_some());
        assert!(snapshot.iter().all(|c| !c.not_null));
        assert_ne!(snapshot, c);
        let rebuilt: Columns = snapshot.iter().cloned().collect();
        assert_eq!(rebuilt, snapshot);
    }

    #[test]
    fn thousands_of_columns_added_to_one_table_with_a_snapshot_each() {
        // Each statement of a file keeps the catalog before it: adding a column must not copy
        // the table's other columns (20,000 statements took minutes when it did).
        let mut sql = String::from("CREATE TABLE t (id int);");
        for i in 0..20_000 {
            sql.push_str(&format!("ALTER TABLE t ADD COLUMN c{i} int;"));
        }
        sql.push_str("ALTER TABLE t RENAME COLUMN c7 TO seven; ALTER TABLE t DROP COLUMN c8;");
        let file = parse_file(&sql, Dialect::Postgres);
        let mut catalog = Catalog::new(Dialect::Postgres);
        let mut snapshots = Vec::new();
        for stmt in &file.statements {
            snapshots.push(catalog.clone());
            for op in &stmt.ops {
                catalog.apply(op, &Origin::default());
            }
        }
        let t = catalog.table(&q("t")).unwrap();
        assert_eq!(t.columns.len(), 20_000);
        assert!(t.column("seven").is_some() && t.column("c7").is_none() && t.column("c8").is_none());
        assert_eq!(snapshots[5].table(&q("t")).unwrap().columns.len(), 5);
    }

    #[test]
    fn constraint_changes_leave_snapshots_alone() {
        let mut sql = String::from("CREATE TABLE t (id int, a int);");
        for i in 0..2_000 {
            sql.push_str(&format!("ALTER TABLE t ADD CONSTRAINT ck{i} FOREIGN KEY (a) REFERENCES t (id) NOT VALID;"));
        }
        let before = replay(Dialect::Postgres, &sql);
        sql.push_str(
            "ALTER TABLE t VALIDATE CONSTRAINT ck7; ALTER TABLE t RENAME CONSTRAINT ck8 TO eight;
             ALTER TABLE t DROP CONSTRAINT ck9; ALTER TABLE t RENAME COLUMN a TO b;",
        );
        let mut after = before.clone();
        for stmt in &parse_file(&sql, Dialect::Postgres).statements[2_001..] {
            for op in &stmt.ops {
                after.apply(op, &Origin::default());
            }
        }
        let (b, a) = (before.table(&q("t")).unwrap(), after.table(&q("t")).unwrap());
        let named = |t: &Table, n: &str| t.constraints.iter().find(|c| c.is_named("t", n, Dialect::Postgres)).cloned();
        assert_eq!(b.constraints.len(), 2_000);
        assert_eq!(a.constraints.len(), 1_999);
        assert!(named(a, "ck7").unwrap().validated && !named(b, "ck7").unwrap().validated);
        assert!(named(a, "eight").is_some() && named(a, "ck8").is_none() && named(b, "ck8").is_some());
        assert!(named(a, "ck9").is_none() && named(b, "ck9").is_some());
        assert!(a.constraints.iter().all(|c| c.columns == ["b"]));
        assert!(b.constraints.iter().all(|c| c.columns == ["a"]));
    }
}
