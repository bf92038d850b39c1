//! A small, fast, dialect-aware SQL lexer.
//!
//! It is not a grammar: it knows just enough (quotes, dollar quotes, comments, psql
//! meta-commands, MySQL `DELIMITER`) to split a file into statements, to find clause spans for
//! diagnostics, to read suppression comments, and to recognise obvious dangers in statements the
//! parser rejects. It never fails: unterminated strings or comments run to the end of the input.

use crate::span::Span;
use crate::Dialect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An unquoted identifier or keyword.
    Word,
    /// `"ident"` (PostgreSQL) or `` `ident` `` (MySQL).
    QuotedIdent,
    /// A string literal of any flavour, dollar-quoted bodies included.
    String,
    Number,
    /// `$1` (PostgreSQL) or `?` parameters.
    Param,
    /// `-- ...` or `# ...` (MySQL).
    LineComment,
    BlockComment,
    /// A psql meta-command line (`\set x 1`, `\i file`).
    MetaCommand,
    /// A MySQL `DELIMITER xx` line.
    DelimiterDirective,
    /// The statement terminator in force (`;`, or the MySQL `DELIMITER`).
    Terminator,
    /// Any other single character (operators, parentheses, commas).
    Punct,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        self.span.slice(src)
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }

    /// True for an unquoted word equal to `kw` (ASCII case-insensitive).
    pub fn is_word(&self, src: &str, kw: &str) -> bool {
        self.kind == TokenKind::Word && self.text(src).eq_ignore_ascii_case(kw)
    }

    pub fn is_punct(&self, src: &str, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text(src).starts_with(c)
    }
}

/// The name an identifier token denotes: quotes removed, unquoted PostgreSQL names folded.
pub fn ident_value(tok: &Token, src: &str, dialect: Dialect) -> String {
    let t = tok.text(src);
    match tok.kind {
        TokenKind::QuotedIdent => {
            let q = t.chars().next().unwrap_or('"');
            let inner = t.get(1..t.len().saturating_sub(1)).unwrap_or("");
            let doubled: String = [q, q].iter().collect();
            inner.replace(&doubled, &q.to_string())
        }
        _ => match dialect {
            Dialect::Postgres => t.to_ascii_lowercase(),
            Dialect::MySql => t.to_string(),
        },
    }
}

/// Tokenizes `src`; comments are kept as tokens, whitespace is dropped.
pub fn tokenize(src: &str, dialect: Dialect) -> Vec<Token> {
    Lexer { src: src.as_bytes(), text: src, pos: 0, dialect, delimiter: ";".into(), out: Vec::new() }.run()
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    dialect: Dialect,
    delimiter: String,
    out: Vec<Token>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8, dialect: Dialect) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 || (b == b'$' && dialect == Dialect::Postgres)
}

impl<'a> Lexer<'a> {
    fn run(mut self) -> Vec<Token> {
        while self.pos < self.src.len() {
            let start = self.pos;
            let b = self.src[start];
            if b.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            let kind = self.next_kind(b);
            // Guarantee progress whatever the branch did, and never end inside a UTF-8 sequence.
            if self.pos <= start {
                self.pos = start + 1;
            }
            while self.pos < self.src.len() && !self.text.is_char_boundary(self.pos) {
                self.pos += 1;
            }
            self.pos = self.pos.min(self.src.len());
            self.out.push(Token { kind, span: Span::new(start, self.pos) });
        }
        self.out
    }

    fn peek(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }

    fn at_line_start(&self) -> bool {
        let mut i = self.pos;
        while i > 0 {
            match self.src[i - 1] {
                b'\n' => return true,
                b' ' | b'\t' | b'\r' => i -= 1,
                _ => return false,
            }
        }
        true
    }

    fn skip_to_line_end(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn next_kind(&mut self, b: u8) -> TokenKind {
        let mysql = self.dialect == Dialect::MySql;
        // A custom MySQL delimiter takes precedence over everything but quotes and comments.
        if mysql && self.delimiter != ";" && self.text[self.pos..].starts_with(self.delimiter.as_str()) {
            self.pos += self.delimiter.len();
            return TokenKind::Terminator;
        }
        if mysql && (b == b'D' || b == b'd') && self.at_line_start() && self.is_delimiter_directive() {
            return TokenKind::DelimiterDirective;
        }
        match b {
            b';' => {
                self.pos += 1;
                if self.delimiter == ";" {
                    TokenKind::Terminator
                } else {
                    TokenKind::Punct
                }
            }
            b'-' if self.peek(1) == Some(b'-') && (!mysql || self.peek(2).is_none_or(|c| c.is_ascii_whitespace())) => {
                self.skip_to_line_end();
                TokenKind::LineComment
            }
            b'#' if mysql => {
                self.skip_to_line_end();
                TokenKind::LineComment
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.block_comment();
                TokenKind::BlockComment
            }
            b'\\' if !mysql => {
                self.skip_to_line_end();
                TokenKind::MetaCommand
            }
            b'\'' => {
                self.quoted(b'\'', mysql);
                TokenKind::String
            }
            b'"' if mysql => {
                self.quoted(b'"', true);
                TokenKind::String
            }
            b'"' => {
                self.quoted(b'"', false);
                TokenKind::QuotedIdent
            }
            b'`' if mysql => {
                self.quoted(b'`', false);
                TokenKind::QuotedIdent
            }
            b'$' if !mysql => self.dollar(),
            b'?' if mysql => {
                self.pos += 1;
                TokenKind::Param
            }
            b'0'..=b'9' => {
                self.number();
                TokenKind::Number
            }
            b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.number();
                TokenKind::Number
            }
            _ if is_ident_start(b) => self.word(),
            _ => {
                self.pos += 1;
                TokenKind::Punct
            }
        }
    }

    fn is_delimiter_directive(&mut self) -> bool {
        let rest = &self.text[self.pos..];
        let Some(head) = rest.get(..9) else { return false };
        if !head.eq_ignore_ascii_case("delimiter") {
            return false;
        }
        let after = &rest[9..];
        if !after.starts_with([' ', '\t']) {
            return false;
        }
        let line_end = after.find('\n').unwrap_or(after.len());
        let new_delim = after[..line_end].trim();
        if new_delim.is_empty() {
            return false;
        }
        // `DELIMITER ;;` and `DELIMITER $$` are common; anything up to the first space counts.
        let new_delim = new_delim.split_whitespace().next().unwrap_or(";");
        self.delimiter = new_delim.to_string();
        self.pos += 9 + line_end;
        true
    }

    fn block_comment(&mut self) {
        let nests = self.dialect == Dialect::Postgres;
        self.pos += 2;
        let mut depth = 1usize;
        while self.pos < self.src.len() {
            if self.src[self.pos] == b'*' && self.peek(1) == Some(b'/') {
                self.pos += 2;
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else if nests && self.src[self.pos] == b'/' && self.peek(1) == Some(b'*') {
                self.pos += 2;
                depth += 1;
            } else {
                self.pos += 1;
            }
        }
    }

    /// A quoted run; the closing quote doubled is an escaped quote. `backslash` enables
    /// backslash escapes (MySQL strings, PostgreSQL `E'...'`).
    fn quoted(&mut self, q: u8, backslash: bool) {
        self.pos += 1;
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if backslash && c == b'\\' {
                self.pos += 2;
                continue;
            }
            self.pos += 1;
            if c == q {
                if self.peek(0) == Some(q) {
                    self.pos += 1;
                    continue;
                }
                return;
            }
        }
        self.pos = self.src.len();
    }

    fn dollar(&mut self) -> TokenKind {
        // `$1` parameter.
        if self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            return TokenKind::Param;
        }
        // `$tag$ ... $tag$`
        let mut end = self.pos + 1;
        while end < self.src.len() && (is_ident_continue(self.src[end], Dialect::MySql)) {
            end += 1;
        }
        let tag_ok = end < self.src.len()
            && self.src[end] == b'$'
            && (end == self.pos + 1 || is_ident_start(self.src[self.pos + 1]));
        if !tag_ok {
            self.pos += 1;
            return TokenKind::Punct;
        }
        let tag = &self.text[self.pos..=end];
        let body_start = end + 1;
        match self.text[body_start..].find(tag) {
            Some(i) => self.pos = body_start + i + tag.len(),
            None => self.pos = self.src.len(),
        }
        TokenKind::String
    }

    fn number(&mut self) {
        while let Some(c) = self.peek(0) {
            let exponent_sign =
                (c == b'+' || c == b'-') && matches!(self.src.get(self.pos.wrapping_sub(1)), Some(b'e' | b'E'));
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek(0).is_some_and(|c| is_ident_continue(c, self.dialect)) {
            self.pos += 1;
        }
        // String prefixes: E'..' (escapes), B'..', X'..', N'..', U&'..' and MySQL _charset'..'.
        if self.peek(0) == Some(b'\'') {
            let w = &self.text[start..self.pos];
            let escapes = w.eq_ignore_ascii_case("e");
            if escapes
                || matches!(w.to_ascii_lowercase().as_str(), "b" | "x" | "n")
                || (self.dialect == Dialect::MySql && w.starts_with('_'))
            {
                self.quoted(b'\'', escapes || self.dialect == Dialect::MySql);
                return TokenKind::String;
            }
        }
        if self.dialect == Dialect::Postgres
            && self.peek(0) == Some(b'&')
            && self.text[start..self.pos].eq_ignore_ascii_case("u")
        {
            match self.peek(1) {
                Some(b'\'') => {
                    self.pos += 1;
                    self.quoted(b'\'', false);
                    return TokenKind::String;
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.quoted(b'"', false);
                    return TokenKind::QuotedIdent;
                }
                _ => {}
            }
        }
        TokenKind::Word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str, d: Dialect) -> Vec<(TokenKind, &str)> {
        tokenize(src, d).iter().map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn postgres_quotes_and_comments() {
        let src = "SELECT 'a;b', E'x\\'y', \"q\"\"id\", $f$ ; $f$, $$;$$ /* a /* nested */ ; */ -- c;\n;";
        let k = kinds(src, Dialect::Postgres);
        let terms: Vec<_> = k.iter().filter(|(t, _)| *t == TokenKind::Terminator).collect();
        assert_eq!(terms.len(), 1, "{k:?}");
        assert!(k.contains(&(TokenKind::String, "E'x\\'y'")));
        assert!(k.contains(&(TokenKind::QuotedIdent, "\"q\"\"id\"")));
        assert!(k.contains(&(TokenKind::String, "$f$ ; $f$")));
        assert!(k.contains(&(TokenKind::BlockComment, "/* a /* nested */ ; */")));
    }

    #[test]
    fn psql_meta_command() {
        let k = kinds("\\set ON_ERROR_STOP on\nSELECT 1;", Dialect::Postgres);
        assert_eq!(k[0], (TokenKind::MetaCommand, "\\set ON_ERROR_STOP on"));
    }

    #[test]
    fn mysql_delimiter_and_comments() {
        let src = "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n# c\nSELECT \"a;\" -- x\n;";
        let k = kinds(src, Dialect::MySql);
        let terms: Vec<_> = k.iter().filter(|(t, _)| *t == TokenKind::Terminator).map(|x| x.1).collect();
        assert_eq!(terms, vec!["$$", ";"]);
        assert_eq!(k[0].0, TokenKind::DelimiterDirective);
        assert!(k.contains(&(TokenKind::String, "\"a;\"")));
    }

    #[test]
    fn never_panics_on_unterminated_or_multibyte() {
        for src in ["'abc", "$tag$ abc", "/* abc", "\"abc", "é'", "$é$", "E'\\", "U&", "1e+", "--"] {
            let _ = tokenize(src, Dialect::Postgres);
            let _ = tokenize(src, Dialect::MySql);
        }
    }
}
