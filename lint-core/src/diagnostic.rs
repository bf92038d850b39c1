//! Findings, and the fixes that come with them, in byte ranges.

use crate::span::Span;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!("unknown severity `{s}`: expected \"error\", \"warning\" or \"info\"")),
        }
    }
}

/// Whether a fix can be applied without a human looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Keeps the migration's meaning and makes it safer.
    Safe,
    /// Changes behaviour (e.g. moves work to a later step); apply only when asked.
    Unsafe,
}

/// Replace `span` with `replacement` (an insertion when the span is empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit { span: Span::empty(at), replacement: text.into() }
    }

    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Edit { span, replacement: text.into() }
    }

    pub fn delete(span: Span) -> Self {
        Edit { span, replacement: String::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Imperative, e.g. "Add CONCURRENTLY".
    pub description: String,
    pub applicability: Applicability,
    /// Non-overlapping edits, applied together.
    pub edits: Vec<Edit>,
}

/// A secondary span with a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Rule name (kebab-case), or a built-in name such as `syntax-error`.
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The primary span: the offending clause when known, else the statement.
    pub span: Span,
    /// The whole statement the finding belongs to.
    pub statement: Span,
    pub labels: Vec<Label>,
    /// What to do instead.
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

/// Applies non-overlapping edits to `text`. Overlapping edits after the first are skipped and
/// counted in the second return value.
pub fn apply_edits(text: &str, edits: &[Edit]) -> (String, usize) {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    let mut skipped = 0;
    for e in sorted {
        if e.span.start < pos
            || e.span.end > text.len()
            || !text.is_char_boundary(e.span.start)
            || !text.is_char_boundary(e.span.end)
        {
            skipped += 1;
            continue;
        }
        out.push_str(&text[pos..e.span.start]);
        out.push_str(&e.replacement);
        pos = e.span.end;
    }
    out.push_str(&text[pos..]);
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_skip_overlaps() {
        let (s, skipped) = apply_edits(
            "CREATE INDEX i ON t (a);",
            &[Edit::insert(12, " CONCURRENTLY"), Edit::replace(Span::new(0, 6), "create"), Edit::insert(3, "x")],
        );
        assert_eq!(s, "create INDEX CONCURRENTLY i ON t (a);");
        assert_eq!(skipped, 1);
    }
}
