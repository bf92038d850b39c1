//! What a rule is: static metadata with its documentation, and a check over one file.

use serde::Serialize;
use sluice_core::ir::{AlterAction, Op, QualifiedName};
use sluice_core::lexer::Token;
use sluice_core::{
    Applicability, Diagnostic, Dialect, Edit, FileContext, Fix, ParsedFile, Severity, Span, Statement, StatementContext,
};
use std::fmt;

/// What kind of harm a rule guards against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Loses data or breaks running code that reads what is removed.
    Destructive,
    /// Blocks reads or writes on a table that already holds data.
    Locking,
    /// Fails or changes something when the migration is run again.
    Idempotency,
    /// Misuses transactions: work that cannot run in one, or one left open.
    Transaction,
    /// Breaks the previous version of the application during a rolling deploy.
    Compatibility,
    /// Does not do what it appears to do.
    Correctness,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Destructive,
        Category::Locking,
        Category::Idempotency,
        Category::Transaction,
        Category::Compatibility,
        Category::Correctness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Destructive => "destructive",
            Category::Locking => "locking",
            Category::Idempotency => "idempotency",
            Category::Transaction => "transaction",
            Category::Compatibility => "compatibility",
            Category::Correctness => "correctness",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a rule can offer a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    None,
    /// Offers a fix that is safe to apply automatically (at least in some situations).
    Safe,
    /// Offers a fix that needs `--unsafe-fixes` (it changes behaviour).
    Unsafe,
}

impl FixKind {
    pub fn is_available(self) -> bool {
        self != FixKind::None
    }
}

/// What a rule's findings on a statement depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Possibly any statement of the file.
    File,
    /// Only that statement (its text and operations, every span inside it) and the state it runs
    /// in as [`FileContext`](sluice_core::FileContext) records it (the schema before it,
    /// transaction and session state, section, tables created earlier), under the same settings.
    /// The language server reuses such findings on statements an edit left alone.
    Statement,
}

/// A rule's identity and documentation. Documentation is Markdown with the sections
/// "What it does", "Why it is bad", "Example" and "Use instead".
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Kebab-case name of the flagged pattern.
    pub name: &'static str,
    pub dialects: &'static [Dialect],
    pub category: Category,
    pub severity: Severity,
    pub fix: FixKind,
    #[serde(skip)]
    pub scope: Scope,
    /// Raw documentation (doc-comment lines joined; use [`RuleMeta::documentation`]).
    #[serde(skip)]
    pub raw_docs: &'static str,
}

impl RuleMeta {
    /// The documentation as Markdown, with the doc-comment indentation removed.
    pub fn documentation(&self) -> String {
        let mut out = String::with_capacity(self.raw_docs.len());
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// The first paragraph of "What it does", as one line.
    pub fn summary(&self) -> String {
        let docs = self.documentation();
        let body = docs.split("## What it does").nth(1).unwrap_or(&docs);
        body.trim_start().split("\n\n").next().unwrap_or("").lines().map(str::trim).collect::<Vec<_>>().join(" ")
    }

    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.dialects.contains(&dialect)
    }
}

/// One statement of the file with its context, handed to rules.
pub struct StatementRef<'a> {
    pub index: usize,
    pub stmt: &'a Statement,
    pub ctx: &'a StatementContext,
}

/// One operation of a parsed statement.
#[derive(Clone, Copy)]
pub struct OpRef<'a> {
    pub index: usize,
    pub stmt: &'a Statement,
    pub ctx: &'a StatementContext,
    pub op: &'a Op,
}

impl OpRef<'_> {
    /// The "Add CONCURRENTLY" fix inserting the keyword at `at`: safe on its own, unsafe inside a
    /// transaction block, where it would only trade one failure for another.
    pub fn add_concurrently_fix(&self, at: usize) -> Fix {
        let applicability = if self.ctx.in_transaction { Applicability::Unsafe } else { Applicability::Safe };
        Fix { description: "Add CONCURRENTLY".into(), applicability, edits: vec![Edit::insert(at, " CONCURRENTLY")] }
    }
}

/// Everything a rule may read about a file.
pub struct RuleContext<'a> {
    pub file: &'a ParsedFile,
    pub fcx: &'a FileContext,
    /// When set, [`statements`](Self::statements) and the iterators built on it yield only the
    /// statements marked here (by index): the driver checks the edited statements of a file
    /// again with the rules whose findings on a statement depend on nothing else.
    pub only: Option<&'a [bool]>,
}

impl<'a> RuleContext<'a> {
    pub fn text(&self) -> &'a str {
        &self.file.text
    }

    pub fn dialect(&self) -> Dialect {
        self.fcx.settings.dialect
    }

    /// Parsed statements with their context (only those of [`only`](Self::only) when set).
    pub fn statements(&self) -> impl Iterator<Item = StatementRef<'a>> + 'a {
        let only = self.only;
        self.all_statements().filter(move |s| only.is_none_or(|o| o.get(s.index).copied().unwrap_or(false)))
    }

    /// Every parsed statement with its context.
    pub(crate) fn all_statements(&self) -> impl Iterator<Item = StatementRef<'a>> + 'a {
        let fcx = self.fcx;
        self.file
            .statements
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_parsed())
            .filter_map(move |(index, stmt)| Some(StatementRef { index, stmt, ctx: fcx.statements.get(index)? }))
    }

    /// Every operation of every parsed statement, in file order.
    pub fn ops(&self) -> impl Iterator<Item = OpRef<'a>> + 'a {
        self.statements()
            .flat_map(|s| s.stmt.ops.iter().map(move |op| OpRef { index: s.index, stmt: s.stmt, ctx: s.ctx, op }))
    }

    /// The operations of the statements before statement `index` (all of them, whatever
    /// [`only`](Self::only) holds).
    pub fn ops_before(&self, index: usize) -> impl Iterator<Item = OpRef<'a>> + 'a {
        self.all_statements()
            .take_while(move |s| s.index < index)
            .flat_map(|s| s.stmt.ops.iter().map(move |op| OpRef { index: s.index, stmt: s.stmt, ctx: s.ctx, op }))
    }

    /// True when the table was created earlier in this file: it is empty and no other session
    /// can see it yet, so lock and scan concerns do not apply.
    pub fn is_new_table(&self, name: &QualifiedName, stmt_index: usize) -> bool {
        self.fcx.created_before(name, stmt_index)
    }

    /// Every `ALTER TABLE` operation, with its table and actions.
    pub fn alter_tables(&self) -> impl Iterator<Item = (OpRef<'a>, &'a QualifiedName, &'a [AlterAction])> + 'a {
        self.ops().filter_map(|o| match o.op {
            Op::AlterTable { name, actions, .. } => Some((o, name, actions.as_slice())),
            _ => None,
        })
    }

    /// The `ALTER TABLE` operations on tables not created earlier in this file.
    pub fn alter_tables_of_existing(
        &self,
    ) -> impl Iterator<Item = (OpRef<'a>, &'a QualifiedName, &'a [AlterAction])> + 'a {
        let fcx = self.fcx;
        self.alter_tables().filter(move |(o, name, _)| !fcx.created_before(name, o.index))
    }

    /// Every action of the `ALTER TABLE` operations on tables not created earlier in this file.
    pub fn alters_of_existing_tables(
        &self,
    ) -> impl Iterator<Item = (OpRef<'a>, &'a QualifiedName, &'a AlterAction)> + 'a {
        self.alter_tables_of_existing().flat_map(|(o, name, actions)| actions.iter().map(move |a| (o, name, a)))
    }

    /// The code tokens of `stmt` (comments left out), in order.
    pub fn code_tokens(&self, stmt: &Statement) -> impl DoubleEndedIterator<Item = &'a Token> + 'a {
        self.file.statement_tokens(stmt).iter().filter(|t| !t.is_comment())
    }

    /// The span of the first token of `stmt` that is the word `word` (ASCII case-insensitive).
    pub fn word_in(&self, stmt: &Statement, word: &str) -> Option<Span> {
        self.file.statement_tokens(stmt).iter().find(|t| t.is_word(self.text(), word)).map(|t| t.span)
    }

    /// The last code token of `stmt` that ends at or before `offset` and is the word `word`. For
    /// a statement inside a function body or DO block (a string of the outer statement) there is
    /// none, so fixes placed with it stay out of strings.
    pub fn word_before(&self, stmt: &Statement, offset: usize, word: &str) -> Option<Token> {
        self.code_tokens(stmt).rev().find(|t| t.span.end <= offset && t.is_word(self.text(), word)).copied()
    }
}

/// Collects one rule's findings.
pub struct Reporter {
    pub meta: &'static RuleMeta,
    pub diagnostics: Vec<Diagnostic>,
}

impl Reporter {
    pub fn new(meta: &'static RuleMeta) -> Self {
        Reporter { meta, diagnostics: Vec::new() }
    }

    /// Records a finding at `span` for `stmt` with the rule's default severity; returns it so the
    /// caller can add help, labels or a fix.
    pub fn report(&mut self, stmt: &Statement, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let span = if span.is_empty() && span.start == 0 { stmt.span } else { span };
        self.diagnostics.push(Diagnostic {
            rule: self.meta.name,
            severity: self.meta.severity,
            message: message.into(),
            span,
            statement: stmt.span,
            labels: Vec::new(),
            help: None,
            fix: None,
        });
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }
}

/// A lint rule. Implementations are unit structs declared with [`crate::declare_rule!`].
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter);
}

/// Declares a rule struct with its metadata; the doc comment is the rule's documentation.
#[macro_export]
macro_rules! declare_rule {
    (@scope) => {
        $crate::rule::Scope::File
    };
    (@scope $scope:ident) => {
        $crate::rule::Scope::$scope
    };
    (
        $(#[doc = $doc:literal])+
        $vis:vis struct $ty:ident {
            name: $name:literal,
            dialects: [$($dialect:ident),+ $(,)?],
            category: $category:ident,
            severity: $severity:ident,
            fix: $fix:ident
            $(, scope: $scope:ident)? $(,)?
        }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Default, Clone, Copy)]
        $vis struct $ty;

        impl $ty {
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                name: $name,
                dialects: &[$(sluice_core::Dialect::$dialect),+],
                category: $crate::rule::Category::$category,
                severity: sluice_core::Severity::$severity,
                fix: $crate::rule::FixKind::$fix,
                scope: $crate::declare_rule!(@scope $($scope)?),
                raw_docs: concat!($($doc, "\n"),+),
            };
        }
    };
}
