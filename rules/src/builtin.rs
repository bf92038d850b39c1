//! Diagnostics produced by the linter itself rather than by a rule. They are documented like
//! rules (so `sluice explain syntax-error` works) but cannot be configured away, except
//! `psql-meta-command`, `unknown-rule` and `unused-suppression`, which are ordinary severities.

use crate::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a PostgreSQL statement the parser rejects. The parser is the server's own grammar,
    /// so the server would reject the statement too.
    ///
    /// ## Why it is bad
    /// A migration that does not parse fails at deploy time, often after earlier statements have
    /// already run. Every other statement of the file is still linted; this one is not.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    /// Syntax errors cannot be suppressed with `sluice:ignore`.
    pub struct SyntaxError {
        name: "syntax-error",
        dialects: [Postgres],
        category: Correctness,
        severity: Error,
        fix: None,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a file that is not valid UTF-8 and says where the first invalid byte is.
    ///
    /// ## Why it is bad
    /// Migration tools read files as UTF-8 (or as whatever the client encoding says); a file in
    /// another encoding can insert mangled text into the database or fail halfway.
    ///
    /// ## Example
    /// A file saved as Latin-1 containing `INSERT INTO cities VALUES ('Zürich');`.
    ///
    /// ## Use instead
    /// Convert the file: `iconv -f LATIN1 -t UTF-8 in.sql > out.sql`.
    pub struct InvalidUtf8 {
        name: "invalid-utf8",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Error,
        fix: None,
    }
}

declare_rule! {
    /// ## What it does
    /// Notes a psql meta-command (a line starting with a backslash, such as `\set` or `\i`),
    /// which is skipped: it is not SQL and only `psql` understands it.
    ///
    /// ## Why it is bad
    /// Most migration tools send files to the server directly, where a meta-command is a syntax
    /// error. In files meant for `psql` it is fine, which is why this is only a note.
    ///
    /// ## Example
    /// ```sql
    /// \set ON_ERROR_STOP on
    /// ```
    ///
    /// ## Use instead
    /// Keep meta-commands out of files run by a migration tool; use the tool's own settings.
    pub struct PsqlMetaCommand {
        name: "psql-meta-command",
        dialects: [Postgres],
        category: Correctness,
        severity: Info,
        fix: None,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a `sluice:ignore` or `sluice:ignore-file` comment that names a rule that does not
    /// exist, or that names no rule at all.
    ///
    /// ## Why it is bad
    /// A misspelt suppression silences nothing, and the finding it was meant for is either still
    /// reported or, worse, was renamed and the suppression is now meaningless.
    ///
    /// ## Example
    /// ```sql
    /// -- sluice:ignore drop-colum
    /// ALTER TABLE users DROP COLUMN legacy;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// -- sluice:ignore drop-column: the column has been unused since v42
    /// ALTER TABLE users DROP COLUMN legacy;
    /// ```
    pub struct UnknownRule {
        name: "unknown-rule",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Warning,
        fix: None,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a suppression comment that silenced nothing: the rule it names did not fire on the
    /// statement (or file) it covers.
    ///
    /// ## Why it is bad
    /// Stale suppressions hide future findings: when the statement later changes into something
    /// dangerous, the old comment silences the warning nobody has seen.
    ///
    /// ## Example
    /// ```sql
    /// -- sluice:ignore drop-column
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    ///
    /// ## Use instead
    /// Delete the comment.
    pub struct UnusedSuppression {
        name: "unused-suppression",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Warning,
        fix: Safe,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a MySQL/MariaDB statement that the SQL parser Sluice uses for MySQL could not
    /// parse. That does not prove the server would reject it: the parser does not know every
    /// MySQL and MariaDB extension (partition clauses, some table options, stored-program bodies).
    /// When the statement's operations could still be recovered clause by clause and from its
    /// tokens (for example the `DROP COLUMN` in an `ALTER TABLE` with an unsupported table option),
    /// rules check them and this is only a note; when nothing could be recovered it is a warning,
    /// because no rule checked the statement. Statements read whole from their tokens are not
    /// reported: `PREPARE`, `EXECUTE` and `DEALLOCATE` (the statement a `SET @s = '...'` or a
    /// `PREPARE ... FROM '...'` holds is checked where it is written), `OPTIMIZE TABLE`,
    /// `SET @v := ...`, and an `ALTER TABLE` every clause of which was recognised (such as
    /// `CONVERT TO CHARACTER SET` or `ROW_FORMAT=`).
    ///
    /// ## Why it is bad
    /// A statement nothing checked is a blind spot: if it is dangerous, nobody is told. And if
    /// it really is invalid, the migration fails halfway, leaving the earlier statements applied
    /// (MySQL DDL commits implicitly).
    ///
    /// ## Example
    /// ```sql
    /// CREATE EVENT purge_sessions ON SCHEDULE EVERY 1 HOUR DO DELETE FROM sessions WHERE expired;
    /// ```
    ///
    /// ## Use instead
    /// Check the statement by hand (or with `sluice trace` against a scratch server). Silence a
    /// reviewed statement with `-- sluice:ignore unparsed-statement: reviewed`.
    pub struct UnparsedStatement {
        name: "unparsed-statement",
        dialects: [MySql],
        category: Correctness,
        severity: Warning,
        fix: None,
    }
}

declare_rule! {
    /// ## What it does
    /// Reports a migration directory whose files no longer match its `sluice.sum` (written by
    /// `sluice hash`): a migration that was already summed was edited, removed or reordered, a new
    /// migration sorts before already summed ones, or the sum itself was edited by hand.
    ///
    /// ## Why it is bad
    /// A summed migration is one that has been reviewed and, usually, applied somewhere. Editing
    /// it changes nothing on the databases that already ran it, so environments drift apart
    /// silently; a new migration that sorts before applied ones (two branches merged) is skipped
    /// or applied out of order by most tools.
    ///
    /// ## Example
    /// `V2__orders.sql` is changed after `sluice hash` recorded it, or `V3__a.sql` is added on a
    /// branch while `V4__b.sql` was already summed on the main line.
    ///
    /// ## Use instead
    /// Leave applied migrations as they are and add a new migration for the change; give a new
    /// migration a version after the last summed one. Run `sluice hash` after adding migrations and
    /// commit `sluice.sum` with them.
    pub struct MigrationIntegrity {
        name: "migration-integrity",
        dialects: [Postgres, MySql],
        category: Correctness,
        severity: Error,
        fix: None,
    }
}
