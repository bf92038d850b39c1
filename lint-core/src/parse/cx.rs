//! What lowering code knows about the statement it lowers: its text and tokens, and helpers to
//! turn parser positions and keywords into file spans.

use crate::lexer::{ident_value, Token, TokenKind};
use crate::span::Span;
use crate::Dialect;

/// Lowering context of one statement. All spans it returns are in file coordinates.
pub struct LowerCx<'a> {
    /// The whole file's text.
    pub text: &'a str,
    /// The statement's span in the file.
    pub span: Span,
    /// The statement's tokens (file coordinates, comments included, terminator excluded).
    pub tokens: &'a [Token],
    pub dialect: Dialect,
}

impl<'a> LowerCx<'a> {
    pub fn new(text: &'a str, span: Span, tokens: &'a [Token], dialect: Dialect) -> Self {
        LowerCx { text, span, tokens, dialect }
    }

    /// The statement's text.
    pub fn sql(&self) -> &'a str {
        self.span.slice(self.text)
    }

    pub fn slice(&self, span: Span) -> &'a str {
        span.slice(self.text)
    }

    /// Tokens that are not comments.
    pub fn code_tokens(&self) -> impl Iterator<Item = &'a Token> + 'a {
        self.tokens.iter().filter(|t| !t.is_comment())
    }

    /// A parser location (byte offset relative to the statement; negative when unknown) to the
    /// span of the token that starts there, or an empty span at that point.
    pub fn span_at(&self, location: i32) -> Span {
        let Ok(rel) = usize::try_from(location) else { return self.span };
        let abs = self.span.start + rel;
        self.tokens.iter().find(|t| t.span.start == abs).map_or(Span::empty(abs.min(self.span.end)), |t| t.span)
    }

    /// Span from a parser location to the end of the balanced run of tokens that starts there,
    /// stopping before a top-level comma or closing parenthesis (e.g. one column definition).
    pub fn clause_from(&self, location: i32) -> Span {
        let Ok(rel) = usize::try_from(location) else { return self.span };
        let abs = self.span.start + rel;
        let mut depth = 0i32;
        let mut end = None;
        for t in self.tokens.iter().filter(|t| t.span.start >= abs && !t.is_comment()) {
            if t.kind == TokenKind::Punct {
                match self.slice(t.span) {
                    "(" => depth += 1,
                    ")" if depth == 0 => break,
                    ")" => depth -= 1,
                    "," if depth == 0 => break,
                    _ => {}
                }
            }
            end = Some(t.span.end);
        }
        Span::new(abs, end.unwrap_or(abs))
    }

    /// The first occurrence of consecutive words (`["CREATE", "INDEX"]`), optional words
    /// allowed in between if listed in `skip` (e.g. `UNIQUE`), as one span.
    pub fn words_span(&self, words: &[&str], skip: &[&str]) -> Option<Span> {
        let toks: Vec<&Token> = self.code_tokens().collect();
        'outer: for i in 0..toks.len() {
            if !toks[i].is_word(self.text, words.first()?) {
                continue;
            }
            let mut j = i + 1;
            for w in &words[1..] {
                while j < toks.len() && skip.iter().any(|s| toks[j].is_word(self.text, s)) {
                    j += 1;
                }
                if j >= toks.len() || !toks[j].is_word(self.text, w) {
                    continue 'outer;
                }
                j += 1;
            }
            return Some(toks[i].span.cover(toks[j - 1].span));
        }
        None
    }

    /// The first word token equal to `word` at or after `from`.
    pub fn word_after(&self, word: &str, from: usize) -> Option<Span> {
        self.code_tokens().find(|t| t.span.start >= from && t.is_word(self.text, word)).map(|t| t.span)
    }

    /// The span of the first identifier token inside `within` that denotes `name`.
    pub fn ident_in(&self, name: &str, within: Span) -> Option<Span> {
        self.code_tokens()
            .filter(|t| t.span.start >= within.start && t.span.end <= within.end)
            .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent))
            .find(|t| {
                let v = ident_value(t, self.text, self.dialect);
                match self.dialect {
                    Dialect::Postgres => v == name,
                    Dialect::MySql => v.eq_ignore_ascii_case(name),
                }
            })
            .map(|t| t.span)
    }

    /// The comma-separated clauses of an `ALTER <object> [IF EXISTS] [ONLY] name ...` statement,
    /// in order, each trimmed to its tokens. Empty when the statement has no such shape.
    pub fn alter_clauses(&self) -> Vec<Span> {
        let toks: Vec<&Token> = self.code_tokens().collect();
        let mut i = 0;
        // ALTER [ONLINE|IGNORE] TABLE [IF EXISTS] [ONLY] name [*]
        if !toks.first().is_some_and(|t| t.is_word(self.text, "alter")) {
            return Vec::new();
        }
        i += 1;
        while i < toks.len() && !toks[i].is_word(self.text, "table") {
            i += 1;
        }
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_word(self.text, "if")) {
            i += 2;
        }
        if toks.get(i).is_some_and(|t| t.is_word(self.text, "only")) {
            i += 1;
        }
        // name: ident (. ident)*
        i += 1;
        while toks.get(i).is_some_and(|t| t.is_punct(self.text, '.')) {
            i += 2;
        }
        if toks.get(i).is_some_and(|t| t.is_punct(self.text, '*')) {
            i += 1;
        }
        let mut out = Vec::new();
        let mut depth = 0i32;
        let mut start: Option<Span> = None;
        let mut last = Span::default();
        for t in toks.iter().skip(i) {
            if t.kind == TokenKind::Punct {
                match self.slice(t.span) {
                    "(" => depth += 1,
                    ")" => depth -= 1,
                    "," if depth == 0 => {
                        if let Some(s) = start.take() {
                            out.push(s.cover(last));
                        }
                        continue;
                    }
                    _ => {}
                }
            }
            if start.is_none() {
                start = Some(t.span);
            }
            last = t.span;
        }
        if let Some(s) = start {
            out.push(s.cover(last));
        }
        out
    }
}
