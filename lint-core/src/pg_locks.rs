//! What PostgreSQL locks, scans and rewrites for each migration operation. The model is data: one
//! `match` arm per operation or `ALTER TABLE` subcommand, each encoding a fact of the reference
//! table below, with the version gates.
//!
//! Facts (PostgreSQL documentation: ALTER TABLE "Notes", "Explicit Locking" 13.3,
//! `AlterTableGetLockLevel()` in `tablecmds.c`, release notes):
//!
//! | Statement / subcommand | Lock | Scan / rewrite | Version notes |
//! |---|---|---|---|
//! | ADD COLUMN (no default or non-volatile default) | AEL (brief) | none | PG < 11: a non-NULL default rewrites |
//! | ADD COLUMN with a volatile default, identity/serial, GENERATED STORED | AEL | rewrite | |
//! | DROP COLUMN, RENAME COLUMN/TABLE, SET/DROP DEFAULT, DROP NOT NULL, DROP CONSTRAINT | AEL | none | dropping a foreign key also takes AEL on the referenced table |
//! | ALTER COLUMN TYPE | AEL | rewrite unless binary coercible | on a referenced key: AEL on the referencing tables too |
//! | SET NOT NULL | AEL | scan | PG 12+: no scan with a valid `CHECK (col IS NOT NULL)` |
//! | ADD CHECK | AEL | scan unless NOT VALID | |
//! | ADD FOREIGN KEY | SRE on both tables | scan unless NOT VALID | |
//! | ADD PRIMARY KEY / UNIQUE / EXCLUDE | AEL | index build | |
//! | VALIDATE CONSTRAINT, SET STATISTICS, column SET/RESET (n_distinct), CLUSTER ON, SET WITHOUT CLUSTER | SUE | VALIDATE scans | a foreign key's VALIDATE also takes ROW SHARE on the referenced table |
//! | SET/RESET (fillfactor, toast_tuple_target, parallel_workers, autovacuum_*, vacuum_*, log_autovacuum_min_duration, toast.*) | SUE | none | PG < 10: AEL assumed |
//! | SET/RESET of other storage parameters (user_catalog_table), SET STORAGE, SET COMPRESSION | AEL | none | |
//! | ENABLE/DISABLE TRIGGER, CREATE TRIGGER | SRE | none | |
//! | SET TABLESPACE, SET LOGGED/UNLOGGED, VACUUM FULL, CLUSTER | AEL | rewrite | |
//! | ATTACH PARTITION | SUE on parent (PG 12+, AEL before), AEL on the partition | scan | |
//! | DETACH PARTITION | AEL | none | CONCURRENTLY (PG 14+): SUE on the parent, not in a transaction |
//! | CREATE INDEX | SHARE | build | CONCURRENTLY: SUE, not in a transaction |
//! | DROP INDEX | AEL on the index and its table | none | CONCURRENTLY: SUE, not in a transaction |
//! | REINDEX | SHARE on the table, AEL on the index | rebuild | CONCURRENTLY (PG 12+): SUE, not in a transaction |
//! | ALTER TYPE ... ADD VALUE | EXCLUSIVE on the type | none | PG < 12: not in a transaction block |
//! | ALTER TYPE ... RENAME | none on the type (its catalog row is updated) | none | |
//! | TRUNCATE, DROP TABLE | AEL | destructive | |
//! | CREATE TABLE ... REFERENCES other | SRE on the referenced table | none | |
//! | INSERT/UPDATE/DELETE/MERGE, SELECT | ROW EXCLUSIVE, ACCESS SHARE | | |
//!
//! An `ALTER TABLE` with several subcommands takes the strongest lock of any of them.
//!
//! [`effect`] sees one statement; [`effect_in`] also reads the schema before it (the catalog) to
//! name the table of an index and the other table of a foreign key.

use crate::ir::{
    AlterAction, AlterActionKind, ColumnDef, ConstraintKind, DmlKind, GeneratedKind, ObjectKind, Op, QualifiedName,
    SetOptionKind, Volatility,
};

use crate::catalog::{Catalog, CatalogConstraintKind, Table as CatalogTable};
use crate::span::Span;
use crate::version::PgVersion;
use std::fmt;

/// Table-level lock modes, ordered from the weakest to the strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// The name as written in `LOCK TABLE ... IN <name> MODE` ("ACCESS EXCLUSIVE").
    pub fn name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Parses a mode name such as `"SHARE ROW EXCLUSIVE"` (case and spacing insensitive).
    pub fn from_name(s: &str) -> Option<LockMode> {
        let norm = s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        LockMode::ALL.into_iter().find(|m| m.name() == norm)
    }

    /// True when the two modes conflict (the conflict table of "Explicit Locking").
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let conflicts: &[LockMode] = match self {
            AccessShare => &[AccessExclusive],
            RowShare => &[Exclusive, AccessExclusive],
            RowExclusive => &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareUpdateExclusive => &[ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive],
            Share => &[RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareRowExclusive => {
                &[RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            Exclusive => {
                &[RowShare, RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            AccessExclusive => &LockMode::ALL,
        };
        conflicts.contains(&other)
    }

    /// Plain `SELECT`s (ACCESS SHARE) wait while this lock is held or queued.
    pub fn blocks_reads(self) -> bool {
        self.conflicts_with(LockMode::AccessShare)
    }

    /// `INSERT`/`UPDATE`/`DELETE` (ROW EXCLUSIVE) wait while this lock is held or queued.
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(LockMode::RowExclusive)
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The object a lock is taken on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Table(QualifiedName),
    Index(QualifiedName),
    /// The table an index belongs to, when only the index is named (`REINDEX INDEX i`).
    IndexTable(QualifiedName),
    /// An index no query can see any more (`DROP INDEX CONCURRENTLY` marks it dead, waits for
    /// every transaction that could still use it, then locks it to delete it): nothing waits
    /// behind a lock on it.
    DeadIndex(QualifiedName),
    /// The table a foreign key points at.
    Referenced(QualifiedName),
    /// A type (the lock is on the type object, not on the tables using it).
    Type(QualifiedName),
    Database,
}

impl Target {
    /// `table orders`, `index orders_idx`, `referenced table customers`, ...
    pub fn describe(&self) -> String {
        match self {
            Target::Table(n) => format!("table {}", n.display()),
            Target::Index(n) => format!("index {}", n.display()),
            Target::IndexTable(n) => format!("the table of index {}", n.display()),
            Target::DeadIndex(n) => format!("index {}, once dead", n.display()),
            Target::Referenced(n) => format!("referenced table {}", n.display()),
            Target::Type(n) => format!("type {}", n.display()),
            Target::Database => "database".to_string(),
        }
    }

    fn same(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Table(a), Target::Table(b))
            | (Target::Index(a), Target::Index(b))
            | (Target::IndexTable(a), Target::IndexTable(b))
            | (Target::DeadIndex(a), Target::DeadIndex(b))
            | (Target::Referenced(a), Target::Referenced(b))
            | (Target::Type(a), Target::Type(b)) => a.same_object(b),
            (Target::Database, Target::Database) => true,
            _ => false,
        }
    }
}

/// What one statement does to the server: locks, table scan or rewrite, transaction rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// Locks taken, one entry per object (the strongest mode when several subcommands lock it).
    pub locks: Vec<(Target, LockMode)>,
    /// Every row is rewritten (new relfilenode): time proportional to the table size.
    pub rewrite: bool,
    /// Every row is read (validation or an index build) while the lock is held.
    pub scan: bool,
    /// Can run inside a transaction block.
    pub transactional: bool,
    /// The safe path or version note, in a few words.
    pub note: &'static str,
}

impl Effect {
    fn new(locks: Vec<(Target, LockMode)>, note: &'static str) -> Self {
        Effect { locks, rewrite: false, scan: false, transactional: true, note }
    }

    fn scan(mut self) -> Self {
        self.scan = true;
        self
    }

    fn rewrite(mut self) -> Self {
        self.rewrite = true;
        self.scan = true;
        self
    }

    fn non_transactional(mut self) -> Self {
        self.transactional = false;
        self
    }

    /// The strongest lock of the statement.
    pub fn strongest(&self) -> Option<LockMode> {
        self.locks.iter().map(|(_, m)| *m).max()
    }

    /// The lock on `target`, if any.
    pub fn lock_on(&self, target: &Target) -> Option<LockMode> {
        self.locks.iter().filter(|(t, _)| t.same(target)).map(|(_, m)| *m).max()
    }

    fn add_lock(&mut self, target: Target, mode: LockMode) {
        match self.locks.iter_mut().find(|(t, _)| t.same(&target)) {
            Some((_, m)) => *m = (*m).max(mode),
            None => self.locks.push((target, mode)),
        }
    }

    /// Sort key deciding which part's note describes a combined statement.
    fn weight(&self) -> (bool, bool, Option<LockMode>) {
        (self.rewrite, self.scan, self.strongest())
    }
}

/// Several parts run by one statement: every object keeps the strongest lock any part takes on
/// it; scans, rewrites and transaction restrictions add up; the heaviest part gives the note.
pub fn combine(parts: impl IntoIterator<Item = Effect>) -> Option<Effect> {
    let mut out: Option<Effect> = None;
    for p in parts {
        match &mut out {
            None => out = Some(p),
            Some(o) => {
                if p.weight() > o.weight() {
                    o.note = p.note;
                }
                o.rewrite |= p.rewrite;
                o.scan |= p.scan;
                o.transactional &= p.transactional;
                for (t, m) in p.locks {
                    o.add_lock(t, m);
                }
            }
        }
    }
    out
}

use LockMode::{AccessExclusive as Ael, ShareRowExclusive as Sre, ShareUpdateExclusive as Sue};

/// The lock, scan/rewrite and transaction facts of one operation on `version`. `None` for
/// operations without table-level lock facts (`SET`, transaction control, `DO`, unknown
/// statements).
pub fn effect(op: &Op, version: PgVersion) -> Option<Effect> {
    let table = |n: &QualifiedName| Target::Table(n.clone());
    Some(match op {
        Op::CreateTable { columns, constraints, partition_of, .. } => {
            let mut e = Effect::new(Vec::new(), "creates a new, empty table: no lock on existing tables");
            if let Some(parent) = partition_of {
                e.add_lock(table(parent), Ael);
                e.note = "PARTITION OF takes ACCESS EXCLUSIVE on the parent: create the table alone, then ATTACH PARTITION";
            }
            let refs = columns
                .iter()
                .filter_map(|c| c.references.as_ref().map(|r| &r.table))
                .chain(constraints.iter().filter_map(|c| match &c.kind {
                    ConstraintKind::ForeignKey { target } => Some(&target.table),
                    _ => None,
                }));
            for r in refs {
                e.add_lock(Target::Referenced(r.clone()), Sre);
                if partition_of.is_none() {
                    e.note = "REFERENCES takes SHARE ROW EXCLUSIVE on the referenced table (blocks its writes briefly)";
                }
            }
            e
        }
        Op::AlterTable { name, actions, .. } => return alter_table(name, actions, version),
        Op::RenameTable { from, .. } => {
            Effect::new(vec![(table(from), Ael)], "breaks running code that names the table: expand/contract, or a view")
        }
        Op::CreateIndex { table: t, concurrently: true, .. } => {
            let note = if version.major == 14 && version.minor <= 3 {
                "builds without blocking writes, but PostgreSQL 14.0 to 14.3 can corrupt indexes built CONCURRENTLY: upgrade first"
            } else {
                "builds without blocking writes; cannot run in a transaction block; a failure leaves an INVALID index to drop"
            };
            Effect::new(vec![(table(t), Sue)], note).scan().non_transactional()
        }
        Op::CreateIndex { table: t, .. } => Effect::new(
            vec![(table(t), LockMode::Share)],
            "blocks writes for the whole build: use CREATE INDEX CONCURRENTLY",
        )
        .scan(),
        Op::DropIndex { names, concurrently: true, .. } => Effect::new(
            names
                .iter()
                .flat_map(|n| [(Target::IndexTable(n.clone()), Sue), (Target::DeadIndex(n.clone()), Ael)])
                .collect(),
            "waits for transactions that use the table, without blocking them; cannot run in a transaction block; one index per statement",
        )
        .non_transactional(),
        Op::DropIndex { names, .. } => Effect::new(
            names.iter().map(|n| (Target::Index(n.clone()), Ael)).collect(),
            "also takes ACCESS EXCLUSIVE on the index's table (blocks reads and writes): use DROP INDEX CONCURRENTLY",
        ),
        Op::Drop { kind, names, .. } => match kind {
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Sequence => {
                Effect::new(names.iter().map(|n| (table(n), Ael)).collect(), "destructive: the data is gone")
            }
            ObjectKind::Type => Effect::new(
                names.iter().map(|n| (Target::Type(n.clone()), Ael)).collect(),
                "destructive: fails while columns still use the type (CASCADE drops them)",
            ),
            ObjectKind::Database => Effect::new(vec![(Target::Database, Ael)], "destructive; cannot run in a transaction block")
                .non_transactional(),
            _ => return None,
        },
        Op::Create { kind: ObjectKind::Database, .. } => {
            Effect::new(Vec::new(), "cannot run in a transaction block").non_transactional()
        }
        Op::Create { kind: ObjectKind::Trigger, table: t, .. } => Effect::new(
            t.iter().map(|t| (table(t), Sre)).collect(),
            "SHARE ROW EXCLUSIVE on the table (blocks its writes briefly)",
        ),
        Op::Create { .. } | Op::CreateEnumType { .. } => return None,
        Op::RenameObject { kind, from, .. } => match kind {
            ObjectKind::Index if version.at_least(12) => Effect::new(
                vec![(Target::Index(from.clone()), Sue)],
                "PostgreSQL 12+ renames an index under SHARE UPDATE EXCLUSIVE",
            ),
            ObjectKind::Index => Effect::new(
                vec![(Target::Index(from.clone()), Ael)],
                "before PostgreSQL 12 renaming an index takes ACCESS EXCLUSIVE",
            ),
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Sequence => {
                Effect::new(vec![(table(from), Ael)], "breaks running code that names it: expand/contract, or a view")
            }
            ObjectKind::Type => Effect::new(
                Vec::new(),
                "no lock on the type or its tables (only its catalog row is updated), but breaks running code that names the type",
            ),
            ObjectKind::Schema => Effect::new(
                Vec::new(),
                "takes no table lock, but breaks every query that names the schema: expand/contract",
            ),
            _ => return None,
        },
        Op::AlterEnumAddValue { type_name, .. } => {
            let e = Effect::new(
                vec![(Target::Type(type_name.clone()), LockMode::Exclusive)],
                "metadata only; inside a transaction the new value cannot be used until commit",
            );
            if version.at_least(12) {
                e
            } else {
                Effect { note: "before PostgreSQL 12 ADD VALUE cannot run in a transaction block", ..e }
                    .non_transactional()
            }
        }
        Op::Truncate { tables, .. } => {
            Effect::new(tables.iter().map(|n| (table(n), Ael)).collect(), "destructive: every row is gone")
        }
        Op::Dml { kind, table: Some(t), .. } => match kind {
            DmlKind::Select => Effect::new(vec![(table(t), LockMode::AccessShare)], "blocked only by ACCESS EXCLUSIVE"),
            _ => Effect::new(
                vec![(table(t), LockMode::RowExclusive)],
                "row locks on the rows it changes; large batches hold them until commit",
            ),
        },
        Op::Dml { table: None, .. } => return None,
        Op::Reindex { concurrently: true, kind, target } => {
            let note = if version.at_least(12) {
                "rebuilds without blocking reads or writes; cannot run in a transaction block"
            } else {
                "REINDEX CONCURRENTLY needs PostgreSQL 12: this server rejects it"
            };
            let locks = match kind {
                ObjectKind::Index => target.iter().map(|i| (Target::IndexTable(i.clone()), Sue)).collect(),
                _ => target.iter().map(|t| (table(t), Sue)).collect(),
            };
            Effect::new(locks, note).rewrite().non_transactional()
        }
        Op::Reindex { concurrently: false, kind: ObjectKind::Index, target } => Effect::new(
            target
                .iter()
                .flat_map(|i| [(Target::Index(i.clone()), Ael), (Target::IndexTable(i.clone()), LockMode::Share)])
                .collect(),
            "SHARE on the index's table (blocks writes) and ACCESS EXCLUSIVE on the index (blocks reads using it): use REINDEX CONCURRENTLY (PostgreSQL 12+)",
        )
        .rewrite(),
        Op::Reindex { concurrently: false, target, .. } => Effect::new(
            target.iter().map(|t| (table(t), LockMode::Share)).collect(),
            "SHARE on the table (blocks writes) and ACCESS EXCLUSIVE on each index rebuilt (blocks reads using it): use REINDEX CONCURRENTLY (PostgreSQL 12+)",
        )
        .rewrite(),
        Op::Vacuum { full: true, tables } => Effect::new(
            tables.iter().map(|t| (table(t), Ael)).collect(),
            "copies the whole table under ACCESS EXCLUSIVE; cannot run in a transaction block",
        )
        .rewrite()
        .non_transactional(),
        Op::Vacuum { full: false, tables } => Effect::new(
            tables.iter().map(|t| (table(t), Sue)).collect(),
            "does not block reads or writes; cannot run in a transaction block",
        )
        .scan()
        .non_transactional(),
        Op::RefreshMaterializedView { name, concurrently: false, with_data: true } => Effect::new(
            vec![(table(name), Ael)],
            "re-runs the view's query and swaps in the result under ACCESS EXCLUSIVE (blocks reads)",
        )
        .rewrite(),
        // Swaps in an empty file, as TRUNCATE does: brief, but it blocks reads while queued.
        Op::RefreshMaterializedView { name, concurrently: false, with_data: false } => Effect::new(
            vec![(table(name), Ael)],
            "marks the view unpopulated under ACCESS EXCLUSIVE: every later read fails until it is refreshed",
        ),
        Op::RefreshMaterializedView { name, concurrently: true, .. } => Effect::new(
            vec![(table(name), LockMode::Exclusive)],
            "re-runs the view's query and applies the differences under EXCLUSIVE (reads continue)",
        )
        .scan(),
        Op::Cluster { table: t } => {
            let e = Effect::new(
                t.iter().map(|t| (table(t), Ael)).collect(),
                "copies the whole table under ACCESS EXCLUSIVE (blocks reads and writes)",
            )
            .rewrite();
            if t.is_some() {
                e
            } else {
                Effect { note: "CLUSTER without a table cannot run in a transaction block", ..e }.non_transactional()
            }
        }
        Op::LockTable { tables, mode } => {
            let m = LockMode::from_name(mode).unwrap_or(Ael);
            Effect::new(tables.iter().map(|t| (table(t), m)).collect(), "held until the end of the transaction")
        }
        Op::Transaction(_) | Op::Set { .. } | Op::DoBlock | Op::Other { .. } => return None,
    })
}

/// [`effect`] against the schema before the statement, when it is known: the tables of named
/// indexes become concrete tables (`DROP INDEX` also locks the index's table with the index's
/// mode), and foreign keys found in the catalog add their locks on the other table
/// (`DROP CONSTRAINT`: ACCESS EXCLUSIVE on the referenced table; `VALIDATE CONSTRAINT`: ROW SHARE
/// on it; `ALTER COLUMN TYPE` of a referenced key column: ACCESS EXCLUSIVE on each referencing
/// table). Objects the catalog does not know keep the catalog-free answer.
pub fn effect_in(op: &Op, version: PgVersion, catalog: Option<&Catalog>) -> Option<Effect> {
    let mut e = effect(op, version)?;
    if let Some(catalog) = catalog {
        resolve(&mut e, op, catalog);
    }
    Some(e)
}

fn resolve(e: &mut Effect, op: &Op, catalog: &Catalog) {
    let locks = std::mem::take(&mut e.locks);
    for (target, mode) in locks {
        let target = match target {
            Target::IndexTable(n) => index_table(catalog, &n).map(Target::Table).unwrap_or(Target::IndexTable(n)),
            t => t,
        };
        e.add_lock(target, mode);
    }
    match op {
        Op::DropIndex { names, .. } => {
            for n in names {
                if let (Some(mode), Some(t)) = (e.lock_on(&Target::Index(n.clone())), index_table(catalog, n)) {
                    e.add_lock(Target::Table(t), mode);
                }
            }
        }
        Op::AlterTable { name, actions, .. } => {
            for a in actions {
                match &a.kind {
                    AlterActionKind::DropConstraint { name: c, .. } => {
                        if let Some(target) = foreign_key_target(catalog, name, &c.name) {
                            e.add_lock(Target::Referenced(target), Ael);
                        }
                    }
                    AlterActionKind::ValidateConstraint { name: c } => {
                        if let Some(target) = foreign_key_target(catalog, name, &c.name) {
                            e.add_lock(Target::Referenced(target), LockMode::RowShare);
                        }
                    }
                    AlterActionKind::AlterColumnType { column, .. } => {
                        for t in referencing_tables(catalog, name, &column.name) {
                            e.add_lock(Target::Table(t), Ael);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The name of a catalog table, as the history wrote it.
fn table_name(t: &CatalogTable) -> QualifiedName {
    QualifiedName { schema: t.schema.clone(), name: t.name.clone(), span: Span::default() }
}

/// The table the index `index` belongs to, when the catalog knows the index.
fn index_table(catalog: &Catalog, index: &QualifiedName) -> Option<QualifiedName> {
    let key = &catalog.index(index, None)?.table;
    let (schema, name) = key.split_once('.')?;
    let probe = QualifiedName { schema: Some(schema.to_string()), name: name.to_string(), span: Span::default() };
    catalog.table(&probe).map(table_name)
}

/// The referenced table of the foreign key `constraint` on `table`, when the catalog knows it
/// (by its name or the one PostgreSQL generates: [`crate::catalog::TableConstraint::is_named`]).
fn foreign_key_target(catalog: &Catalog, table: &QualifiedName, constraint: &str) -> Option<QualifiedName> {
    let t = catalog.table(table)?;
    t.constraints.iter().find_map(|c| match &c.kind {
        CatalogConstraintKind::ForeignKey { target, .. } => c
            .is_named(&t.name, constraint, crate::Dialect::Postgres)
            .then(|| catalog.table(target).map(table_name).unwrap_or_else(|| target.clone())),
        _ => None,
    })
}

/// The tables with a foreign key referencing `column` of `table` (by its column list, or through
/// the primary key when the foreign key names no columns).
fn referencing_tables(catalog: &Catalog, table: &QualifiedName, column: &str) -> Vec<QualifiedName> {
    let Some(referenced) = catalog.table(table) else { return Vec::new() };
    let primary_key: &[String] = referenced
        .constraints
        .iter()
        .find(|c| c.kind == CatalogConstraintKind::PrimaryKey)
        .map(|c| c.columns.as_slice())
        .unwrap_or_default();
    let mut out: Vec<QualifiedName> = catalog
        .tables()
        .filter(|t| {
            t.constraints.iter().any(|c| match &c.kind {
                CatalogConstraintKind::ForeignKey { target, target_columns } => {
                    let columns = if target_columns.is_empty() { primary_key } else { target_columns.as_slice() };
                    catalog.table(target).is_some_and(|r| std::ptr::eq(r, referenced))
                        && columns.iter().any(|c| c.eq_ignore_ascii_case(column))
                }
                _ => false,
            })
        })
        .map(table_name)
        .collect();
    out.sort_by_key(|q| q.display());
    out
}

/// All subcommands of one `ALTER TABLE`: the strongest lock of any of them.
fn alter_table(name: &QualifiedName, actions: &[AlterAction], version: PgVersion) -> Option<Effect> {
    combine(actions.iter().filter_map(|a| alter_action(name, &a.kind, version)))
}

/// One `ALTER TABLE` subcommand on `name`. `None` for MySQL-only clauses.
pub fn alter_action(name: &QualifiedName, kind: &AlterActionKind, version: PgVersion) -> Option<Effect> {
    use AlterActionKind as K;
    let on = |mode: LockMode, note: &'static str| Effect::new(vec![(Target::Table(name.clone()), mode)], note);
    Some(match kind {
        K::AddColumn { column, .. } => add_column(column, version, on(Ael, "")),
        K::DropColumn { .. } => {
            on(Ael, "marks the column dropped (no rewrite); destructive, breaks code still reading it")
        }
        K::RenameColumn { .. } => on(Ael, "breaks running code that names the column: expand/contract, or a view"),
        K::AlterColumnType { .. } => on(
            Ael,
            "rewrites the table and rebuilds its indexes unless binary coercible (varchar(n) to larger n or text, numeric precision up, cidr to inet); on a referenced key column also ACCESS EXCLUSIVE on the referencing tables",
        )
        .rewrite(),
        K::SetDefault { .. } | K::DropDefault { .. } => on(Ael, "brief ACCESS EXCLUSIVE, metadata only"),
        K::SetNotNull { .. } => {
            let note = if version.at_least(18) {
                "scans the table under ACCESS EXCLUSIVE: use ADD CONSTRAINT ... NOT NULL col NOT VALID, then VALIDATE (or a valid CHECK (col IS NOT NULL))"
            } else if version.at_least(12) {
                "scans the table under ACCESS EXCLUSIVE unless a valid CHECK (col IS NOT NULL) exists (PostgreSQL 12+): add it NOT VALID, VALIDATE, then SET NOT NULL"
            } else {
                "scans the table under ACCESS EXCLUSIVE; before PostgreSQL 12 a CHECK constraint does not skip the scan"
            };
            on(Ael, note).scan()
        }
        K::DropNotNull { .. } => on(Ael, "metadata only; breaks readers that assume non-null"),
        K::AddConstraint(c) => match &c.kind {
            ConstraintKind::Check { .. } if c.not_valid => {
                on(Ael, "NOT VALID: no scan; VALIDATE CONSTRAINT later (SHARE UPDATE EXCLUSIVE)")
            }
            ConstraintKind::Check { .. } => {
                on(Ael, "scans the table under ACCESS EXCLUSIVE: add it NOT VALID, then VALIDATE CONSTRAINT").scan()
            }
            ConstraintKind::ForeignKey { target } => {
                let mut e = on(
                    Sre,
                    if c.not_valid {
                        "NOT VALID: no scan; VALIDATE CONSTRAINT later (SHARE UPDATE EXCLUSIVE, ROW SHARE on the referenced table)"
                    } else {
                        "scans the table while blocking writes to both tables: add it NOT VALID, then VALIDATE CONSTRAINT"
                    },
                );
                e.add_lock(Target::Referenced(target.table.clone()), Sre);
                e.scan = !c.not_valid;
                e
            }
            ConstraintKind::PrimaryKey | ConstraintKind::Unique if c.using_index.is_some() => on(
                Ael,
                "attaches an existing index (brief; a PRIMARY KEY on nullable columns still scans for NULLs)",
            ),
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => on(
                Ael,
                "builds an index under ACCESS EXCLUSIVE: CREATE UNIQUE INDEX CONCURRENTLY, then ADD ... USING INDEX",
            )
            .scan(),
            ConstraintKind::Exclusion => {
                on(Ael, "builds an index under ACCESS EXCLUSIVE; no NOT VALID form, no online path").scan()
            }
            ConstraintKind::NotNull if c.not_valid => on(Ael, "NOT VALID: no scan; VALIDATE CONSTRAINT later"),
            ConstraintKind::NotNull => on(Ael, "scans the table under ACCESS EXCLUSIVE: add it NOT VALID, then VALIDATE").scan(),
            ConstraintKind::Index { .. } => return None,
        },
        K::ValidateConstraint { .. } => on(
            Sue,
            "scans without blocking reads or writes (a foreign key also takes ROW SHARE on the referenced table)",
        )
        .scan(),
        K::DropConstraint { .. } => {
            on(Ael, "brief; dropping a foreign key also takes ACCESS EXCLUSIVE on the referenced table")
        }
        K::RenameConstraint { .. } => on(Ael, "brief, metadata only"),
        K::RenameTable { .. } => on(Ael, "breaks running code that names the table: expand/contract, or a view"),
        K::SetTablespace => on(Ael, "copies the whole table under ACCESS EXCLUSIVE").rewrite(),
        K::SetLogged { .. } => on(Ael, "rewrites the whole table under ACCESS EXCLUSIVE").rewrite(),
        K::AttachPartition { partition } => {
            let (mode, note) = if version.at_least(12) {
                (Sue, "scans the partition unless a valid CHECK constraint implies the partition bound")
            } else {
                (Ael, "ACCESS EXCLUSIVE on the parent before PostgreSQL 12; scans unless a CHECK constraint implies the bound")
            };
            let mut e = on(mode, note).scan();
            e.add_lock(Target::Table(partition.clone()), Ael);
            e
        }
        K::DetachPartition { partition, concurrently: true } => {
            let note = if version.at_least(14) {
                "SHARE UPDATE EXCLUSIVE on the parent; cannot run in a transaction block"
            } else {
                "DETACH PARTITION CONCURRENTLY needs PostgreSQL 14: this server rejects it"
            };
            let mut e = on(Sue, note).non_transactional();
            e.add_lock(Target::Table(partition.clone()), Ael);
            e
        }
        K::DetachPartition { partition, concurrently: false } => {
            let mut e = on(
                Ael,
                if version.at_least(14) {
                    "blocks reads and writes on the parent: use DETACH PARTITION CONCURRENTLY (outside a transaction)"
                } else {
                    "blocks reads and writes on the parent (CONCURRENTLY needs PostgreSQL 14)"
                },
            );
            e.add_lock(Target::Table(partition.clone()), Ael);
            e
        }
        K::EnableDisableTrigger => on(Sre, "blocks writes briefly"),
        K::SetOption(SetOptionKind::Statistics | SetOptionKind::ColumnOptions) => {
            on(Sue, "metadata only; does not block reads or writes")
        }
        K::SetOption(SetOptionKind::ColumnStorage) => on(Ael, "brief ACCESS EXCLUSIVE, metadata only"),
        K::SetOption(SetOptionKind::StorageParameters(names)) => {
            let mode = names.iter().map(|n| storage_parameter_lock(n, version)).max().unwrap_or(Ael);
            on(
                mode,
                if mode == Sue {
                    "metadata only; does not block reads or writes"
                } else {
                    "brief ACCESS EXCLUSIVE: only fillfactor, toast_tuple_target, parallel_workers and the autovacuum, vacuum and toast.* parameters take SHARE UPDATE EXCLUSIVE"
                },
            )
        }
        K::Other { kind } if kind == "AT_ClusterOn" || kind == "AT_DropCluster" => on(Sue, "metadata only"),
        K::Other { .. } => on(Ael, "subcommand not modelled: ACCESS EXCLUSIVE assumed"),
        K::DropPrimaryKey
        | K::DropIndex { .. }
        | K::RenameIndex { .. }
        | K::Algorithm(_)
        | K::Lock(_)
        | K::ConvertCharset { .. }
        | K::TableOption { .. } => return None,
    })
}

/// The lock `ALTER TABLE ... SET (name = ...)` / `RESET (name)` takes for one storage parameter:
/// SHARE UPDATE EXCLUSIVE for the parameters that only affect later inserts, vacuum and planning
/// (PostgreSQL 10+), ACCESS EXCLUSIVE for the others (`user_catalog_table`, unknown names).
fn storage_parameter_lock(name: &str, version: PgVersion) -> LockMode {
    let bare = name.strip_prefix("toast.").unwrap_or(name);
    let weak = matches!(
        bare,
        "fillfactor"
            | "toast_tuple_target"
            | "parallel_workers"
            | "log_autovacuum_min_duration"
            | "vacuum_index_cleanup"
            | "vacuum_truncate"
    ) || bare.starts_with("autovacuum_");
    if weak && version.at_least(10) {
        Sue
    } else {
        Ael
    }
}

fn add_column(column: &ColumnDef, version: PgVersion, base: Effect) -> Effect {
    let volatile_default = column.default.as_ref().is_some_and(|d| d.volatility == Volatility::Volatile);
    let stored = matches!(column.generated, Some((GeneratedKind::Stored, _)));
    let non_null_default = column.default.as_ref().is_some_and(|d| !d.is_null);
    let mut e = if volatile_default || stored || column.identity {
        Effect {
            note: "volatile default, identity/serial or stored generated column: rewrites the whole table under ACCESS EXCLUSIVE; add it without a default, SET DEFAULT, backfill in batches",
            ..base
        }
        .rewrite()
    } else if non_null_default && !version.at_least(11) {
        Effect {
            note: "before PostgreSQL 11 any non-NULL default rewrites the table: add it without a default, SET DEFAULT, backfill in batches",
            ..base
        }
        .rewrite()
    } else if column.not_null && !non_null_default && column.generated.is_none() {
        Effect {
            note: "NOT NULL without a default fails on a non-empty table: add it nullable, backfill, then constrain",
            ..base
        }
    } else {
        Effect {
            note: "brief ACCESS EXCLUSIVE; the default is stored in the catalog (PostgreSQL 11+), no rewrite",
            ..base
        }
    };
    if column.primary_key || column.unique || column.check.is_some() {
        e.scan = true;
    }
    if let Some(r) = &column.references {
        e.scan = true;
        e.add_lock(Target::Referenced(r.table.clone()), Sre);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_file;
    use crate::Dialect;

    fn fx(sql: &str, v: PgVersion) -> Option<Effect> {
        let f = parse_file(sql, Dialect::Postgres);
        let op = f.statements[0].ops.first().expect("one op").clone();
        effect(&op, v)
    }

    fn pg(major: u32) -> PgVersion {
        PgVersion::new(major, PgVersion::LATEST_MINOR)
    }

    fn e15(sql: &str) -> Effect {
        fx(sql, pg(15)).expect("effect")
    }

    fn name(name: &str) -> QualifiedName {
        QualifiedName { schema: None, name: name.into(), span: crate::Span::new(0, 0) }
    }

    fn t(n: &str) -> Target {
        Target::Table(name(n))
    }

    fn r(name: &str) -> Target {
        Target::Referenced(QualifiedName { schema: None, name: name.into(), span: crate::Span::new(0, 0) })
    }

    #[test]
    fn lock_modes() {
        assert!(LockMode::AccessShare < LockMode::AccessExclusive);
        assert_eq!(LockMode::AccessExclusive.name(), "ACCESS EXCLUSIVE");
        assert_eq!(LockMode::from_name("share  row exclusive"), Some(Sre));
        assert!(Ael.blocks_reads() && Ael.blocks_writes());
        assert!(!LockMode::Exclusive.blocks_reads() && LockMode::Exclusive.blocks_writes());
        assert!(LockMode::Share.blocks_writes() && !LockMode::Share.blocks_reads());
        assert!(!Sue.blocks_writes() && !Sue.blocks_reads());
        assert!(!LockMode::RowExclusive.blocks_writes());
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} {b}");
            }
        }
    }

    #[test]
    fn add_column() {
        let e = e15("ALTER TABLE t ADD COLUMN x int");
        assert_eq!(e.lock_on(&t("t")), Some(Ael));
        assert!(!e.rewrite && !e.scan && e.transactional);
        let e = e15("ALTER TABLE t ADD COLUMN x int DEFAULT 0");
        assert!(!e.rewrite);
        let e = fx("ALTER TABLE t ADD COLUMN x int DEFAULT 0", pg(10)).expect("effect");
        assert!(e.rewrite && e.note.contains("before PostgreSQL 11"));
        assert!(!fx("ALTER TABLE t ADD COLUMN x int DEFAULT NULL", pg(10)).expect("e").rewrite);
        for sql in [
            "ALTER TABLE t ADD COLUMN x float DEFAULT random()",
            "ALTER TABLE t ADD COLUMN x uuid DEFAULT gen_random_uuid()",
            "ALTER TABLE t ADD COLUMN x bigserial",
            "ALTER TABLE t ADD COLUMN x int GENERATED ALWAYS AS IDENTITY",
            "ALTER TABLE t ADD COLUMN x int GENERATED ALWAYS AS (a + 1) STORED",
        ] {
            let e = e15(sql);
            assert!(e.rewrite, "{sql}");
            assert_eq!(e.strongest(), Some(Ael));
        }
        let e = e15("ALTER TABLE t ADD COLUMN x int NOT NULL");
        assert!(e.note.contains("fails on a non-empty table"));
        let e = e15("ALTER TABLE t ADD COLUMN c int REFERENCES p(id)");
        assert_eq!(e.lock_on(&r("p")), Some(Sre));
        assert_eq!(e.lock_on(&t("t")), Some(Ael));
    }

    #[test]
    fn column_changes() {
        for sql in [
            "ALTER TABLE t DROP COLUMN x",
            "ALTER TABLE t RENAME COLUMN a TO b",
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
            "ALTER TABLE t ALTER COLUMN a DROP DEFAULT",
            "ALTER TABLE t ALTER COLUMN a DROP NOT NULL",
            "ALTER TABLE t DROP CONSTRAINT c",
            "ALTER TABLE t RENAME TO u",
        ] {
            let e = e15(sql);
            assert_eq!(e.strongest(), Some(Ael), "{sql}");
            assert!(!e.rewrite && !e.scan, "{sql}");
        }
        let e = e15("ALTER TABLE t ALTER COLUMN a TYPE bigint");
        assert!(e.rewrite && e.strongest() == Some(Ael));
    }

    #[test]
    fn set_not_null_versions() {
        let e = fx("ALTER TABLE t ALTER COLUMN a SET NOT NULL", pg(11)).expect("e");
        assert!(e.scan && !e.rewrite && e.note.contains("before PostgreSQL 12"));
        let e = fx("ALTER TABLE t ALTER COLUMN a SET NOT NULL", pg(12)).expect("e");
        assert!(e.note.contains("CHECK (col IS NOT NULL)") && e.note.contains("12+"));
        let e = fx("ALTER TABLE t ALTER COLUMN a SET NOT NULL", pg(18)).expect("e");
        assert!(e.note.contains("NOT VALID"));
    }

    #[test]
    fn constraints() {
        let e = e15("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)");
        assert!(e.scan && e.strongest() == Some(Ael));
        assert!(!e15("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID").scan);
        let e = e15("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p(id)");
        assert_eq!(e.lock_on(&t("t")), Some(Sre));
        assert_eq!(e.lock_on(&r("p")), Some(Sre));
        assert!(e.scan);
        assert!(!e15("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p(id) NOT VALID").scan);
        let e = e15("ALTER TABLE t ADD PRIMARY KEY (id)");
        assert!(e.scan && e.strongest() == Some(Ael));
        let e = e15("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i");
        assert!(!e.scan && e.strongest() == Some(Ael));
        let e = e15("ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&)");
        assert!(e.scan && e.note.contains("no online path"));
        let e = e15("ALTER TABLE t VALIDATE CONSTRAINT c");
        assert_eq!(e.strongest(), Some(Sue));
        assert!(e.scan);
    }

    #[test]
    fn indexes() {
        let e = e15("CREATE INDEX i ON t (a)");
        assert_eq!(e.lock_on(&t("t")), Some(LockMode::Share));
        assert!(e.scan && e.transactional);
        let e = e15("CREATE INDEX CONCURRENTLY i ON t (a)");
        assert_eq!(e.lock_on(&t("t")), Some(Sue));
        assert!(!e.transactional);
        let e = fx("CREATE INDEX CONCURRENTLY i ON t (a)", PgVersion::new(14, 2)).expect("e");
        assert!(e.note.contains("14.0 to 14.3"));
        let e = e15("DROP INDEX i");
        assert_eq!(e.strongest(), Some(Ael));
        assert!(e.transactional);
        let e = e15("DROP INDEX CONCURRENTLY i");
        assert_eq!(e.lock_on(&Target::IndexTable(name("i"))), Some(Sue));
        assert_eq!(e.lock_on(&Target::DeadIndex(name("i"))), Some(Ael));
        assert_eq!(e.lock_on(&Target::Index(name("i"))), None);
        assert!(!e.transactional);
        let e = e15("REINDEX TABLE t");
        assert_eq!(e.lock_on(&t("t")), Some(LockMode::Share));
        assert!(e.rewrite && e.note.contains("ACCESS EXCLUSIVE on each index"));
        let e = e15("REINDEX INDEX i");
        assert_eq!(e.lock_on(&Target::Index(name("i"))), Some(Ael));
        assert_eq!(e.lock_on(&Target::IndexTable(name("i"))), Some(LockMode::Share));
        assert_eq!(e.lock_on(&t("i")), None);
        assert_eq!(Target::IndexTable(name("i")).describe(), "the table of index i");
        assert!(e.rewrite && e.transactional);
        let e = e15("REINDEX INDEX CONCURRENTLY i");
        assert_eq!(e.lock_on(&Target::IndexTable(name("i"))), Some(Sue));
        assert_eq!(e.locks.len(), 1);
        let e = e15("REINDEX TABLE CONCURRENTLY t");
        assert_eq!(e.strongest(), Some(Sue));
        assert!(!e.transactional);
        assert!(fx("REINDEX TABLE CONCURRENTLY t", pg(11)).expect("e").note.contains("needs PostgreSQL 12"));
    }

    #[test]
    fn triggers_options_and_rewrites() {
        assert_eq!(e15("ALTER TABLE t DISABLE TRIGGER ALL").strongest(), Some(Sre));
        assert!(e15("CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()")
            .note
            .contains("SHARE ROW EXCLUSIVE"));
        assert_eq!(e15("ALTER TABLE t CLUSTER ON i").strongest(), Some(Sue));
        assert_eq!(e15("ALTER TABLE t SET WITHOUT CLUSTER").strongest(), Some(Sue));
        let e = e15("CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()");
        assert_eq!(e.lock_on(&t("t")), Some(Sre));
        assert_eq!(e.locks.len(), 1);
        for sql in [
            "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
            "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 100)",
            "ALTER TABLE t ALTER COLUMN a RESET (n_distinct)",
            "ALTER TABLE t SET (fillfactor = 70)",
            "ALTER TABLE t RESET (fillfactor)",
            "ALTER TABLE t SET (autovacuum_enabled = false, toast.autovacuum_vacuum_scale_factor = 0.1)",
            "ALTER TABLE t SET (toast_tuple_target = 256, parallel_workers = 2, vacuum_truncate = off)",
            "ALTER TABLE t SET (log_autovacuum_min_duration = 10, vacuum_index_cleanup = on)",
        ] {
            assert_eq!(e15(sql).lock_on(&t("t")), Some(Sue), "{sql}");
        }
        for sql in [
            "ALTER TABLE t SET (user_catalog_table = true)",
            "ALTER TABLE t SET (fillfactor = 70, user_catalog_table = true)",
            "ALTER TABLE t SET (no_such_parameter = 1)",
            "ALTER TABLE t ALTER COLUMN a SET STORAGE EXTERNAL",
            "ALTER TABLE t ALTER COLUMN a SET COMPRESSION lz4",
        ] {
            assert_eq!(e15(sql).lock_on(&t("t")), Some(Ael), "{sql}");
        }
        assert_eq!(fx("ALTER TABLE t SET (fillfactor = 70)", pg(9)).expect("e").strongest(), Some(Ael));
        for sql in [
            "ALTER TABLE t SET TABLESPACE x",
            "ALTER TABLE t SET UNLOGGED",
            "ALTER TABLE t SET LOGGED",
            "CLUSTER t USING i",
        ] {
            let e = e15(sql);
            assert!(e.rewrite && e.strongest() == Some(Ael), "{sql}");
        }
        let e = e15("VACUUM FULL t");
        assert!(e.rewrite && !e.transactional && e.strongest() == Some(Ael));
        let e = e15("VACUUM t");
        assert!(!e.rewrite && !e.transactional && e.strongest() == Some(Sue));
    }

    #[test]
    fn partitions() {
        let e = e15("ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1)");
        assert_eq!(e.lock_on(&t("p")), Some(Sue));
        assert_eq!(e.lock_on(&t("c")), Some(Ael));
        assert!(e.scan);
        let e = fx("ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1)", pg(11)).expect("e");
        assert_eq!(e.lock_on(&t("p")), Some(Ael));
        let e = e15("ALTER TABLE p DETACH PARTITION c");
        assert_eq!(e.lock_on(&t("p")), Some(Ael));
        assert!(e.transactional);
        let e = e15("ALTER TABLE p DETACH PARTITION c CONCURRENTLY");
        assert_eq!(e.lock_on(&t("p")), Some(Sue));
        assert!(!e.transactional);
        assert!(fx("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", pg(13))
            .expect("e")
            .note
            .contains("needs PostgreSQL 14"));
        let e = e15("CREATE TABLE c PARTITION OF p FOR VALUES IN (1)");
        assert_eq!(e.lock_on(&t("p")), Some(Ael));
    }

    #[test]
    fn enums_destructive_dml_and_none() {
        let e = fx("ALTER TYPE mood ADD VALUE 'meh'", pg(11)).expect("e");
        assert!(!e.transactional);
        let e = fx("ALTER TYPE mood ADD VALUE 'meh'", pg(12)).expect("e");
        assert!(e.transactional);
        assert!(matches!(e.locks[0].0, Target::Type(_)));
        let e = e15("ALTER TYPE mood RENAME TO feeling");
        assert!(e.locks.is_empty() && e.note.contains("no lock on the type"));
        for sql in ["TRUNCATE t", "DROP TABLE t"] {
            assert_eq!(e15(sql).lock_on(&t("t")), Some(Ael), "{sql}");
        }
        let e = e15("CREATE TABLE c (id int, p int REFERENCES p(id))");
        assert_eq!(e.lock_on(&r("p")), Some(Sre));
        assert!(!e.scan && !e.rewrite);
        assert_eq!(e15("INSERT INTO t VALUES (1)").lock_on(&t("t")), Some(LockMode::RowExclusive));
        assert_eq!(e15("UPDATE t SET a = 1").lock_on(&t("t")), Some(LockMode::RowExclusive));
        assert_eq!(e15("DELETE FROM t").lock_on(&t("t")), Some(LockMode::RowExclusive));
        assert_eq!(e15("SELECT * FROM t").lock_on(&t("t")), Some(LockMode::AccessShare));
        assert_eq!(e15("LOCK TABLE t IN SHARE MODE").lock_on(&t("t")), Some(LockMode::Share));
        assert!(!e15("DROP DATABASE d").transactional);
        for sql in ["SET lock_timeout = '2s'", "BEGIN", "COMMIT"] {
            assert!(fx(sql, pg(15)).is_none(), "{sql}");
        }
    }

    #[test]
    fn several_subcommands_take_the_strongest_lock() {
        let e = e15("ALTER TABLE t VALIDATE CONSTRAINT c, ADD COLUMN x float DEFAULT random()");
        assert_eq!(e.lock_on(&t("t")), Some(Ael));
        assert!(e.rewrite && e.note.contains("rewrites"));
        let e = e15("ALTER TABLE t VALIDATE CONSTRAINT c, DISABLE TRIGGER ALL");
        assert_eq!(e.strongest(), Some(Sre));
        assert_eq!(e.locks.len(), 1);
    }

    /// The effect of the last statement of `sql`, against the schema the statements before it build.
    fn in_schema(sql: &str) -> Effect {
        let f = parse_file(sql, Dialect::Postgres);
        let (last, setup) = f.statements.split_last().expect("statements");
        let mut catalog = Catalog::new(Dialect::Postgres);
        for op in setup.iter().flat_map(|s| s.ops.iter()) {
            catalog.apply(op, &crate::catalog::Origin::default());
        }
        let op = last.ops.first().expect("one op");
        effect_in(op, pg(15), Some(&catalog)).expect("effect")
    }

    fn shown(e: &Effect) -> Vec<String> {
        e.locks.iter().map(|(t, m)| format!("{m} on {}", t.describe())).collect()
    }

    const SCHEMA: &str = "CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE);
        CREATE TABLE t (id int PRIMARY KEY, a int, pid int, code text);
        CREATE INDEX t_a_idx ON t (a);
        ALTER TABLE t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
        CREATE TABLE w (id int, code text REFERENCES p (code));
        ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0);\n";

    #[test]
    fn the_catalog_names_the_table_of_an_index() {
        let e = in_schema(&format!("{SCHEMA} DROP INDEX t_a_idx;"));
        assert_eq!(e.lock_on(&t("t")), Some(Ael));
        assert_eq!(e.lock_on(&Target::Index(name("t_a_idx"))), Some(Ael));
        let e = in_schema(&format!("{SCHEMA} DROP INDEX CONCURRENTLY t_a_idx;"));
        assert_eq!(shown(&e), ["SHARE UPDATE EXCLUSIVE on table t", "ACCESS EXCLUSIVE on index t_a_idx, once dead"]);
        let e = in_schema(&format!("{SCHEMA} REINDEX INDEX t_a_idx;"));
        assert_eq!(e.lock_on(&t("t")), Some(LockMode::Share));
        assert!(!e.locks.iter().any(|(t, _)| matches!(t, Target::IndexTable(_))));
        // An index the history does not know keeps the catalog-free answer.
        let e = in_schema(&format!("{SCHEMA} DROP INDEX other_idx;"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on index other_idx"]);
        let e = in_schema(&format!("{SCHEMA} REINDEX INDEX other_idx;"));
        assert_eq!(e.lock_on(&Target::IndexTable(name("other_idx"))), Some(LockMode::Share));
    }

    #[test]
    fn the_catalog_tells_a_foreign_key_from_other_constraints() {
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE t DROP CONSTRAINT t_pid_fk;"));
        assert_eq!(e.lock_on(&r("p")), Some(Ael));
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE t VALIDATE CONSTRAINT t_pid_fk;"));
        assert_eq!(e.lock_on(&t("t")), Some(Sue));
        assert_eq!(e.lock_on(&r("p")), Some(LockMode::RowShare));
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE w DROP CONSTRAINT w_code_fkey;"));
        assert_eq!(e.lock_on(&r("p")), Some(Ael));
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE w DROP CONSTRAINT w_id_fkey;"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on table w"]);
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE t DROP CONSTRAINT t_a_check;"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on table t"]);
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE t VALIDATE CONSTRAINT t_a_check;"));
        assert_eq!(shown(&e), ["SHARE UPDATE EXCLUSIVE on table t"]);
    }

    #[test]
    fn the_catalog_names_the_tables_referencing_a_key() {
        // t references p's primary key without naming columns; w references p.code.
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE p ALTER COLUMN id TYPE bigint;"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on table p", "ACCESS EXCLUSIVE on table t"]);
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE p ALTER COLUMN code TYPE varchar(20);"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on table p", "ACCESS EXCLUSIVE on table w"]);
        let e = in_schema(&format!("{SCHEMA} ALTER TABLE t ALTER COLUMN a TYPE bigint;"));
        assert_eq!(shown(&e), ["ACCESS EXCLUSIVE on table t"]);
        // Without a catalog the answer is the catalog-free one.
        let f = parse_file("DROP INDEX t_a_idx;", Dialect::Postgres);
        let op = f.statements[0].ops.first().expect("one op");
        assert_eq!(effect_in(op, pg(15), None), effect(op, pg(15)));
    }
}
