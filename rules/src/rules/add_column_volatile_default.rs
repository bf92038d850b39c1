use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, GeneratedKind, Volatility};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD COLUMN` on a table that existed before this migration when the
    /// new column must be computed for every existing row: a volatile default (`random()`,
    /// `gen_random_uuid()`, `clock_timestamp()`, `nextval(...)`, an unknown function), a
    /// `GENERATED ... STORED` expression, or an identity or `serial` column. Before PostgreSQL 11
    /// any default other than `NULL` is flagged, constants included.
    ///
    /// ## Why it is bad
    /// Since PostgreSQL 11 a constant or stable default is stored once in the catalog and the
    /// column is added instantly. A value that differs per row cannot be stored that way: the
    /// whole table is rewritten, with all its indexes, under an ACCESS EXCLUSIVE lock that stops
    /// every read and write until it finishes. Before PostgreSQL 11 every non-NULL default
    /// rewrites the table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
    /// ```
    ///
    /// ## Use instead
    /// Add the column without the default, set the default for new rows, then backfill the old
    /// rows in batches:
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid;
    /// ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    /// -- backfill in batches, e.g. 10 000 rows per transaction:
    /// UPDATE orders SET public_id = gen_random_uuid()
    ///  WHERE id IN (SELECT id FROM orders WHERE public_id IS NULL LIMIT 10000);
    /// ```
    /// then add the NOT NULL constraint without a scan (see `set-not-null-scans-table`).
    pub struct AddColumnVolatileDefault {
        name: "add-column-volatile-default",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
        scope: Statement,
    }
}

impl Rule for AddColumnVolatileDefault {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.pg_version;
        let pg11 = version.at_least(11);
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AddColumn { column: c, .. } = &a.kind else { continue };
            let table = name.display();
            let col = &c.name.name;
            let tail = "rewrites the whole table under an ACCESS EXCLUSIVE lock, blocking reads and writes, and \
                        generates WAL proportional to the table size";
            let (span, message, help) = if let Some((GeneratedKind::Stored, e)) = &c.generated {
                (
                    e.span,
                    format!("adding `{col}` to `{table}` as `GENERATED ALWAYS AS ({}) STORED` computes it for every existing row: it {tail}", e.text),
                    "add a plain nullable column, backfill it in batches (`sluice backfill`) and keep it up to date with a trigger (or compute it in the application)".to_string(),
                )
            } else if c.identity {
                let kind = if c.type_name.name.contains("serial") {
                    format!("`{}` column", c.type_name.name)
                } else {
                    "identity column".to_string()
                };
                (
                    c.type_name.span,
                    format!("adding the {kind} `{col}` to `{table}` fills it from a sequence for every existing row: it {tail}"),
                    "add a nullable bigint column, attach a sequence default for new rows, backfill old rows in batches (`sluice backfill`), then constrain it".to_string(),
                )
            } else if let Some(e) = c.default.as_ref().filter(|e| e.volatility == Volatility::Volatile) {
                (
                    e.span,
                    format!("the default `{}` of new column `{table}.{col}` differs per row: adding the column {tail}", e.text),
                    "add the column without a default, `SET DEFAULT` for new rows, then backfill existing rows in batches (`sluice backfill`)".to_string(),
                )
            } else if let Some(e) = c.default.as_ref().filter(|e| !pg11 && !e.is_null) {
                (
                    e.span,
                    format!("before PostgreSQL 11 (target: {version}), the default `{}` of new column `{table}.{col}` is written into every row: adding the column {tail}", e.text),
                    "add the column without a default, `SET DEFAULT` in a second statement (it only affects new rows), then backfill existing rows in batches (`sluice backfill`)".to_string(),
                )
            } else {
                continue;
            };
            let span = if span.is_empty() { c.name.span } else { span };
            let d = out.report(o.stmt, span, message);
            d.help = Some(help);
        }
    }
}
