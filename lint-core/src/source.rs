//! Decoding a migration file's bytes into text.

use crate::span::Span;

/// A decoded source file. Spans everywhere refer to `text`, which excludes a leading UTF-8 BOM.
#[derive(Clone, Debug)]
pub struct SourceText {
    pub text: String,
    /// The file started with a UTF-8 byte order mark (kept when fixes are written back).
    pub had_bom: bool,
}

/// The file is not valid UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("file is not valid UTF-8: invalid byte sequence at byte {offset} (line {line}); convert it to UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`)")]
pub struct InvalidUtf8 {
    /// Offset of the first invalid byte in the raw file.
    pub offset: usize,
    /// One-based line of the first invalid byte.
    pub line: usize,
    /// The valid prefix, lossily decoded, so the error can be shown in context.
    pub lossy: String,
    /// The invalid byte's position in `lossy`.
    pub span: Span,
}

impl SourceText {
    pub fn decode(bytes: &[u8]) -> Result<SourceText, InvalidUtf8> {
        let (body, had_bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (rest, true),
            None => (bytes, false),
        };
        match std::str::from_utf8(body) {
            Ok(s) => Ok(SourceText { text: s.to_string(), had_bom }),
            Err(e) => {
                let at = e.valid_up_to();
                let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                let valid = String::from_utf8_lossy(&body[..at]).into_owned();
                let span = Span::new(valid.len(), valid.len());
                Err(InvalidUtf8 { offset: at + usize::from(had_bom) * 3, line, lossy: valid, span })
            }
        }
    }

    pub fn from_text(text: impl Into<String>) -> SourceText {
        let text = text.into();
        match text.strip_prefix('\u{feff}') {
            Some(rest) => SourceText { text: rest.to_string(), had_bom: true },
            None => SourceText { text, had_bom: false },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_invalid_utf8() {
        let s = SourceText::decode(b"\xEF\xBB\xBFSELECT 1;").unwrap();
        assert!(s.had_bom);
        assert_eq!(s.text, "SELECT 1;");
        let e = SourceText::decode(b"SELECT 1;\nSELECT '\xff';").unwrap_err();
        assert_eq!((e.offset, e.line), (18, 2));
    }
}
