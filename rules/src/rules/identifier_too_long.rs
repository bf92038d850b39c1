use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ColumnDef, Constraint, Ident, Op};
use sluice_core::lexer::{ident_value, TokenKind};
use sluice_core::{Dialect, Span, Statement};

declare_rule! {
    /// ## What it does
    /// Flags a table, column, index, constraint or other object created or renamed with a name
    /// longer than the server allows: 63 bytes on PostgreSQL, 64 characters on MySQL and
    /// MariaDB.
    ///
    /// ## Why it is bad
    /// PostgreSQL does not reject a longer name: it silently cuts it to 63 bytes. The object
    /// exists under a different name than the one in the migration, two long names that share
    /// their first 63 bytes collide ("already exists"), and anything that looks the object up
    /// by its full name (schema diffs, ORMs, catalog queries, later migrations comparing names
    /// as strings) does not find it.
    /// MySQL and MariaDB reject the statement ("Identifier name ... is too long"), so the
    /// migration fails at deploy time.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX index_customer_subscription_events_on_customer_id_and_created_at
    ///     ON customer_subscription_events (customer_id, created_at);
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// CREATE INDEX customer_sub_events_customer_id_created_at_idx
    ///     ON customer_subscription_events (customer_id, created_at);
    /// ```
    pub struct IdentifierTooLong {
        name: "identifier-too-long",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

/// The longest prefix of `name` that fits in `max` bytes without splitting a character.
fn truncate_bytes(name: &str, max: usize) -> &str {
    let mut end = max.min(name.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or(name)
}

struct Check<'a, 'b> {
    cx: &'a RuleContext<'b>,
    out: &'a mut Reporter,
}

impl Check<'_, '_> {
    /// The name as written in `stmt` when the parser truncated it to `name` (PostgreSQL cuts
    /// long identifiers before the tree is built), with its span.
    fn written(&self, stmt: &Statement, name: &str) -> Option<(String, Span)> {
        let text = self.cx.text();
        self.cx
            .file
            .statement_tokens(stmt)
            .iter()
            .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent))
            .find_map(|t| {
                let v = ident_value(t, text, Dialect::Postgres);
                (v.len() > 63 && truncate_bytes(&v, 63) == name).then_some((v, t.span))
            })
    }

    fn name(&mut self, stmt: &Statement, what: &str, name: &str, span: Span) {
        let (message, span, help) = match self.cx.dialect() {
            Dialect::Postgres => {
                let (full, span) = if name.len() > 63 {
                    (name.to_string(), span)
                } else if name.len() == 63 {
                    match self.written(stmt, name) {
                        Some(found) => found,
                        None => return,
                    }
                } else {
                    return;
                };
                (
                    format!(
                        "{what} name `{full}` is {} bytes long: PostgreSQL silently truncates it to 63 bytes, `{}`",
                        full.len(),
                        truncate_bytes(&full, 63)
                    ),
                    span,
                    "choose a name of at most 63 bytes",
                )
            }
            Dialect::MySql => {
                let chars = name.chars().count();
                if chars <= 64 {
                    return;
                }
                (
                    format!(
                        "{what} name `{name}` is {chars} characters long: MySQL rejects names longer than 64 characters"
                    ),
                    span,
                    "choose a name of at most 64 characters",
                )
            }
        };
        let d = self.out.report(stmt, span, message);
        d.help = Some(help.into());
    }

    fn ident(&mut self, stmt: &Statement, what: &str, ident: &Ident) {
        self.name(stmt, what, &ident.name, ident.span);
    }

    fn column(&mut self, stmt: &Statement, column: &ColumnDef) {
        self.ident(stmt, "column", &column.name);
    }

    fn constraint(&mut self, stmt: &Statement, c: &Constraint) {
        if let Some(name) = &c.name {
            self.ident(stmt, "constraint", name);
        }
    }
}

impl Rule for IdentifierTooLong {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let mut c = Check { cx, out };
        for o in cx.ops() {
            let stmt = o.stmt;
            match o.op {
                Op::CreateTable { name, columns, constraints, .. } => {
                    c.name(stmt, "table", &name.name, name.span);
                    for col in columns {
                        c.column(stmt, col);
                    }
                    for k in constraints {
                        c.constraint(stmt, k);
                    }
                }
                Op::AlterTable { actions, .. } => {
                    for a in actions {
                        match &a.kind {
                            AlterActionKind::AddColumn { column, .. } => c.column(stmt, column),
                            AlterActionKind::AddConstraint(k) => c.constraint(stmt, k),
                            AlterActionKind::RenameColumn { to, .. } => c.ident(stmt, "column", to),
                            AlterActionKind::AlterColumnType { rename_to: Some(to), .. } => c.ident(stmt, "column", to),
                            AlterActionKind::RenameConstraint { to, .. } => c.ident(stmt, "constraint", to),
                            AlterActionKind::RenameIndex { to, .. } => c.ident(stmt, "index", to),
                            AlterActionKind::RenameTable { to } => c.name(stmt, "table", &to.name, to.span),
                            _ => {}
                        }
                    }
                }
                Op::RenameTable { to, .. } => c.name(stmt, "table", &to.name, to.span),
                Op::CreateIndex { name: Some(name), .. } => c.ident(stmt, "index", name),
                Op::Create { kind, name: Some(name), .. } => c.name(stmt, kind.name(), &name.name, name.span),
                Op::RenameObject { kind, to, .. } => c.ident(stmt, kind.name(), to),
                _ => {}
            }
        }
    }
}
