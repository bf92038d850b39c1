use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, Expr, Op, TypeName};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ALTER COLUMN ... TYPE` on a table that existed before this
    /// migration, unless the change is known to be binary coercible.
    ///
    /// ## Why it is bad
    /// Changing a column's type normally rewrites every row of the table and rebuilds all of its
    /// indexes, all under an ACCESS EXCLUSIVE lock: nothing can read or write the table until the
    /// rewrite is done. Only binary-coercible changes skip the rewrite: `varchar(n)` to a larger
    /// `n` or to unbounded `varchar`, `varchar` to `text`, `numeric(p,s)` to a larger `p` with the
    /// same `s` or to unconstrained `numeric`, a larger precision for `time`, `timestamp`,
    /// `timestamptz` and `interval`, and `cidr` to `inet`. (`timestamp` to `timestamptz` skips
    /// the table rewrite on PostgreSQL 12+ only when the session time zone is UTC, and its
    /// indexes are still rebuilt.)
    ///
    /// The old type comes from the migration history: every earlier migration of the directory
    /// (in the order its tool applies them) and earlier statements of the file are replayed, so
    /// `varchar(20)` to `varchar(50)` stays silent and `integer` to `bigint` is reported with
    /// certainty. `timestamp` to `timestamptz` is reported unless `SET timezone = 'UTC'` ran
    /// earlier in the file (PostgreSQL 12+). When no migration declares the column, the rule stays
    /// silent for a new type of `text` or unbounded `varchar` (the common safe case) and reports
    /// anything else. A `USING` expression other than the plain column forces a rewrite.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 4);
    /// ```
    ///
    /// ## Use instead
    /// Add a new column with the new type, backfill it in batches (`sluice backfill`), switch the
    /// application over, then drop the old column:
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN total_v2 numeric(12, 4);
    /// -- backfill in batches, keep both in sync (trigger or application), switch reads, then:
    /// ALTER TABLE orders DROP COLUMN total;
    /// ```
    pub struct AlterColumnTypeRewritesTable {
        name: "alter-column-type-rewrites-table",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

/// Types whose typmod is a precision that can grow without a rewrite.
const PRECISION_TYPES: &[&str] = &["time", "timetz", "timestamp", "timestamptz", "interval", "varbit"];

/// True when changing `old` to `new` is binary coercible (no table rewrite).
fn coercible(old: &TypeName, new: &TypeName) -> bool {
    if old.array != new.array {
        return false;
    }
    let (o, n) = (old.name.as_str(), new.name.as_str());
    let grows = || match (old.modifiers.first(), new.modifiers.first()) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    };
    match (o, n) {
        ("varchar", "varchar") => grows(),
        ("varchar" | "text", "text") => true,
        ("text", "varchar") => new.modifiers.is_empty(),
        ("numeric", "numeric") => match (old.modifiers.as_slice(), new.modifiers.as_slice()) {
            (_, []) => true,
            ([p1], [p2]) | ([p1, 0], [p2]) | ([p1], [p2, 0]) => p2 >= p1,
            ([p1, s1], [p2, s2]) => s1 == s2 && p2 >= p1,
            _ => false,
        },
        ("cidr", "inet") => true,
        _ if o == n && PRECISION_TYPES.contains(&o) => grows(),
        _ => o == n && old.modifiers == new.modifiers,
    }
}

/// True when `USING` is absent or only names the column (possibly with a cast).
fn trivial_using(using: Option<&Expr>, column: &str) -> bool {
    let Some(u) = using else { return true };
    let t: String = u.text.chars().filter(|c| !c.is_whitespace() && *c != '"' && *c != '(' && *c != ')').collect();
    let base = t.split("::").next().unwrap_or("");
    base.eq_ignore_ascii_case(column)
}

/// A `SET timezone = 'UTC'` (or `SET TIME ZONE 'UTC'`) ran earlier in the file.
fn session_time_zone_utc(cx: &RuleContext<'_>, before: usize) -> bool {
    let mut utc = false;
    for o in cx.ops_before(before) {
        if let Op::Set { name, value, .. } = o.op {
            let n = name.to_ascii_lowercase().replace(' ', "");
            if n == "timezone" {
                let v = value.trim().trim_matches('\'').to_ascii_lowercase();
                utc = matches!(v.as_str(), "utc" | "etc/utc" | "gmt" | "z" | "zulu" | "+00" | "0");
            }
        }
    }
    utc
}

fn type_text(t: &TypeName) -> &str {
    if t.text.is_empty() {
        t.name.as_str()
    } else {
        t.text.as_str()
    }
}

impl Rule for AlterColumnTypeRewritesTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AlterColumnType { column, new_type, using, .. } = &a.kind else { continue };
            let plain = trivial_using(using.as_ref(), &column.name);
            let old = cx.fcx.catalog_before(o.index).column(name, &column.name).map(|c| c.type_name.clone());
            let ty = type_text(new_type);
            let target = format!("{}.{}", name.display(), column.name);
            let span = if new_type.span.is_empty() { a.span } else { new_type.span };
            let (message, help) = match (&old, plain) {
                (Some(old), true) if coercible(old, new_type) => continue,
                (Some(old), true)
                    if old.name == "timestamp"
                        && new_type.name == "timestamptz"
                        && old.array == new_type.array
                        && cx.fcx.settings.pg_version.at_least(12) =>
                {
                    if session_time_zone_utc(cx, o.index) {
                        continue;
                    }
                    (
                        format!(
                            "changing `{target}` from `{}` to `{ty}` rewrites the whole table under an ACCESS \
                             EXCLUSIVE lock, generating WAL proportional to the table size, unless the session time \
                             zone is UTC",
                            type_text(old)
                        ),
                        "run `SET timezone = 'UTC';` before it: PostgreSQL 12+ then skips the table rewrite (its \
                         indexes are still rebuilt)",
                    )
                }
                (Some(old), _) => (
                    format!(
                        "changing `{target}` from `{}` to `{ty}` rewrites the whole table and rebuilds its indexes \
                         under an ACCESS EXCLUSIVE lock{}, generating WAL proportional to the table size",
                        type_text(old),
                        if plain { "" } else { " (the USING expression computes every value anew)" }
                    ),
                    "add a new column with the new type, backfill it in batches (`sluice backfill`) and switch over",
                ),
                (None, true)
                    if !new_type.array
                        && (new_type.name == "text"
                            || (new_type.name == "varchar" && new_type.modifiers.is_empty())) =>
                {
                    continue
                }
                (None, _) => (
                    format!(
                        "changing `{target}` to `{ty}` rewrites the whole table and rebuilds its indexes under an \
                         ACCESS EXCLUSIVE lock{}, generating WAL proportional to the table size, unless the change \
                         is binary coercible (the column's current type is not declared by any earlier migration)",
                        if plain { "" } else { " (the USING expression computes every value anew)" }
                    ),
                    "add a new column with the new type, backfill it in batches (`sluice backfill`) and switch \
                     over, or make sure the change is binary coercible (e.g. a longer varchar, varchar to text)",
                ),
            };
            let d = out.report(o.stmt, span, message);
            d.help = Some(help.into());
        }
    }
}
