//! The PostgreSQL lock model (`sluice_core::pg_locks`) applied to one statement of a file: which
//! locks it takes on relations that existed before the file, and whether its run time grows with
//! the data of such a relation.

use crate::rule::RuleContext;
use sluice_core::ir::{DmlKind, Op, QualifiedName};
use sluice_core::pg_locks::{self, Effect, LockMode, Target};
use sluice_core::Statement;

/// A lock a statement takes on a relation that existed before the file.
#[derive(Clone, Debug)]
pub(crate) struct ExistingLock {
    pub target: Target,
    pub mode: LockMode,
}

impl ExistingLock {
    /// The table the lock is on (`None` for an index, whose table is not known statically).
    pub fn table(&self) -> Option<&QualifiedName> {
        match &self.target {
            Target::Table(n) | Target::Referenced(n) => Some(n),
            _ => None,
        }
    }

    /// `orders`, or `the table of index orders_idx`.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Table(n) | Target::Referenced(n) => format!("`{}`", n.display()),
            Target::Index(n) | Target::IndexTable(n) => format!("the table of index `{}`", n.display()),
            other => other.describe(),
        }
    }

    /// Blocks the ordinary traffic of the table (writes, and reads too for ACCESS EXCLUSIVE).
    /// A lock on a dead index blocks nothing: no query can see that index any more.
    pub fn blocks_traffic(&self) -> bool {
        !matches!(self.target, Target::DeadIndex(_)) && self.mode.blocks_writes()
    }

    /// What waits while this lock is held or queued, e.g. "every query on `orders` (plain
    /// SELECTs included)".
    pub fn blocked_traffic(&self) -> String {
        if self.mode.blocks_reads() {
            format!("every query on {} (plain SELECTs included)", self.describe())
        } else {
            format!("every write to {}", self.describe())
        }
    }

    /// True when both locks are on the same relation.
    pub fn same_relation(&self, other: &ExistingLock) -> bool {
        match (self.table(), other.table()) {
            (Some(a), Some(b)) => a.same_object(b),
            _ => match (&self.target, &other.target) {
                (Target::Index(a) | Target::IndexTable(a), Target::Index(b) | Target::IndexTable(b)) => {
                    a.same_object(b)
                }
                _ => false,
            },
        }
    }
}

/// The lock, scan and rewrite facts of all operations of `stmt`, combined.
pub(crate) fn statement_effect(cx: &RuleContext<'_>, stmt: &Statement) -> Option<Effect> {
    let version = cx.fcx.settings.pg_version;
    pg_locks::combine(stmt.ops.iter().filter_map(|op| pg_locks::effect(op, version)))
}

/// True when the relation existed before statement `index` of the file: tables and indexes
/// created earlier in the file are new (empty, invisible to other sessions).
pub(crate) fn existed_before(cx: &RuleContext<'_>, target: &Target, index: usize) -> bool {
    match target {
        Target::Table(n) | Target::Referenced(n) => !cx.is_new_table(n, index),
        Target::Index(n) | Target::IndexTable(n) | Target::DeadIndex(n) => !cx.ops_before(index).any(|o| match o.op {
            Op::CreateIndex { name: Some(i), .. } => i.name.eq_ignore_ascii_case(&n.name),
            _ => false,
        }),
        Target::Type(_) | Target::Database => false,
    }
}

/// The locks statement `index` takes on relations that existed before the file.
pub(crate) fn existing_locks(cx: &RuleContext<'_>, stmt: &Statement, index: usize) -> Vec<ExistingLock> {
    let Some(effect) = statement_effect(cx, stmt) else { return Vec::new() };
    // A materialized view takes no writes, so the EXCLUSIVE lock of a concurrent refresh, which
    // lets reads through, blocks no traffic.
    let refreshed = |t: &Target, mode: LockMode| {
        mode == LockMode::Exclusive
            && stmt.ops.iter().any(|op| match (op, t) {
                (Op::RefreshMaterializedView { name, concurrently: true, .. }, Target::Table(n)) => n.same_object(name),
                _ => false,
            })
    };
    effect
        .locks
        .into_iter()
        .filter(|(t, m)| existed_before(cx, t, index) && !refreshed(t, *m))
        .map(|(target, mode)| ExistingLock { target, mode })
        .collect()
}

/// Why the run time of statement `index` grows with the data of a table that existed before
/// the file, if it does: a rewrite, a full scan or index build (per the lock model), or an
/// `UPDATE` / `DELETE` / `MERGE` / `COPY` that changes rows of such a table.
pub(crate) fn data_proportional_work(cx: &RuleContext<'_>, stmt: &Statement, index: usize) -> Option<&'static str> {
    scan_or_rewrite(cx, stmt, index).or_else(|| row_changes(cx, stmt, index, true))
}

/// Why statement `index` reads or rewrites a whole table that existed before the file, per the
/// lock model: "rewrites the table", "builds an index", "scans the table", "rebuilds indexes".
pub(crate) fn scan_or_rewrite(cx: &RuleContext<'_>, stmt: &Statement, index: usize) -> Option<&'static str> {
    let effect = statement_effect(cx, stmt)?;
    let on_existing = effect.locks.is_empty()
        || effect.locks.iter().any(|(t, _)| matches!(t, Target::Table(_)) && existed_before(cx, t, index));
    if on_existing && effect.rewrite {
        return Some(rewrite_kind(stmt));
    }
    if on_existing && effect.scan {
        return Some(scan_kind(stmt));
    }
    None
}

/// An `UPDATE` / `DELETE` / `MERGE` / `COPY` that changes rows of a table that existed before
/// the file; `UPDATE` and `DELETE` with a `WHERE` clause only when `filtered` is true.
pub(crate) fn row_changes(
    cx: &RuleContext<'_>,
    stmt: &Statement,
    index: usize,
    filtered: bool,
) -> Option<&'static str> {
    stmt.ops.iter().find_map(|op| match op {
        Op::Dml { has_where: true, kind: DmlKind::Update | DmlKind::Delete, .. } if !filtered => None,
        Op::Dml { kind, table: Some(t), .. } if !cx.is_new_table(t, index) => match kind {
            DmlKind::Update | DmlKind::Delete | DmlKind::Merge => Some("changes rows of an existing table"),
            DmlKind::Copy => Some("loads rows into an existing table"),
            DmlKind::Insert | DmlKind::Select => None,
        },
        _ => None,
    })
}

fn rewrite_kind(stmt: &Statement) -> &'static str {
    if stmt.ops.iter().any(|op| matches!(op, Op::Reindex { .. })) {
        "rebuilds indexes"
    } else {
        "rewrites the table"
    }
}

fn scan_kind(stmt: &Statement) -> &'static str {
    let builds_index = stmt.ops.iter().any(|op| match op {
        Op::CreateIndex { .. } => true,
        Op::AlterTable { actions, .. } => actions.iter().any(|a| {
            matches!(
                &a.kind,
                sluice_core::ir::AlterActionKind::AddConstraint(c)
                    if matches!(
                        c.kind,
                        sluice_core::ir::ConstraintKind::PrimaryKey
                            | sluice_core::ir::ConstraintKind::Unique
                            | sluice_core::ir::ConstraintKind::Exclusion
                    ) && c.using_index.is_none()
            )
        }),
        _ => false,
    });
    if builds_index {
        "builds an index"
    } else {
        "scans the table"
    }
}
