//! Converting byte offsets to line/column positions, for the edges of the system only.

/// Line starts of a text, for converting byte offsets to (line, column) pairs.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

/// A zero-based line and a zero-based column in the unit the caller asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

/// How columns are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnUnit {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the LSP default).
    Utf16,
    /// Unicode scalar values (what humans and most CI annotation formats count).
    Char,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts, len: text.len() }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where zero-based `line` starts, if it exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// Position of a byte offset. Offsets past the end clamp to the end; offsets inside a
    /// multi-byte character count as that character's start.
    pub fn line_col(&self, text: &str, offset: usize, unit: ColumnUnit) -> LineCol {
        let offset = offset.min(self.len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = self.line_starts[line];
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let prefix = text.get(start..end).unwrap_or("");
        let col = match unit {
            ColumnUnit::Utf8 => prefix.len(),
            ColumnUnit::Utf16 => prefix.encode_utf16().count(),
            ColumnUnit::Char => prefix.chars().count(),
        };
        LineCol { line, col }
    }

    /// Byte offset of a position; a column past the end of the line clamps to the line end
    /// (before its line terminator), a line past the end clamps to the end of the text.
    pub fn offset(&self, text: &str, pos: LineCol, unit: ColumnUnit) -> usize {
        let Some(&start) = self.line_starts.get(pos.line) else {
            return self.len;
        };
        let line_end = self.line_starts.get(pos.line + 1).map_or(self.len, |n| n - 1);
        let line = text.get(start..line_end).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut counted = 0;
        for (i, ch) in line.char_indices() {
            if counted >= pos.col {
                return start + i;
            }
            counted += match unit {
                ColumnUnit::Utf8 => ch.len_utf8(),
                ColumnUnit::Utf16 => ch.len_utf16(),
                ColumnUnit::Char => 1,
            };
        }
        start + line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_every_unit() {
        let text = "ab\r\n-- é😀x\nz";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(text, x, ColumnUnit::Utf8), LineCol { line: 1, col: 9 });
        assert_eq!(idx.line_col(text, x, ColumnUnit::Utf16), LineCol { line: 1, col: 6 });
        assert_eq!(idx.line_col(text, x, ColumnUnit::Char), LineCol { line: 1, col: 5 });
        for unit in [ColumnUnit::Utf8, ColumnUnit::Utf16, ColumnUnit::Char] {
            let lc = idx.line_col(text, x, unit);
            assert_eq!(idx.offset(text, lc, unit), x);
        }
        assert_eq!(idx.line_col(text, text.len() + 10, ColumnUnit::Char), LineCol { line: 2, col: 1 });
        assert_eq!(idx.offset(text, LineCol { line: 0, col: 99 }, ColumnUnit::Char), 2);
    }
}
