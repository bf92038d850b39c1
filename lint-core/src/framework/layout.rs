//! How a tool runs one file: its up and down sections and whether each runs in a transaction.
//!
//! Markers are read line by line, at the start of a line, exactly as the tools read them (none of
//! them lexes the SQL, so a marker alone on a line inside a string literal counts for the tool
//! too, and an indented one does not).
//!
//! A tool runs a section in one of four ways, and the transaction mode follows:
//!
//! * it opens a transaction around the section: [`TxMode::Transaction`] (sqlx, diesel, goose and
//!   dbmate by default, Flyway by default, Atlas with `txmode file` or `all`);
//! * it sends the statements one by one, outside any transaction: [`TxMode::NoTransaction`]
//!   (goose `NO TRANSACTION`, Atlas `txmode none`, Flyway when a statement cannot run in a
//!   transaction or `executeInTransaction=false`);
//! * it sends the whole section as one query string: golang-migrate and Prisma always, sqlx with
//!   `-- no-transaction`, dbmate with `transaction:false`, diesel with
//!   `run_in_transaction = false`, and goose for a `StatementBegin` ... `StatementEnd` block under
//!   `NO TRANSACTION`. PostgreSQL runs a query string of several statements as one implicit
//!   transaction ([`TxMode::Transaction`]) and a lone statement on its own
//!   ([`TxMode::NoTransaction`]), so the statements are counted; a statement that cannot run in a
//!   transaction block among several is reported as a problem when the file asked for no
//!   transaction. On MySQL, which has no implicit transaction for a query string, such a section
//!   is [`TxMode::NoTransaction`];
//! * no tool: [`TxMode::Setting`] (plain).
//!
//! Per tool:
//!
//! * goose: up from the top of the file to `-- +goose Down`, down after it. Text before
//!   `-- +goose Up` belongs to the up section: goose accepts only comments there (reported
//!   otherwise), and `-- +goose NO TRANSACTION` is commonly written there. Annotations are
//!   case-insensitive; `NO TRANSACTION` applies to both sections.
//! * dbmate: each `-- migrate:up [options]` opens an up section that runs to its
//!   `-- migrate:down [options]`; options are per marker (`transaction:false`, exactly so). Text
//!   before the first marker belongs to the first section (comments only, reported otherwise).
//! * sqlx: `-- no-transaction` as the very first bytes of the file; `.down.sql` files are down.
//! * Flyway: `V` and `R` files are up, `U` files down. On PostgreSQL Flyway runs a migration
//!   outside a transaction when one of its statements is one Flyway knows cannot run in one
//!   (`CREATE`/`DROP INDEX CONCURRENTLY`, `VACUUM`, `REINDEX SCHEMA|DATABASE|SYSTEM`,
//!   `CREATE`/`DROP DATABASE|TABLESPACE|SUBSCRIPTION`, `ALTER SYSTEM`, `DISCARD ALL`), and refuses
//!   a migration mixing those with other statements unless `mixed = true` (reported). The
//!   `ALTER TYPE ... ADD VALUE` case, which Flyway applies before PostgreSQL 12 only, is not
//!   modelled. `executeInTransaction` in the script configuration file overrides all of this; the
//!   project-wide Flyway configuration is not seen.
//! * golang-migrate and Prisma: one query string per file.
//! * diesel: `run_in_transaction = false` in the directory's `metadata.toml` applies to `up.sql`
//!   and `down.sql`.
//! * Atlas: `-- atlas:txmode none|file|all` in the file header (comment lines at the top of the
//!   file followed by an empty line; elsewhere Atlas ignores it, reported). The `--tx-mode` flag
//!   of `atlas migrate apply` is not seen; `file` is its default.

use super::{Direction, FileLayout, FileRole, Framework, LayoutProblem, MigrationEntry, Section, TxMode};
use crate::lexer::tokenize;
use crate::span::Span;
use crate::split::{split, PieceKind};
use crate::Dialect;

/// The path of the per-file settings the tool reads for `entry`, relative like `entry.path`:
/// Flyway's script configuration file `<file>.sql.conf`, diesel's `<dir>/metadata.toml`.
pub fn sidecar_path(fw: Framework, entry: &MigrationEntry) -> Option<String> {
    match fw {
        Framework::Flyway => Some(format!("{}.conf", entry.path)),
        Framework::Diesel => {
            let dir = entry.path.rsplit_once('/').map_or("", |(d, _)| d);
            Some(if dir.is_empty() { "metadata.toml".to_string() } else { format!("{dir}/metadata.toml") })
        }
        _ => None,
    }
}

/// [`layout_for`] on PostgreSQL.
pub fn layout(fw: Framework, entry: &MigrationEntry, text: &str, sidecar: Option<&str>) -> FileLayout {
    layout_for(fw, entry, text, sidecar, Dialect::Postgres)
}

/// The sections of `text`, the file of `entry` run by tool `fw` against a `dialect` server, and
/// the problems with its markers. `sidecar` is the text of the file [`sidecar_path`] names, when
/// it exists.
pub fn layout_for(
    fw: Framework,
    entry: &MigrationEntry,
    text: &str,
    sidecar: Option<&str>,
    dialect: Dialect,
) -> FileLayout {
    let direction = if entry.role == FileRole::Down { Direction::Down } else { Direction::Up };
    let mut problems = Vec::new();
    let whole = |exec| vec![Part { span: Span::new(0, text.len()), direction, exec }];
    let parts = match fw {
        Framework::Plain => whole(Exec::Setting),
        Framework::GolangMigrate | Framework::Prisma => whole(Exec::OneQuery(None)),
        Framework::Flyway => whole(flyway(text, sidecar, dialect, &mut problems)),
        Framework::Sqlx => whole(sqlx(text, &mut problems)),
        Framework::Diesel => whole(diesel(sidecar, &mut problems)),
        Framework::Atlas => whole(atlas(text, &mut problems)),
        Framework::Goose => goose(text, &mut problems),
        Framework::Dbmate => dbmate(text, &mut problems),
    };
    finish(parts, text, dialect, problems)
}

/// How the tool sends a part of the file to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exec {
    /// Inside a transaction the tool opens.
    Wrapped,
    /// Statement by statement, no transaction.
    PerStatement,
    /// As one query string. The marker that asked for no transaction, if any, names the option
    /// in problems (`sqlx's \`-- no-transaction\``).
    OneQuery(Option<&'static str>),
    /// The tool does not decide.
    Setting,
}

#[derive(Clone, Copy, Debug)]
struct Part {
    span: Span,
    direction: Direction,
    exec: Exec,
}

fn problem(span: Span, message: impl Into<String>) -> LayoutProblem {
    LayoutProblem { span, message: message.into() }
}

fn finish(parts: Vec<Part>, text: &str, dialect: Dialect, mut problems: Vec<LayoutProblem>) -> FileLayout {
    let mut sections = Vec::with_capacity(parts.len());
    for part in parts.into_iter().filter(|p| !p.span.is_empty() || text.is_empty()) {
        let tx = match part.exec {
            Exec::Wrapped => TxMode::Transaction,
            Exec::PerStatement => TxMode::NoTransaction,
            Exec::Setting => TxMode::Setting,
            Exec::OneQuery(_) if dialect == Dialect::MySql => TxMode::NoTransaction,
            Exec::OneQuery(opted_out) => {
                let stmts = statements(text, part.span);
                if stmts.len() < 2 {
                    TxMode::NoTransaction
                } else {
                    if let Some(marker) = opted_out {
                        if let Some(s) = stmts.iter().find(|s| refuses_transaction_block(&s.words)) {
                            problems.push(problem(
                                s.span,
                                format!(
                                    "{marker} keeps the tool from opening a transaction, but the {} statements still \
                                     reach PostgreSQL as one query string, which it runs as one implicit transaction: \
                                     this statement cannot run inside a transaction block and fails; give it a \
                                     migration of its own",
                                    stmts.len()
                                ),
                            ));
                        }
                    }
                    TxMode::Transaction
                }
            }
        };
        sections.push(Section { span: part.span, direction: part.direction, tx });
    }
    if sections.is_empty() {
        return FileLayout { problems, ..FileLayout::single(text.len(), Direction::Up, TxMode::Setting) };
    }
    problems.sort_by_key(|p| (p.span.start, p.span.end));
    FileLayout { sections, problems }
}

/// One line of a text: its byte range (`end` past the line break) and its text without the line
/// break (`\n` or `\r\n`).
struct Line<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

impl Line<'_> {
    fn span(&self) -> Span {
        Span::new(self.start, self.start + self.text.len())
    }
}

fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let rest = &text[start..];
        let (len, end) = match rest.find('\n') {
            Some(i) => (i, start + i + 1),
            None => (rest.len(), text.len()),
        };
        let line = &rest[..len];
        let line = Line { start, end, text: line.strip_suffix('\r').unwrap_or(line) };
        start = end;
        Some(line)
    })
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with("--")
}

/// A statement of a part of the file: its span and its leading words, upper-cased.
struct Stmt {
    span: Span,
    words: Vec<String>,
}

/// The statements of `range`, split the way PostgreSQL splits a query string.
fn statements(text: &str, range: Span) -> Vec<Stmt> {
    let src = text.get(range.start..range.end).unwrap_or("");
    let tokens = tokenize(src, Dialect::Postgres);
    split(src, &tokens, Dialect::Postgres)
        .into_iter()
        .filter(|p| p.kind == PieceKind::Sql)
        .map(|p| Stmt {
            span: p.span.shifted(range.start),
            words: tokens[p.tokens]
                .iter()
                .filter(|t| t.kind == crate::lexer::TokenKind::Word)
                .take(12)
                .map(|t| t.text(src).to_ascii_uppercase())
                .collect(),
        })
        .collect()
}

fn word(words: &[String], i: usize) -> &str {
    words.get(i).map_or("", String::as_str)
}

/// A statement Flyway runs outside a transaction on PostgreSQL (its own list).
fn flyway_non_transactional(w: &[String]) -> bool {
    let (w0, w1, w2, w3) = (word(w, 0), word(w, 1), word(w, 2), word(w, 3));
    let create_or_drop = matches!(w0, "CREATE" | "DROP");
    (create_or_drop && matches!(w1, "DATABASE" | "TABLESPACE" | "SUBSCRIPTION"))
        || (w0 == "ALTER" && w1 == "SYSTEM")
        || (create_or_drop && w1 == "INDEX" && w2 == "CONCURRENTLY")
        || (create_or_drop && w1 == "UNIQUE" && w2 == "INDEX" && w3 == "CONCURRENTLY")
        || (w0 == "REINDEX" && matches!(if w1 == "VERBOSE" { w2 } else { w1 }, "SCHEMA" | "DATABASE" | "SYSTEM"))
        || w0 == "VACUUM"
        || (w0 == "DISCARD" && w1 == "ALL")
}

/// A statement PostgreSQL refuses inside a transaction block (the common ones).
fn refuses_transaction_block(w: &[String]) -> bool {
    let has = |kw: &str| w.iter().any(|x| x == kw);
    let w0 = word(w, 0);
    flyway_non_transactional(w)
        || (w0 == "REINDEX" && has("CONCURRENTLY"))
        || (w0 == "ALTER" && word(w, 1) == "TABLE" && has("DETACH") && has("CONCURRENTLY"))
        || (w0 == "CLUSTER" && w.len() == 1)
}

fn flyway(text: &str, sidecar: Option<&str>, dialect: Dialect, problems: &mut Vec<LayoutProblem>) -> Exec {
    match sidecar.and_then(|conf| flyway_execute_in_transaction(conf, problems)) {
        Some(true) => return Exec::Wrapped,
        Some(false) => return Exec::PerStatement,
        None => {}
    }
    if dialect == Dialect::MySql {
        return Exec::Wrapped;
    }
    let stmts = statements(text, Span::new(0, text.len()));
    let Some(first) = stmts.iter().find(|s| flyway_non_transactional(&s.words)) else {
        return Exec::Wrapped;
    };
    if stmts.iter().any(|s| !flyway_non_transactional(&s.words)) {
        problems.push(problem(
            first.span,
            "Flyway runs this statement outside a transaction, and refuses a migration that mixes such statements \
             with others unless `mixed = true` (which runs the whole migration without a transaction): give it a \
             migration of its own",
        ));
    }
    Exec::PerStatement
}

/// `executeInTransaction` in a Flyway script configuration file (Java properties syntax).
fn flyway_execute_in_transaction(conf: &str, problems: &mut Vec<LayoutProblem>) -> Option<bool> {
    let mut value = None;
    for line in conf.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, v)) = line.split_once(['=', ':']) else { continue };
        if key.trim() != "executeInTransaction" {
            continue;
        }
        match v.trim().to_ascii_lowercase().as_str() {
            "true" => value = Some(true),
            "false" => value = Some(false),
            other => problems.push(problem(
                Span::empty(0),
                format!("`executeInTransaction={other}` in the script configuration file is neither true nor false"),
            )),
        }
    }
    value
}

fn sqlx(text: &str, problems: &mut Vec<LayoutProblem>) -> Exec {
    if text.starts_with("-- no-transaction") {
        return Exec::OneQuery(Some("sqlx's `-- no-transaction`"));
    }
    if let Some(line) = lines(text).find(|l| l.text.trim() == "-- no-transaction") {
        problems.push(problem(
            line.span(),
            "sqlx reads `-- no-transaction` only as the very first line of the file: here it is ignored and the \
             file runs in a transaction",
        ));
    }
    Exec::Wrapped
}

fn diesel(sidecar: Option<&str>, problems: &mut Vec<LayoutProblem>) -> Exec {
    let Some(toml_text) = sidecar else { return Exec::Wrapped };
    match toml_text.parse::<toml::Table>() {
        Ok(table) => match table.get("run_in_transaction") {
            None => Exec::Wrapped,
            Some(toml::Value::Boolean(true)) => Exec::Wrapped,
            Some(toml::Value::Boolean(false)) => Exec::OneQuery(Some("diesel's `run_in_transaction = false`")),
            Some(other) => {
                problems.push(problem(
                    Span::empty(0),
                    format!("`run_in_transaction = {other}` in metadata.toml is not a boolean: diesel refuses it"),
                ));
                Exec::Wrapped
            }
        },
        Err(e) => {
            problems.push(problem(Span::empty(0), format!("metadata.toml is not valid TOML: {}", e.message())));
            Exec::Wrapped
        }
    }
}

/// The command of a goose annotation (`-- +goose Up` gives `Up`) for a line starting with `--`.
pub(crate) fn goose_annotation(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("--")?.trim_start();
    if !rest.get(..6)?.eq_ignore_ascii_case("+goose") {
        return None;
    }
    let command = &rest[6..];
    (command.is_empty() || command.starts_with(char::is_whitespace)).then(|| command.trim())
}

fn goose(text: &str, problems: &mut Vec<LayoutProblem>) -> Vec<Part> {
    let mut up: Option<usize> = None;
    let mut down: Option<usize> = None;
    let mut no_transaction = false;
    let mut open_block: Option<Line<'_>> = None;
    let mut blocks: Vec<Span> = Vec::new();
    let mut sql_before_up: Option<Span> = None;
    for line in lines(text) {
        let trimmed = line.text.trim_start();
        let Some(command) = goose_annotation(trimmed) else {
            if up.is_none() && sql_before_up.is_none() && !is_comment_or_blank(trimmed) {
                sql_before_up = Some(line.span());
            }
            continue;
        };
        if trimmed.len() != line.text.len() {
            problems.push(problem(
                line.span(),
                "goose reads annotations only at the start of a line and refuses this indented one",
            ));
            continue;
        }
        match command.to_ascii_lowercase().as_str() {
            "up" if up.is_some() => {
                problems.push(problem(line.span(), "a second `-- +goose Up`: goose refuses the file"))
            }
            "up" => up = Some(line.start),
            "down" if up.is_none() => problems.push(problem(
                line.span(),
                "`-- +goose Down` before `-- +goose Up`: goose refuses the file (the down section must come second)",
            )),
            "down" if down.is_some() => {
                problems.push(problem(line.span(), "a second `-- +goose Down`: goose refuses the file"))
            }
            "down" => {
                if let Some(open) = open_block.take() {
                    problems.push(problem(
                        open.span(),
                        "`-- +goose StatementBegin` is not closed before `-- +goose Down`: goose refuses the file",
                    ));
                }
                down = Some(line.start);
            }
            "statementbegin" if up.is_none() => problems
                .push(problem(line.span(), "`-- +goose StatementBegin` before `-- +goose Up`: goose refuses the file")),
            "statementbegin" if open_block.is_some() => problems.push(problem(
                line.span(),
                "`-- +goose StatementBegin` inside an open StatementBegin block: goose refuses the file",
            )),
            "statementbegin" => open_block = Some(line),
            "statementend" => match open_block.take() {
                Some(open) => blocks.push(Span::new(open.start, line.end)),
                None => problems.push(problem(
                    line.span(),
                    "`-- +goose StatementEnd` without a `-- +goose StatementBegin`: goose refuses the file",
                )),
            },
            "no transaction" => no_transaction = true,
            "envsub on" | "envsub off" => {}
            _ => problems.push(problem(
                line.span(),
                format!(
                    "unknown goose annotation `{}`: goose refuses the file (it knows Up, Down, StatementBegin, \
                     StatementEnd, NO TRANSACTION, ENVSUB ON and ENVSUB OFF)",
                    trimmed.trim_end()
                ),
            )),
        }
    }
    if let Some(open) = open_block {
        problems.push(problem(
            open.span(),
            "`-- +goose StatementBegin` without `-- +goose StatementEnd`: goose refuses the file",
        ));
    }
    match (up, sql_before_up) {
        (None, _) => problems.push(problem(
            Span::empty(0),
            "no `-- +goose Up` annotation: goose refuses the file (it is linted as one up migration)",
        )),
        (Some(_), Some(span)) => problems.push(problem(
            span,
            "SQL before `-- +goose Up`: goose refuses the file (only comments may come before the annotation)",
        )),
        (Some(_), None) => {}
    }

    let exec = if no_transaction { Exec::PerStatement } else { Exec::Wrapped };
    let boundary = down.unwrap_or(text.len());
    let mut parts = Vec::new();
    for (start, end, direction) in [(0, boundary, Direction::Up), (boundary, text.len(), Direction::Down)] {
        if start >= end {
            continue;
        }
        let mut cursor = start;
        if no_transaction {
            // A StatementBegin ... StatementEnd block reaches the server as one query string.
            for block in blocks.iter().filter(|b| b.start >= start && b.end <= end) {
                if block.start > cursor {
                    parts.push(Part { span: Span::new(cursor, block.start), direction, exec });
                }
                let exec = Exec::OneQuery(Some("goose's `-- +goose NO TRANSACTION`"));
                parts.push(Part { span: *block, direction, exec });
                cursor = block.end;
            }
        }
        if cursor < end {
            parts.push(Part { span: Span::new(cursor, end), direction, exec });
        }
    }
    if parts.is_empty() {
        parts.push(Part { span: Span::new(0, text.len()), direction: Direction::Up, exec });
    }
    parts
}

/// A dbmate marker line (`-- migrate:up transaction:false`): its direction and options text.
pub(crate) fn dbmate_marker(line: &str) -> Option<(Direction, &str)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let (direction, after) = match rest.strip_prefix("migrate:up") {
        Some(after) => (Direction::Up, after),
        None => (Direction::Down, rest.strip_prefix("migrate:down")?),
    };
    (after.is_empty() || after.starts_with(char::is_whitespace)).then(|| (direction, after.trim()))
}

/// Whether dbmate runs a section in a transaction, from its marker's options.
fn dbmate_transaction(options: &str, marker: Span, problems: &mut Vec<LayoutProblem>) -> bool {
    let mut transaction = true;
    for option in options.split_whitespace() {
        let Some((key, value)) = option.split_once(':').filter(|(_, v)| !v.contains(':')) else { continue };
        if key != "transaction" {
            continue;
        }
        if value == "false" {
            transaction = false;
        } else if value.is_empty() {
            problems.push(problem(
                marker,
                "dbmate reads `transaction:false` only without spaces around the colon: this section runs in a \
                 transaction",
            ));
        } else if value.eq_ignore_ascii_case("false") {
            problems.push(problem(
                marker,
                format!("dbmate recognises only `transaction:false` in lower case, not `{option}`: this section runs in a transaction"),
            ));
        }
    }
    transaction
}

fn dbmate(text: &str, problems: &mut Vec<LayoutProblem>) -> Vec<Part> {
    let mut markers: Vec<(Line<'_>, Direction, &str)> = Vec::new();
    let mut sql_before_up: Option<Span> = None;
    for line in lines(text) {
        if let Some((direction, options)) = dbmate_marker(line.text) {
            markers.push((line, direction, options));
        } else if sql_before_up.is_none()
            && !markers.iter().any(|(_, d, _)| *d == Direction::Up)
            && !is_comment_or_blank(line.text)
        {
            sql_before_up = Some(line.span());
        }
    }
    if !markers.iter().any(|(_, d, _)| *d == Direction::Up) {
        problems.push(problem(
            Span::empty(0),
            "no `-- migrate:up` marker: dbmate refuses the file (it is linted as one up migration)",
        ));
        return vec![Part { span: Span::new(0, text.len()), direction: Direction::Up, exec: Exec::Wrapped }];
    }
    if let Some(span) = sql_before_up {
        problems.push(problem(
            span,
            "SQL before `-- migrate:up`: dbmate refuses the file (only comments may come before the marker)",
        ));
    }

    let mut parts: Vec<Part> = Vec::new();
    let mut seen_up = false;
    let mut last: Option<Direction> = None;
    for (i, (line, direction, options)) in markers.iter().enumerate() {
        match (direction, last) {
            (Direction::Down, None) => {
                problems.push(problem(line.span(), "`-- migrate:down` before `-- migrate:up`: dbmate refuses the file"))
            }
            (Direction::Down, Some(Direction::Down)) => problems.push(problem(
                line.span(),
                "a second `-- migrate:down` for one `-- migrate:up`: dbmate refuses the file",
            )),
            (Direction::Up, Some(Direction::Up)) => problems.push(problem(
                markers[i - 1].0.span(),
                "`-- migrate:up` without its `-- migrate:down`: dbmate refuses the file",
            )),
            _ => {}
        }
        last = Some(*direction);
        let transaction = dbmate_transaction(options, line.span(), problems);
        let start = if parts.is_empty() { 0 } else { line.start };
        let end = markers.get(i + 1).map_or(text.len(), |(next, _, _)| next.start);
        let exec = if transaction { Exec::Wrapped } else { Exec::OneQuery(Some("dbmate's `transaction:false`")) };
        seen_up |= *direction == Direction::Up;
        parts.push(Part { span: Span::new(start, end), direction: *direction, exec });
    }
    if seen_up && last == Some(Direction::Up) {
        if let Some((line, _, _)) = markers.last() {
            problems
                .push(problem(line.span(), "`-- migrate:up` without its `-- migrate:down`: dbmate refuses the file"));
        }
    }
    parts
}

/// The argument of an Atlas directive `atlas:<name> <arg>` in a comment line.
fn atlas_directive<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let comment = line.trim_start();
    if !(comment.starts_with("--") || comment.starts_with('#')) {
        return None;
    }
    let at = comment.find("atlas:")?;
    let after = &comment[at + "atlas:".len()..];
    let rest = after.strip_prefix(name)?;
    (rest.is_empty() || rest.starts_with(' ')).then(|| rest.trim())
}

fn atlas(text: &str, problems: &mut Vec<LayoutProblem>) -> Exec {
    // Atlas reads file directives from the comment lines at the very top of the file, and only
    // when an empty line follows them.
    let mut header_end = 0;
    let mut closed = false;
    for line in lines(text) {
        if line.text.starts_with("--") || line.text.starts_with('#') {
            header_end = line.end;
            continue;
        }
        closed = line.text.is_empty() && line.start == header_end && line.end > line.start;
        break;
    }
    let mut exec = Exec::Wrapped;
    for line in lines(text) {
        let Some(mode) = atlas_directive(line.text, "txmode") else { continue };
        if !(closed && line.end <= header_end) {
            problems.push(problem(
                line.span(),
                "Atlas reads `atlas:txmode` only in the file header (comment lines at the top of the file followed \
                 by an empty line): here it is ignored and the file runs in a transaction",
            ));
            continue;
        }
        match mode {
            "none" => exec = Exec::PerStatement,
            "file" | "all" => exec = Exec::Wrapped,
            other => problems.push(problem(
                line.span(),
                format!("unknown transaction mode `{other}`: Atlas accepts `none`, `file` or `all`"),
            )),
        }
    }
    exec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::classify;

    /// Lays out `text` as the file `path` of tool `fw` and checks that the sections tile the file.
    fn run_for(fw: Framework, path: &str, text: &str, sidecar: Option<&str>, dialect: Dialect) -> FileLayout {
        let entry = classify(fw, path).unwrap_or_else(|| panic!("{path} is not a {fw} migration"));
        let l = layout_for(fw, &entry, text, sidecar, dialect);
        assert!(!l.sections.is_empty());
        assert_eq!(l.sections[0].span.start, 0);
        assert_eq!(l.sections.last().map(|s| s.span.end), Some(text.len()));
        for w in l.sections.windows(2) {
            assert_eq!(w[0].span.end, w[1].span.start, "{:?}", l.sections);
        }
        l
    }

    fn run(fw: Framework, path: &str, text: &str, sidecar: Option<&str>) -> FileLayout {
        run_for(fw, path, text, sidecar, Dialect::Postgres)
    }

    /// Each section as (its text, direction, transaction mode).
    fn sections<'a>(l: &FileLayout, text: &'a str) -> Vec<(&'a str, Direction, TxMode)> {
        l.sections.iter().map(|s| (s.span.slice(text), s.direction, s.tx)).collect()
    }

    fn txs(l: &FileLayout) -> Vec<(Direction, TxMode)> {
        l.sections.iter().map(|s| (s.direction, s.tx)).collect()
    }

    /// Each problem as (the text it points at, a word of its message).
    fn problems<'a>(l: &FileLayout, text: &'a str) -> Vec<(&'a str, String)> {
        l.problems.iter().map(|p| (p.span.slice(text), p.message.clone())).collect()
    }

    fn assert_problem(l: &FileLayout, text: &str, at: &str, says: &str) {
        assert!(
            problems(l, text).iter().any(|(t, m)| *t == at && m.contains(says)),
            "no problem at {at:?} saying {says:?}: {:?}",
            problems(l, text)
        );
    }

    use Direction::{Down, Up};
    use TxMode::{NoTransaction, Setting, Transaction};

    const CIC: &str = "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n";
    const TWO_CIC: &str = "CREATE INDEX CONCURRENTLY a_idx ON t (a);\nCREATE INDEX CONCURRENTLY b_idx ON t (b);\n";

    #[test]
    fn plain_leaves_the_transaction_to_the_setting() {
        let l = run(Framework::Plain, "db/001.sql", "CREATE TABLE t ();", None);
        assert_eq!(txs(&l), [(Up, Setting)]);
        assert!(l.problems.is_empty());
        let empty = run(Framework::Plain, "db/001.sql", "", None);
        assert_eq!(empty.sections.len(), 1);
    }

    #[test]
    fn one_query_string_is_a_transaction_only_with_several_statements() {
        for (fw, path) in
            [(Framework::GolangMigrate, "000001_a.up.sql"), (Framework::Prisma, "m/20240101000000_a/migration.sql")]
        {
            assert_eq!(txs(&run(fw, path, CIC, None)), [(Up, NoTransaction)], "{fw}");
            let commented = format!("-- add the index\n{CIC}-- done\n");
            assert_eq!(txs(&run(fw, path, &commented, None)), [(Up, NoTransaction)], "{fw}");
            let l = run(fw, path, &format!("ALTER TABLE t ADD COLUMN c int;\n{CIC}"), None);
            assert_eq!(txs(&l), [(Up, Transaction)], "{fw}");
            // The tool never offered a way out: no marker problem, the rules explain the failure.
            assert!(l.problems.is_empty());
            let mysql = run_for(fw, path, "ALTER TABLE t ADD c int;\nALTER TABLE t ADD d int;", None, Dialect::MySql);
            assert_eq!(txs(&mysql), [(Up, NoTransaction)], "{fw}");
        }
        let down = run(Framework::GolangMigrate, "000001_a.down.sql", "DROP TABLE a;", None);
        assert_eq!(txs(&down), [(Down, NoTransaction)]);
    }

    #[test]
    fn sqlx_no_transaction_marker() {
        let fw = Framework::Sqlx;
        assert_eq!(txs(&run(fw, "1_a.sql", CIC, None)), [(Up, Transaction)]);
        let marked = format!("-- no-transaction\n{CIC}");
        assert_eq!(txs(&run(fw, "1_a.sql", &marked, None)), [(Up, NoTransaction)]);
        assert_eq!(txs(&run(fw, "1_a.down.sql", &marked, None)), [(Down, NoTransaction)]);

        let two = format!("-- no-transaction\n{TWO_CIC}");
        let l = run(fw, "1_a.up.sql", &two, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert_problem(&l, &two, "CREATE INDEX CONCURRENTLY a_idx ON t (a)", "one implicit transaction");

        let late = format!("-- Add the email index.\n-- no-transaction\n{CIC}");
        let l = run(fw, "1_a.sql", &late, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert_problem(&l, &late, "-- no-transaction", "very first line");
    }

    const GOOSE: &str = "\
-- Orders placed by customers.
-- +goose Up
CREATE TABLE orders (id bigint PRIMARY KEY, note text);
-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.note := 'x';
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION touch();
DROP TABLE orders;
";

    #[test]
    fn goose_sections() {
        let l = run(Framework::Goose, "00001_orders.sql", GOOSE, None);
        let got = sections(&l, GOOSE);
        assert_eq!(got.len(), 2);
        assert!(got[0].0.starts_with("-- Orders placed") && got[0].0.ends_with("StatementEnd\n\n"));
        assert!(got[1].0.starts_with("-- +goose Down\nDROP FUNCTION"));
        assert_eq!(txs(&l), [(Up, Transaction), (Down, Transaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);

        // Annotations are case-insensitive.
        let lower = GOOSE.replace("+goose Up", "+goose up").replace("+goose Down", "+GOOSE DOWN");
        assert_eq!(
            txs(&run(Framework::Goose, "00001_orders.sql", &lower, None)),
            [(Up, Transaction), (Down, Transaction)]
        );
    }

    #[test]
    fn goose_no_transaction_applies_to_both_sections() {
        let text = format!(
            "-- +goose NO TRANSACTION\n-- +goose Up\n{CIC}\n-- +goose Down\nDROP INDEX CONCURRENTLY users_email_idx;\n"
        );
        let l = run(Framework::Goose, "00002_idx.sql", &text, None);
        assert_eq!(txs(&l), [(Up, NoTransaction), (Down, NoTransaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        // The annotation may come after `Up` too.
        let after =
            text.replace("-- +goose NO TRANSACTION\n-- +goose Up\n", "-- +goose Up\n-- +goose NO TRANSACTION\n");
        assert_eq!(
            txs(&run(Framework::Goose, "00002_idx.sql", &after, None)),
            [(Up, NoTransaction), (Down, NoTransaction)]
        );
    }

    #[test]
    fn goose_statement_block_without_transaction_is_one_query_string() {
        let text = format!(
            "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n{TWO_CIC}-- +goose StatementEnd\n{CIC}"
        );
        let l = run(Framework::Goose, "00003_idx.sql", &text, None);
        let got = sections(&l, &text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].2, NoTransaction);
        assert!(got[1].0.starts_with("-- +goose StatementBegin") && got[1].0.ends_with("StatementEnd\n"));
        assert_eq!(got[1].2, Transaction);
        assert_eq!((got[2].0, got[2].2), (CIC, NoTransaction));
        assert_problem(&l, &text, "CREATE INDEX CONCURRENTLY a_idx ON t (a)", "one implicit transaction");
    }

    #[test]
    fn goose_marker_problems() {
        let fw = Framework::Goose;
        let path = "00004_x.sql";
        let missing = "CREATE TABLE t ();\n";
        let l = run(fw, path, missing, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert!(l.problems.iter().any(|p| p.message.contains("no `-- +goose Up`")));

        let down_first = "-- +goose Down\nDROP TABLE t;\n-- +goose Up\nCREATE TABLE t ();\n";
        assert_problem(&run(fw, path, down_first, None), down_first, "-- +goose Down", "before `-- +goose Up`");

        let unknown = "-- +goose Up\n-- +goose NOTRANSACTION\nSELECT 1;\n";
        assert_problem(&run(fw, path, unknown, None), unknown, "-- +goose NOTRANSACTION", "unknown goose annotation");

        let open = "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n";
        assert_problem(
            &run(fw, path, open, None),
            open,
            "-- +goose StatementBegin",
            "without `-- +goose StatementEnd`",
        );

        let stray_end = "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n";
        assert_problem(&run(fw, path, stray_end, None), stray_end, "-- +goose StatementEnd", "without a");

        let twice = "-- +goose Up\nSELECT 1;\n-- +goose Up\n";
        assert_problem(&run(fw, path, twice, None), twice, "-- +goose Up", "a second");

        let indented = "-- +goose Up\nSELECT 1;\n  -- +goose Down\nSELECT 2;\n";
        let l = run(fw, path, indented, None);
        assert_problem(&l, indented, "  -- +goose Down", "indented");
        // goose does not take the indented line as the down annotation.
        assert_eq!(txs(&l), [(Up, Transaction)]);

        let sql_first = "SET lock_timeout = '1s';\n-- +goose Up\nSELECT 1;\n";
        assert_problem(&run(fw, path, sql_first, None), sql_first, "SET lock_timeout = '1s';", "SQL before");
    }

    #[test]
    fn goose_reads_lines_not_sql() {
        // goose scans lines: a marker alone on a line inside a string literal splits the file for
        // goose too. Mirroring the tool is what tells the user the truth about how it runs.
        let text = "-- +goose Up\nINSERT INTO notes VALUES ('\n-- +goose Down\n');\n";
        let l = run(Framework::Goose, "00005_x.sql", text, None);
        assert_eq!(txs(&l), [(Up, Transaction), (Down, Transaction)]);
        // `-- +goose` inside a line is not an annotation.
        let inline = "-- +goose Up\nSELECT '-- +goose Down';\n";
        assert_eq!(txs(&run(Framework::Goose, "00005_x.sql", inline, None)), [(Up, Transaction)]);
    }

    const DBMATE: &str = "\
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);

-- migrate:down
DROP INDEX orders_customer_idx;
";

    #[test]
    fn dbmate_sections_and_options() {
        let l = run(Framework::Dbmate, "20240101000000_idx.sql", DBMATE, None);
        let got = sections(&l, DBMATE);
        assert_eq!(got.len(), 2);
        assert!(got[0].0.starts_with("-- migrate:up transaction:false\nCREATE INDEX"));
        assert!(got[1].0.starts_with("-- migrate:down\nDROP INDEX"));
        assert_eq!(txs(&l), [(Up, NoTransaction), (Down, Transaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);

        let both = "-- migrate:up\nCREATE TABLE t ();\n-- migrate:down transaction:false\nDROP TABLE t;\n";
        assert_eq!(txs(&run(Framework::Dbmate, "1_t.sql", both, None)), [(Up, Transaction), (Down, NoTransaction)]);

        // Several up/down pairs in one file.
        let pairs = "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n-- migrate:up transaction:false\nVACUUM t;\n-- migrate:down\nSELECT 3;\n";
        let l = run(Framework::Dbmate, "1_t.sql", pairs, None);
        assert_eq!(txs(&l), [(Up, Transaction), (Down, Transaction), (Up, NoTransaction), (Down, Transaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
    }

    #[test]
    fn dbmate_multi_statement_without_transaction_is_still_one_transaction() {
        let text = format!("-- migrate:up transaction:false\n{TWO_CIC}\n-- migrate:down\nSELECT 1;\n");
        let l = run(Framework::Dbmate, "1_t.sql", &text, None);
        assert_eq!(txs(&l), [(Up, Transaction), (Down, Transaction)]);
        assert_problem(&l, &text, "CREATE INDEX CONCURRENTLY a_idx ON t (a)", "dbmate's `transaction:false`");
    }

    #[test]
    fn dbmate_marker_problems() {
        let fw = Framework::Dbmate;
        let spaced = "-- migrate:up transaction: false\nVACUUM t;\n-- migrate:down\n";
        let l = run(fw, "1_t.sql", spaced, None);
        assert_eq!(l.sections[0].tx, Transaction);
        assert_problem(&l, spaced, "-- migrate:up transaction: false", "without spaces");

        let upper = "-- migrate:up transaction:FALSE\nVACUUM t;\n-- migrate:down\n";
        assert_problem(&run(fw, "1_t.sql", upper, None), upper, "-- migrate:up transaction:FALSE", "lower case");

        let no_down = "-- migrate:up\nCREATE TABLE t ();\n";
        assert_problem(&run(fw, "1_t.sql", no_down, None), no_down, "-- migrate:up", "without its `-- migrate:down`");

        let down_first = "-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t ();\n";
        let l = run(fw, "1_t.sql", down_first, None);
        assert_problem(&l, down_first, "-- migrate:down", "before `-- migrate:up`");

        let sql_first = "CREATE TYPE s AS ENUM ('a');\n-- migrate:up\nSELECT 1;\n-- migrate:down\n";
        assert_problem(&run(fw, "1_t.sql", sql_first, None), sql_first, "CREATE TYPE s AS ENUM ('a');", "SQL before");

        let none = "CREATE TABLE t ();\n";
        let l = run(fw, "1_t.sql", none, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert!(l.problems.iter().any(|p| p.message.contains("no `-- migrate:up`")));

        // Not markers: indented, or glued to other words.
        let fake = "-- migrate:up\nSELECT 1;\n  -- migrate:down\n-- migrate:downgrade\n-- migrate:down\n";
        assert_eq!(txs(&run(fw, "1_t.sql", fake, None)), [(Up, Transaction), (Down, Transaction)]);
    }

    #[test]
    fn diesel_metadata() {
        let fw = Framework::Diesel;
        let up = "2024-01-01-000000_idx/up.sql";
        assert_eq!(txs(&run(fw, up, CIC, None)), [(Up, Transaction)]);
        assert_eq!(txs(&run(fw, up, CIC, Some("run_in_transaction = true\n"))), [(Up, Transaction)]);
        let off = Some("run_in_transaction = false\n");
        assert_eq!(txs(&run(fw, up, CIC, off)), [(Up, NoTransaction)]);
        assert_eq!(
            txs(&run(fw, "2024-01-01-000000_idx/down.sql", "DROP INDEX CONCURRENTLY i;", off)),
            [(Down, NoTransaction)]
        );
        let l = run(fw, up, TWO_CIC, off);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert_problem(&l, TWO_CIC, "CREATE INDEX CONCURRENTLY a_idx ON t (a)", "run_in_transaction = false");

        let bad = run(fw, up, CIC, Some("run_in_transaction = \"no\"\n"));
        assert_eq!(txs(&bad), [(Up, Transaction)]);
        assert!(bad.problems[0].message.contains("not a boolean"), "{:?}", bad.problems);
        let broken = run(fw, up, CIC, Some("run_in_transaction = \n"));
        assert!(broken.problems[0].message.contains("not valid TOML"), "{:?}", broken.problems);
    }

    #[test]
    fn flyway_detects_non_transactional_statements() {
        let fw = Framework::Flyway;
        assert_eq!(txs(&run(fw, "V1__t.sql", "CREATE TABLE t (id int);\n", None)), [(Up, Transaction)]);
        let l = run(fw, "V2__idx.sql", CIC, None);
        assert_eq!(txs(&l), [(Up, NoTransaction)]);
        assert!(l.problems.is_empty());
        for alone in [
            "VACUUM ANALYZE t;",
            "DROP INDEX CONCURRENTLY i;",
            "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);",
            "REINDEX SCHEMA public;",
        ] {
            assert_eq!(txs(&run(fw, "V2__x.sql", alone, None)), [(Up, NoTransaction)], "{alone}");
        }
        // Flyway does not know REINDEX ... CONCURRENTLY: it runs it in a transaction, where it fails.
        assert_eq!(txs(&run(fw, "V2__x.sql", "REINDEX INDEX CONCURRENTLY i;", None)), [(Up, Transaction)]);

        let mixed = format!("ALTER TABLE users ADD COLUMN email text;\n{CIC}");
        let l = run(fw, "V3__mixed.sql", &mixed, None);
        assert_eq!(txs(&l), [(Up, NoTransaction)]);
        assert_problem(&l, &mixed, "CREATE INDEX CONCURRENTLY users_email_idx ON users (email)", "mixed = true");

        let undo = run(fw, "U3__mixed.sql", "DROP TABLE t;", None);
        assert_eq!(txs(&undo), [(Down, Transaction)]);
        let repeatable = run(fw, "R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;", None);
        assert_eq!(txs(&repeatable), [(Up, Transaction)]);
    }

    #[test]
    fn flyway_script_configuration() {
        let fw = Framework::Flyway;
        let off = "# runs outside a transaction\nexecuteInTransaction=false\n";
        assert_eq!(txs(&run(fw, "V1__t.sql", "UPDATE t SET a = 1;", Some(off))), [(Up, NoTransaction)]);
        assert_eq!(txs(&run(fw, "V1__t.sql", CIC, Some("executeInTransaction = true"))), [(Up, Transaction)]);
        assert_eq!(txs(&run(fw, "V1__t.sql", CIC, Some("encoding=UTF-8\n"))), [(Up, NoTransaction)]);
        let bad = run(fw, "V1__t.sql", "SELECT 1;", Some("executeInTransaction=nope"));
        assert_eq!(txs(&bad), [(Up, Transaction)]);
        assert!(bad.problems[0].message.contains("neither true nor false"));
        let mysql = run_for(fw, "V1__t.sql", "CREATE DATABASE app;", None, Dialect::MySql);
        assert_eq!(txs(&mysql), [(Up, Transaction)]);
    }

    #[test]
    fn atlas_txmode_directive() {
        let fw = Framework::Atlas;
        let path = "20240101000000_idx.sql";
        let none = format!("-- atlas:txmode none\n\n{CIC}");
        let l = run(fw, path, &none, None);
        assert_eq!(txs(&l), [(Up, NoTransaction)]);
        assert!(l.problems.is_empty());
        let with_comment =
            format!("-- Add the email index without blocking writes.\n-- atlas:txmode none\n\n{TWO_CIC}");
        assert_eq!(txs(&run(fw, path, &with_comment, None)), [(Up, NoTransaction)]);
        assert_eq!(txs(&run(fw, path, &none.replace("none", "file"), None)), [(Up, Transaction)]);
        assert_eq!(txs(&run(fw, path, CIC, None)), [(Up, Transaction)]);

        let glued = format!("-- atlas:txmode none\n{CIC}");
        let l = run(fw, path, &glued, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert_problem(&l, &glued, "-- atlas:txmode none", "file header");

        let late = format!("{CIC}-- atlas:txmode none\n");
        assert_problem(&run(fw, path, &late, None), &late, "-- atlas:txmode none", "file header");

        let unknown = format!("-- atlas:txmode never\n\n{CIC}");
        let l = run(fw, path, &unknown, None);
        assert_eq!(txs(&l), [(Up, Transaction)]);
        assert_problem(&l, &unknown, "-- atlas:txmode never", "unknown transaction mode");

        let crlf = format!("-- atlas:txmode none\r\n\r\n{}", CIC.replace('\n', "\r\n"));
        assert_eq!(txs(&run(fw, path, &crlf, None)), [(Up, NoTransaction)]);
    }

    #[test]
    fn sidecar_paths() {
        let entry = |fw, p| classify(fw, p).unwrap_or_else(|| panic!("{p}"));
        assert_eq!(
            sidecar_path(Framework::Flyway, &entry(Framework::Flyway, "db/V1__a.sql")).as_deref(),
            Some("db/V1__a.sql.conf")
        );
        assert_eq!(
            sidecar_path(Framework::Diesel, &entry(Framework::Diesel, "migrations/2024-01-01-000000_a/down.sql"))
                .as_deref(),
            Some("migrations/2024-01-01-000000_a/metadata.toml")
        );
        assert_eq!(sidecar_path(Framework::Goose, &entry(Framework::Goose, "1_a.sql")), None);
        assert_eq!(sidecar_path(Framework::Plain, &entry(Framework::Plain, "1_a.sql")), None);
    }

    #[test]
    fn crlf_files_read_like_lf_files() {
        let goose = GOOSE.replace('\n', "\r\n");
        let l = run(Framework::Goose, "00001_orders.sql", &goose, None);
        assert_eq!(txs(&l), [(Up, Transaction), (Down, Transaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert!(sections(&l, &goose)[1].0.starts_with("-- +goose Down\r\nDROP FUNCTION"));

        let dbmate = DBMATE.replace('\n', "\r\n");
        let l = run(Framework::Dbmate, "1_idx.sql", &dbmate, None);
        assert_eq!(txs(&l), [(Up, NoTransaction), (Down, Transaction)]);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
    }

    #[test]
    fn section_at_finds_the_marker_section() {
        let l = run(Framework::Goose, "00001_orders.sql", GOOSE, None);
        let down_at = GOOSE.find("DROP TABLE").unwrap_or(0);
        assert_eq!(l.section_at(down_at).map(|s| s.direction), Some(Down));
        assert_eq!(l.section_at(0).map(|s| s.direction), Some(Up));
    }
}
