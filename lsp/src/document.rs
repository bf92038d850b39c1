//! Open documents: text, version, incremental edits and position conversion in the negotiated
//! encoding.

use sluice_core::{ColumnUnit, LineCol, LineIndex, Span};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent};

/// Converts between byte offsets and LSP positions for one text.
pub struct Positions<'a> {
    pub text: &'a str,
    pub index: &'a LineIndex,
    pub unit: ColumnUnit,
}

impl Positions<'_> {
    pub fn position(&self, offset: usize) -> Position {
        let lc = self.index.line_col(self.text, offset, self.unit);
        Position { line: saturating_u32(lc.line), character: saturating_u32(lc.col) }
    }

    pub fn range(&self, span: Span) -> Range {
        Range { start: self.position(span.start), end: self.position(span.end.max(span.start)) }
    }

    /// Byte offset of a position, clamped to the text; the flag is true when it had to clamp
    /// (line past the end, or column past the end of its line).
    pub fn offset(&self, pos: Position) -> (usize, bool) {
        let lc = LineCol { line: pos.line as usize, col: pos.character as usize };
        let offset = self.index.offset(self.text, lc, self.unit);
        let clamped = lc.line >= self.index.line_count() || self.index.line_col(self.text, offset, self.unit) != lc;
        (offset, clamped)
    }
}

pub fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An open text document.
pub struct Document {
    pub text: String,
    pub version: i32,
    pub index: LineIndex,
    pub language_id: String,
}

impl Document {
    pub fn new(text: String, version: i32, language_id: String) -> Self {
        let index = LineIndex::new(&text);
        Document { text, version, index, language_id }
    }

    pub fn positions(&self, unit: ColumnUnit) -> Positions<'_> {
        Positions { text: &self.text, index: &self.index, unit }
    }

    /// Applies content changes in order. Returns a warning for every change that had to be
    /// clamped or was ignored; never panics.
    pub fn apply_changes(&mut self, changes: Vec<TextDocumentContentChangeEvent>, unit: ColumnUnit) -> Vec<String> {
        let mut warnings = Vec::new();
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let pos = self.positions(unit);
                    let (start, clamped_start) = pos.offset(range.start);
                    let (end, clamped_end) = pos.offset(range.end);
                    if clamped_start || clamped_end {
                        warnings.push(format!(
                            "edit range {}:{}-{}:{} is outside the document ({} lines); clamped",
                            range.start.line,
                            range.start.character,
                            range.end.line,
                            range.end.character,
                            self.index.line_count()
                        ));
                    }
                    if start > end {
                        warnings.push(format!(
                            "edit range {}:{}-{}:{} ends before it starts; ignored",
                            range.start.line, range.start.character, range.end.line, range.end.character
                        ));
                        continue;
                    }
                    // Offsets from LineIndex are always on character boundaries.
                    if !(self.text.is_char_boundary(start) && self.text.is_char_boundary(end)) {
                        warnings.push("edit range is not on a character boundary; ignored".to_string());
                        continue;
                    }
                    self.text.replace_range(start..end, &change.text);
                }
            }
            self.index = LineIndex::new(&self.text);
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range { start: Position::new(l1, c1), end: Position::new(l2, c2) }),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_edits_in_utf16_and_utf8() {
        // "é" is 2 bytes / 1 UTF-16 unit, "😀" is 4 bytes / 2 UTF-16 units.
        let mut d = Document::new("-- é😀x\nSELECT 1;\n".into(), 1, "sql".into());
        let w = d.apply_changes(vec![change(0, 6, 0, 7, "Y")], ColumnUnit::Utf16);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.text, "-- é😀Y\nSELECT 1;\n");
        let w = d.apply_changes(vec![change(0, 9, 0, 10, "Z")], ColumnUnit::Utf8);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.text, "-- é😀Z\nSELECT 1;\n");
        // Several changes in one notification apply in order, each on the previous result.
        let w = d.apply_changes(vec![change(1, 7, 1, 8, "2"), change(1, 0, 1, 0, "-- x\n")], ColumnUnit::Utf16);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.text, "-- é😀Z\n-- x\nSELECT 2;\n");
    }

    #[test]
    fn out_of_range_edits_are_clamped_or_ignored() {
        let mut d = Document::new("abc\ndef".into(), 1, "sql".into());
        let w = d.apply_changes(vec![change(7, 0, 9, 3, "!")], ColumnUnit::Utf16);
        assert_eq!(w.len(), 1);
        assert_eq!(d.text, "abc\ndef!");
        let w = d.apply_changes(vec![change(0, 99, 0, 120, "?")], ColumnUnit::Utf16);
        assert_eq!(w.len(), 1);
        assert_eq!(d.text, "abc?\ndef!");
        let w = d.apply_changes(vec![change(1, 2, 0, 1, "nope")], ColumnUnit::Utf16);
        assert!(w.iter().any(|w| w.contains("ignored")), "{w:?}");
        assert_eq!(d.text, "abc?\ndef!");
        // A column inside a surrogate pair lands on a character boundary.
        let mut d = Document::new("😀a".into(), 1, "sql".into());
        let _ = d.apply_changes(vec![change(0, 1, 0, 1, "b")], ColumnUnit::Utf16);
        assert!(d.text == "😀ba" || d.text == "b😀a", "{}", d.text);
    }

    #[test]
    fn positions_round_trip() {
        let text = "-- Ünïcødé 😀\nCREATE INDEX i ON t (a);";
        let index = LineIndex::new(text);
        let off = text.find("CREATE").unwrap_or(0) + 7;
        for unit in [ColumnUnit::Utf8, ColumnUnit::Utf16] {
            let p = Positions { text, index: &index, unit };
            assert_eq!(p.position(off), Position::new(1, 7));
            assert_eq!(p.offset(Position::new(1, 7)), (off, false));
        }
        let p = Positions { text, index: &index, unit: ColumnUnit::Utf16 };
        assert_eq!(p.position(text.find('😀').unwrap_or(0) + 4), Position::new(0, 13));
        let p = Positions { text, index: &index, unit: ColumnUnit::Utf8 };
        assert_eq!(p.position(text.find('😀').unwrap_or(0) + 4), Position::new(0, 19));
    }
}
