use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterAction, AlterActionKind, ConstraintKind, GeneratedKind, LockClause, Volatility};
use sluice_core::online_ddl::{self, Algorithm, ColumnChangeKind, Target};

declare_rule! {
    /// ## What it does
    /// Flags an `ALTER TABLE` on a table that existed before this migration when the server can
    /// only run it by copying the table (or in place but without concurrent writes), and the
    /// statement does not say so with an explicit `ALGORITHM=` clause. The clause that forces the
    /// copy is named: a column type change through `MODIFY`/`CHANGE`, a column reorder, a stored
    /// generated column, a character set conversion, dropping the primary key, and so on. A
    /// `MODIFY`/`CHANGE` is judged against the column as the earlier migrations defined it (the
    /// old and new types are named); without that history a type change, and so a copy, is
    /// assumed. VARCHAR length-prefix growth, VARCHAR shrinking and ENUM/SET changes other than
    /// appending have rules of their own (`varchar-length-prefix-boundary`, `varchar-shrink`,
    /// `enum-set-change-not-append`) and are not reported twice.
    ///
    /// ## Why it is bad
    /// Without `ALGORITHM=`, MySQL silently picks the best algorithm the clauses allow. One
    /// copying clause is enough for the whole statement to copy the table row by row while
    /// every write waits, which on a large table means minutes to hours of failed requests, and
    /// nothing in the migration hints at it.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE `orders` MODIFY COLUMN `amount` DECIMAL(12,2) NOT NULL;
    /// ```
    ///
    /// ## Use instead
    /// Run the change with an online schema change tool (gh-ost, pt-online-schema-change), or
    /// split the clauses that can run online into their own statement with
    /// `ALGORITHM=INPLACE, LOCK=NONE`. When a blocking copy is acceptable (a small table, a
    /// maintenance window), say so explicitly:
    /// ```sql
    /// ALTER TABLE `orders` MODIFY COLUMN `amount` DECIMAL(12,2) NOT NULL, ALGORITHM=COPY;
    /// ```
    pub struct AlterTableCopiesTable {
        name: "alter-table-copies-table",
        dialects: [MySql],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

impl Rule for AlterTableCopiesTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, actions) in cx.alter_tables_of_existing() {
            if online_ddl::explicit_algorithm(actions).is_some() {
                continue;
            }
            // With LOCK=NONE the server refuses a blocking plan instead of running it.
            if online_ddl::explicit_lock(actions) == Some(LockClause::None) {
                continue;
            }
            let target =
                Target { version: cx.fcx.settings.mysql_version, foreign_key_checks_off: o.ctx.foreign_key_checks_off };
            // Clauses with a rule of their own are reported there; judge the rest, so one clause
            // never gets two findings (an unmodelled clause anywhere still keeps us silent).
            let table = cx.fcx.catalog_before(o.index).table(name);
            if online_ddl::alter_table_in(actions, target, table).is_none() {
                continue;
            }
            let changes = table.map(|t| online_ddl::column_changes(actions, t, target)).unwrap_or_default();
            let own_column_rule = |a: &AlterAction| {
                changes.iter().any(|(c, change)| {
                    std::ptr::eq(*c, a) && change.aspects.iter().any(|x| column_aspect_has_own_rule(&x.kind))
                })
            };
            let rest: Vec<AlterAction> =
                actions.iter().filter(|a| !has_own_rule(&a.kind) && !own_column_rule(a)).cloned().collect();
            let Some(verdict) = online_ddl::alter_table_in(&rest, target, table) else { continue };
            let actions = &rest;
            let overall = verdict.overall;
            if !overall.blocks_writes() {
                continue;
            }
            let worst = verdict.worst.and_then(|i| actions.get(i));
            let span = worst.map_or(o.stmt.span, |a| a.span);
            let t = name.display();
            // What the history says the clause changes, when it knows the column.
            let detail = worst
                .and_then(|w| changes.iter().find(|(c, _)| c.span == w.span))
                .and_then(|(_, change)| change.aspects.iter().find_map(|a| describe_aspect(&a.kind)))
                .unwrap_or_default();
            let message = if overall.best == Algorithm::Copy {
                format!(
                    "this clause {}{detail}; with no ALGORITHM clause MySQL silently copies `{t}` and blocks writes to it until the copy is done",
                    overall.reason
                )
            } else {
                format!(
                    "this clause {}; with no ALGORITHM clause MySQL silently runs it with writes to `{t}` blocked until it finishes",
                    overall.reason
                )
            };
            let d = out.report(o.stmt, span, message);
            d.help = Some(
                "run it with an online schema-change tool (gh-ost, pt-online-schema-change), or move the online \
                 clauses into their own ALTER; if blocking is acceptable (a small table, a maintenance window), \
                 suppress this finding with a reason"
                    .into(),
            );
        }
    }
}

/// Column changes reported by varchar-length-prefix-boundary, varchar-shrink and
/// enum-set-change-not-append.
fn column_aspect_has_own_rule(kind: &ColumnChangeKind) -> bool {
    matches!(
        kind,
        ColumnChangeKind::VarcharPrefixGrows(_)
            | ColumnChangeKind::VarcharShrink(_)
            | ColumnChangeKind::MembersNotAppended(_)
            | ColumnChangeKind::MemberStorageGrows(_)
    )
}

/// The old and new type or character set of a copying column change, for the message.
fn describe_aspect(kind: &ColumnChangeKind) -> Option<String> {
    match kind {
        ColumnChangeKind::TypeChange { from, to } => Some(format!(" (`{from}` to `{to}`)")),
        ColumnChangeKind::CharsetChange { from, to } => Some(format!(" (from {from} to {to})")),
        _ => None,
    }
}

/// Clauses reported by a more specific rule (convert-table-charset, drop-primary-key,
/// add-foreign-key-copies-table, add-check-constraint-scans-table, add-auto-increment-column,
/// add-column-expression-default).
fn has_own_rule(kind: &AlterActionKind) -> bool {
    match kind {
        AlterActionKind::ConvertCharset { .. } | AlterActionKind::DropPrimaryKey => true,
        AlterActionKind::AddConstraint(c) => {
            matches!(c.kind, ConstraintKind::ForeignKey { .. } | ConstraintKind::Check { .. })
        }
        AlterActionKind::AddColumn { column, .. } => {
            column.identity
                || matches!(column.generated, Some((GeneratedKind::Stored, _)))
                || column.default.as_ref().is_some_and(|d| d.volatility == Volatility::Volatile)
                || column.check.is_some()
        }
        _ => false,
    }
}
