//! What the compatibility and rollback rules share: whether an object exists on the base (the
//! schema the running application uses) or only in the change set, the `-- sluice:phase contract`
//! marker, and whether a statement belongs to a down migration.

use crate::rule::{OpRef, RuleContext};
use sluice_core::catalog::Column;
use sluice_core::framework::Direction;
use sluice_core::ir::{AlterActionKind, DmlKind, Op, QualifiedName, TypeName};
use sluice_core::{Diagnostic, Severity, Span};
use std::sync::Arc;

/// The span of a `-- sluice:phase contract` comment in the file, if any: the migration declares
/// it runs after every application version that used the old schema shape is gone.
pub(crate) fn contract_phase(cx: &RuleContext<'_>) -> Option<Span> {
    cx.file.comments().find(|t| is_contract_marker(t.text(cx.text()))).map(|t| t.span)
}

fn is_contract_marker(comment: &str) -> bool {
    let body = comment.trim_start_matches(['-', '#', '/', '*', ' ', '\t']);
    let mut words = body.split_whitespace();
    words.next().is_some_and(|w| w.eq_ignore_ascii_case("sluice:phase"))
        && words.next().is_some_and(|w| w.trim_end_matches([':', ',', '.']).eq_ignore_ascii_case("contract"))
}

/// Lowers a compatibility finding to info in a contract migration, saying why.
pub(crate) fn apply_contract_phase(d: &mut Diagnostic, contract: Option<Span>) {
    if contract.is_some() {
        d.severity = Severity::Info;
        d.message.push_str(
            " (info only: `-- sluice:phase contract` declares that no running code uses the old shape any more)",
        );
    }
}

/// The statement is part of a rollback (a down section or a down file).
pub(crate) fn is_down(o: &OpRef<'_>) -> bool {
    o.ctx.direction == Direction::Down
}

/// The column exists on the base schema: it is not known to come from a migration of the change
/// set (or from earlier in this file). A column the history does not know (no history, or a
/// table that predates it) counts as existing.
pub(crate) fn column_on_base(cx: &RuleContext<'_>, stmt_index: usize, table: &QualifiedName, column: &str) -> bool {
    cx.fcx.catalog_before(stmt_index).column(table, column).is_none_or(|c| !cx.fcx.origin(&c.origin).pending)
}

/// A column the change set adds to the table a base column is dropped from, with a compatible
/// type: together they are a rename done as add + drop.
pub(crate) struct AddedTwin {
    pub name: String,
    /// The migration that adds it; `None` for this file.
    pub file: Option<Arc<str>>,
    /// The `ADD COLUMN` clause when it is in this file.
    pub add_span: Option<Span>,
    /// An `UPDATE` of this file copies between the two columns.
    pub copy_span: Option<Span>,
}

/// Types close enough that a column of one can take over the values of the other.
fn type_family(t: &TypeName) -> String {
    let family = match t.name.as_str() {
        "int2" | "int4" | "int8" | "smallint" | "int" | "integer" | "bigint" | "tinyint" | "mediumint" | "serial"
        | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2" => "integer",
        "varchar" | "bpchar" | "char" | "text" | "tinytext" | "mediumtext" | "longtext" | "citext" => "text",
        "numeric" | "decimal" => "numeric",
        "float4" | "float8" | "real" | "double" | "float" => "float",
        "timestamp" | "timestamptz" | "datetime" => "timestamp",
        "json" | "jsonb" => "json",
        other => other,
    };
    if t.array {
        format!("{family}[]")
    } else {
        family.to_string()
    }
}

/// When the base column `column` of `table`, dropped by statement `stmt_index`, is replaced by a
/// column the change set adds to the same table (in this file, before or after the drop, or in
/// another new migration), that added column. The types must be compatible; when the dropped
/// column's type is unknown, an `UPDATE` copying between the two columns in this file must show
/// the pairing.
pub(crate) fn disguised_rename(
    cx: &RuleContext<'_>,
    stmt_index: usize,
    table: &QualifiedName,
    column: &str,
) -> Option<AddedTwin> {
    let dropped = cx.fcx.catalog_before(stmt_index).column(table, column);
    if dropped.is_some_and(|c| cx.fcx.origin(&c.origin).pending) {
        return None;
    }
    let mut candidates: Vec<(&Column, bool)> = Vec::new();
    for (catalog, own) in [(cx.fcx.catalog_after(), true), (cx.fcx.history_end(), false)] {
        let Some(t) = catalog.table(table) else { continue };
        for c in &t.columns {
            // The history's end is a replay: its origins are recorded, never this file's.
            let origin = if own { cx.fcx.origin(&c.origin) } else { std::borrow::Cow::Borrowed(&c.origin) };
            let fits = origin.pending
                && !c.name.eq_ignore_ascii_case(column)
                && (own || origin.file.is_some())
                && !candidates.iter().any(|(k, _)| k.name.eq_ignore_ascii_case(&c.name));
            if fits {
                candidates.push((c, own));
            }
        }
    }
    candidates.into_iter().find_map(|(c, own)| {
        let copy_span = copy_between(cx, table, &c.name, column);
        let compatible = match dropped {
            Some(d) => type_family(&d.type_name) == type_family(&c.type_name),
            None => copy_span.is_some(),
        };
        compatible.then(|| AddedTwin {
            name: c.name.clone(),
            file: if own { None } else { c.origin.file.clone() },
            add_span: if own { add_column_span(cx, table, &c.name) } else { None },
            copy_span,
        })
    })
}

/// The `ADD COLUMN` clause of this file that adds `column` to `table`.
fn add_column_span(cx: &RuleContext<'_>, table: &QualifiedName, column: &str) -> Option<Span> {
    cx.alter_tables().filter(|(_, name, _)| name.same_object(table)).find_map(|(_, _, actions)| {
        actions.iter().find_map(|a| match &a.kind {
            AlterActionKind::AddColumn { column: c, .. } if c.name.name.eq_ignore_ascii_case(column) => Some(a.span),
            _ => None,
        })
    })
}

/// An `UPDATE` of `table` in this file that names both columns (a copy from one to the other).
fn copy_between(cx: &RuleContext<'_>, table: &QualifiedName, a: &str, b: &str) -> Option<Span> {
    cx.ops().find_map(|o| match o.op {
        Op::Dml { kind: DmlKind::Update, table: Some(t), .. } if t.same_object(table) => {
            let words: Vec<&str> = cx.code_tokens(o.stmt).map(|t| t.text(cx.text()).trim_matches(['"', '`'])).collect();
            let names_both =
                words.iter().any(|w| w.eq_ignore_ascii_case(a)) && words.iter().any(|w| w.eq_ignore_ascii_case(b));
            names_both.then_some(o.stmt.span)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::is_contract_marker;

    #[test]
    fn recognises_the_marker_in_every_comment_style() {
        assert!(is_contract_marker("-- sluice:phase contract"));
        assert!(is_contract_marker("# sluice:phase contract: old code gone since 42"));
        assert!(is_contract_marker("/* sluice:phase CONTRACT */"));
        assert!(is_contract_marker("-- sluice:phase contract: release 42 stopped writing it"));
        assert!(!is_contract_marker("-- sluice:phase expand"));
        assert!(!is_contract_marker("-- see sluice:phase contract in the docs"));
    }
}
