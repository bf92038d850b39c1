//! Which migrations to apply, in which order, with their down migrations and transaction mode.
//!
//! Inputs are files or directories (walked recursively for `*.sql`, in path order). Down
//! migrations are recognised in the common layouts: `X.up.sql` / `X.down.sql` pairs
//! (golang-migrate, sqlx), `up.sql` / `down.sql` in one directory (diesel), and sections of one
//! file marked `-- +goose Up` / `-- +goose Down` (goose) or `-- migrate:up` / `-- migrate:down`
//! (dbmate). Markers that turn the transaction off (`-- +goose NO TRANSACTION`,
//! `transaction:false`, `-- no-transaction`) make every statement run on its own.

use crate::error::{Error, Result};
use sluice_core::SourceText;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A part of a file to apply: the whole file or one section of it.
#[derive(Clone, Debug)]
pub struct Part {
    /// The path as given or found (for messages: `path:line`).
    pub path: String,
    /// The whole decoded file text (line numbers stay those of the file).
    pub text: String,
    /// Byte range of the part in `text`.
    pub range: Range<usize>,
    /// The migration tool runs this part inside one transaction.
    pub in_transaction: bool,
}

/// One migration: its up part and, when the layout has one, its down part.
#[derive(Clone, Debug)]
pub struct Migration {
    pub up: Part,
    pub down: Option<Part>,
}

/// Loads the migrations named by `inputs` in apply order.
pub fn load(inputs: &[PathBuf]) -> Result<Vec<Migration>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found)?;
            found.sort();
            files.extend(found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            return Err(Error::Input(format!("{}: no such file or directory", input.display())));
        }
    }
    let mut out: Vec<Migration> = Vec::new();
    let downs: Vec<&PathBuf> = files.iter().filter(|f| is_down_file(f)).collect();
    for f in files.iter().filter(|f| !is_down_file(f)) {
        let text = read(f)?;
        let down_path = down_file_for(f).filter(|d| downs.contains(&d));
        let mut m = sections(f, &text);
        if let Some(d) = down_path {
            let dtext = read(&d)?;
            let tx = !disables_transaction(&dtext);
            m.down =
                Some(Part { path: d.display().to_string(), range: 0..dtext.len(), text: dtext, in_transaction: tx });
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err(Error::Input("no migration files (*.sql) found".into()));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let p = entry.path();
        let hidden = entry.file_name().to_str().is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "sql") {
            out.push(p);
        }
    }
    Ok(())
}

fn read(p: &Path) -> Result<String> {
    let bytes = std::fs::read(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
    SourceText::decode(&bytes)
        .map(|s| s.text)
        .map_err(|e| Error::File { path: p.to_path_buf(), message: e.to_string() })
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

fn is_down_file(p: &Path) -> bool {
    let n = file_name(p);
    n.ends_with(".down.sql") || n == "down.sql"
}

fn down_file_for(p: &Path) -> Option<PathBuf> {
    let n = file_name(p);
    if n == "up.sql" {
        return Some(p.with_file_name("down.sql"));
    }
    n.strip_suffix(".up.sql").map(|stem| p.with_file_name(format!("{stem}.down.sql")))
}

fn disables_transaction(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.starts_with("--")
            && (l.contains("+goose no transaction")
                || l.contains("transaction:false")
                || l.trim_start_matches('-').trim() == "no-transaction")
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Up,
    Down,
}

fn marker(line: &str) -> Option<Marker> {
    let l = line.trim().to_ascii_lowercase();
    let body = l.strip_prefix("--")?.trim();
    if body == "+goose up" || body.starts_with("migrate:up") {
        Some(Marker::Up)
    } else if body == "+goose down" || body.starts_with("migrate:down") {
        Some(Marker::Down)
    } else {
        None
    }
}

/// Splits a file on goose/dbmate markers; without markers the whole file is the up part.
fn sections(path: &Path, text: &str) -> Migration {
    let mut up: Option<Range<usize>> = None;
    let mut down: Option<Range<usize>> = None;
    let mut current: Option<(Marker, usize, bool)> = None;
    let mut up_tx = true;
    let mut down_tx = true;
    let mut offset = 0;
    let mut close = |cur: Option<(Marker, usize, bool)>, end: usize| {
        if let Some((m, start, tx)) = cur {
            match m {
                Marker::Up => {
                    up = Some(start..end);
                    up_tx = tx;
                }
                Marker::Down => {
                    down = Some(start..end);
                    down_tx = tx;
                }
            }
        }
    };
    // dbmate's `transaction:false` belongs to its section; the other markers to the file.
    let whole_tx = !text.lines().any(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.starts_with("--") && !l.contains("migrate:") && disables_transaction(&l)
    });
    for line in text.split_inclusive('\n') {
        if let Some(m) = marker(line) {
            close(current.take(), offset);
            let tx = !line.to_ascii_lowercase().contains("transaction:false") && whole_tx;
            current = Some((m, offset + line.len(), tx));
        }
        offset += line.len();
    }
    close(current.take(), text.len());
    let path_s = path.display().to_string();
    let part =
        |r: Range<usize>, tx: bool| Part { path: path_s.clone(), text: text.to_string(), range: r, in_transaction: tx };
    match up {
        Some(r) => Migration { up: part(r, up_tx), down: down.map(|d| part(d, down_tx)) },
        None => Migration { up: part(0..text.len(), whole_tx), down: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_sections() {
        let dir = tempfile::tempdir().expect("tmp");
        let w = |n: &str, t: &str| std::fs::write(dir.path().join(n), t).expect("w");
        w("001_a.up.sql", "CREATE TABLE a (id int);");
        w("001_a.down.sql", "DROP TABLE a;");
        w("002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n");
        w(
            "003_c.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON b (id);\n-- migrate:down\nDROP INDEX i;\n",
        );
        w("004_d.sql", "SELECT 1;");
        let ms = load(&[dir.path().to_path_buf()]).expect("load");
        assert_eq!(ms.len(), 4);
        assert!(ms[0].up.path.ends_with("001_a.up.sql"));
        assert_eq!(ms[0].down.as_ref().map(|d| d.text.as_str()), Some("DROP TABLE a;"));
        let b = &ms[1];
        assert_eq!(&b.up.text[b.up.range.clone()], "CREATE TABLE b (id int);\n");
        let bd = b.down.as_ref().expect("down");
        assert_eq!(&bd.text[bd.range.clone()], "DROP TABLE b;\n");
        assert!(!ms[2].up.in_transaction && ms[2].down.as_ref().is_some_and(|d| d.in_transaction));
        assert!(ms[3].down.is_none() && ms[3].up.in_transaction);
        assert!(load(&[dir.path().join("missing.sql")]).is_err());
    }
}
