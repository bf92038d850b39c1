use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, Expr, Op, QualifiedName, TypeName};

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
    /// The old type is not known to a static linter. The rule stays silent when the new type is
    /// `text` or unbounded `varchar` (assuming the old type is `varchar` or `text`, the common
    /// case), and when the old type is known from an earlier statement of the same file
    /// (`ADD COLUMN`, an earlier `ALTER COLUMN TYPE`, `CREATE TABLE`) and the change is one of the
    /// coercible ones above. A `USING` expression other than the plain column forces a rewrite.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 4);
    /// ```
    ///
    /// ## Use instead
    /// Add a new column with the new type, backfill it in batches, switch the application over,
    /// then drop the old column:
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

/// The column's type as last declared earlier in this file, when known.
fn known_type(cx: &RuleContext<'_>, table: &QualifiedName, column: &str, before: usize) -> Option<TypeName> {
    let mut found = None;
    for o in cx.ops_before(before) {
        match o.op {
            Op::CreateTable { name, columns, .. } if name.same_object(table) => {
                found = columns.iter().find(|c| c.name.name.eq_ignore_ascii_case(column)).map(|c| c.type_name.clone());
            }
            Op::AlterTable { name, actions, .. } if name.same_object(table) => {
                for a in actions {
                    match &a.kind {
                        AlterActionKind::AddColumn { column: c, .. } if c.name.name.eq_ignore_ascii_case(column) => {
                            found = Some(c.type_name.clone());
                        }
                        AlterActionKind::AlterColumnType { column: c, new_type, .. }
                            if c.name.eq_ignore_ascii_case(column) =>
                        {
                            found = Some(new_type.clone());
                        }
                        AlterActionKind::DropColumn { name: c, .. } if c.name.eq_ignore_ascii_case(column) => {
                            found = None;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    found
}

impl Rule for AlterColumnTypeRewritesTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        for (o, name, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AlterColumnType { column, new_type, using, .. } = &a.kind else { continue };
            let plain = trivial_using(using.as_ref(), &column.name);
            if plain {
                match known_type(cx, name, &column.name, o.index) {
                    Some(old) if coercible(&old, new_type) => continue,
                    Some(_) => {}
                    None if new_type.name == "text" && !new_type.array => continue,
                    None if new_type.name == "varchar" && new_type.modifiers.is_empty() && !new_type.array => continue,
                    None => {}
                }
            }
            let ty = if new_type.text.is_empty() { new_type.name.as_str() } else { new_type.text.as_str() };
            let why = if plain { "" } else { " (the USING expression computes every value anew)" };
            let d = out.report(
                o.stmt,
                if new_type.span.is_empty() { a.span } else { new_type.span },
                format!(
                    "changing `{}.{}` to `{ty}` rewrites the whole table and rebuilds its indexes under an \
                     ACCESS EXCLUSIVE lock{why}, unless the change is binary coercible",
                    name.display(),
                    column.name
                ),
            );
            d.help = Some(
                "add a new column with the new type, backfill it in batches and switch over, or make sure \
                 the change is binary coercible (e.g. a longer varchar, varchar to text)"
                    .into(),
            );
        }
    }
}
