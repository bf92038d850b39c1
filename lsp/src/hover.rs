//! Hover on a statement: what it does, and the documentation of every rule that fired on it.
//!
//! The hover is a list of sections so that more can be added without touching the others: the
//! statement's operations, what it locks on the target server version ([`locks_section`]), and
//! the documentation of every rule that fired on it.

use crate::analysis::Analysis;
use sluice_core::ir::{Op, QualifiedName};
use sluice_core::{Statement, StatementContext};
use sluice_rules::LintConfig;

/// One titled part of the hover.
pub struct Section {
    pub title: String,
    pub body: String,
}

/// The name of an enum variant as serialized (`"AlterTable"` from `{"AlterTable": {...}}`).
fn variant_name(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(m) if m.len() == 1 => m.keys().next().cloned(),
        _ => None,
    }
}

/// The kind of an operation, with its sub-actions for `ALTER TABLE` (e.g.
/// `AlterTable (AddColumn, SetNotNull)`).
pub fn op_kind(op: &Op) -> String {
    let name = serde_json::to_value(op).ok().as_ref().and_then(variant_name).unwrap_or_else(|| "Op".into());
    match op {
        Op::AlterTable { actions, .. } if !actions.is_empty() => {
            let kinds: Vec<String> = actions
                .iter()
                .filter_map(|a| serde_json::to_value(&a.kind).ok().as_ref().and_then(variant_name))
                .collect();
            format!("{name} ({})", kinds.join(", "))
        }
        Op::Other { kind } => format!("{name} ({kind})"),
        _ => name,
    }
}

/// The tables or objects an operation is about.
pub fn op_targets(op: &Op) -> Vec<&QualifiedName> {
    if let Some(t) = op.target_table() {
        return vec![t];
    }
    match op {
        Op::CreateTable { name, .. } => vec![name],
        Op::Create { name: Some(name), .. } => vec![name],
        Op::Drop { names, .. } | Op::DropIndex { names, .. } => names.iter().collect(),
        Op::Truncate { tables, .. } | Op::Vacuum { tables, .. } | Op::LockTable { tables, .. } => {
            tables.iter().collect()
        }
        Op::RenameObject { from, .. } => vec![from],
        Op::AlterEnumAddValue { type_name, .. } => vec![type_name],
        Op::Reindex { target: Some(t), .. } => vec![t],
        _ => Vec::new(),
    }
}

fn statement_section(stmt: &Statement) -> Section {
    let mut body = String::new();
    if !stmt.is_parsed() {
        body.push_str("This statement did not parse; no rule checked it.\n");
    }
    for op in &stmt.ops {
        let targets: Vec<String> = op_targets(op).iter().map(|t| format!("`{}`", t.display())).collect();
        if targets.is_empty() {
            body.push_str(&format!("- `{}`\n", op_kind(op)));
        } else {
            body.push_str(&format!("- `{}` on {}\n", op_kind(op), targets.join(", ")));
        }
    }
    if body.is_empty() {
        body.push_str("No migration operation.\n");
    }
    Section { title: "Statement".into(), body }
}

/// What the statement locks (PostgreSQL) or which algorithm the server picks (MySQL) on the
/// configured server version, from the same model `sluice explain-sql` prints.
pub fn locks_section(
    stmt: &Statement,
    ctx: &StatementContext,
    schema: Option<&sluice_core::catalog::Catalog>,
    config: &LintConfig,
) -> Option<Section> {
    let lines: Vec<String> = stmt
        .ops_run_now()
        .filter_map(|op| sluice_core::explain::describe(op, &config.settings, ctx, schema))
        .flatten()
        .collect();
    if lines.is_empty() {
        return None;
    }
    let target = match config.settings.dialect {
        sluice_core::Dialect::Postgres => format!("PostgreSQL {}", config.settings.pg_version),
        sluice_core::Dialect::MySql => config.settings.mysql_version.to_string(),
    };
    let title = match config.settings.dialect {
        sluice_core::Dialect::Postgres => format!("Locks on {target}"),
        sluice_core::Dialect::MySql => format!("Online DDL on {target}"),
    };
    Some(Section { title, body: lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n") })
}

fn rules_sections(analysis: &Analysis, stmt: &Statement) -> Vec<Section> {
    let mut names: Vec<&'static str> = Vec::new();
    for d in &analysis.diagnostics {
        if (d.statement == stmt.span || (stmt.span.start <= d.span.start && d.span.end <= stmt.span.end))
            && !names.contains(&d.rule)
        {
            names.push(d.rule);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let severity =
                analysis.diagnostics.iter().find(|d| d.rule == name).map(|d| d.severity.name()).unwrap_or("");
            let body = match sluice_rules::registry::lookup(name) {
                Some(meta) => {
                    let docs = demote_headings(&meta.documentation());
                    format!("**{}**\n\n{}", meta.summary(), docs)
                }
                None => "No documentation for this diagnostic.\n".to_string(),
            };
            Section { title: format!("`{name}` ({severity})"), body }
        })
        .collect()
}

/// Rule docs use `##` headings; under the hover's own `###` sections they become `####`.
fn demote_headings(md: &str) -> String {
    md.lines().map(|l| if l.starts_with('#') { format!("##{l}") } else { l.to_string() }).collect::<Vec<_>>().join("\n")
}

/// The hover sections for the statement at `offset`, or `None` outside every statement.
pub fn hover_sections(analysis: &Analysis, offset: usize) -> Option<(Vec<Section>, sluice_core::Span)> {
    let stmt = analysis.statement_at(offset)?;
    let mut sections = vec![statement_section(stmt)];
    if let (Some(config), Some(parsed)) = (&analysis.config, &analysis.parsed) {
        let index = parsed.statements.iter().position(|s| s.span == stmt.span).unwrap_or(0);
        let fcx = sluice_core::FileContext::analyze(parsed, &config.settings);
        sections.extend(locks_section(stmt, &fcx.at(index), Some(fcx.catalog_before(index)), config));
    }
    sections.extend(rules_sections(analysis, stmt));
    Some((sections, stmt.span))
}

pub fn render(sections: &[Section]) -> String {
    sections.iter().map(|s| format!("### {}\n\n{}", s.title, s.body.trim_end())).collect::<Vec<_>>().join("\n\n---\n\n")
}
