use super::compat::{apply_contract_phase, column_on_base, contract_phase, is_down};
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, TypeName};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER COLUMN ... TYPE` that narrows a column the running application already
    /// writes: a shorter `varchar`/`char`, `text` or unbounded `varchar` to a bounded one, a
    /// `numeric` with fewer digits or less scale, a smaller integer type, or less fractional
    /// precision for `time`, `timestamp`, `timestamptz` and `interval`. The old type comes from
    /// the migration history; columns the change set itself adds, and down migrations restoring
    /// the old type, are left alone.
    ///
    /// ## Why it is bad
    /// The migration deploys before the code that needs it, and the previous code keeps writing
    /// values that fit the old type. After the narrowing, those inserts and updates fail (`value
    /// too long`, `numeric field overflow`, `integer out of range`) or are silently rounded, and
    /// the migration itself fails if a stored value no longer fits. It also rewrites the table.
    ///
    /// ## Example
    /// ```sql
    /// -- `email` was created as varchar(320)
    /// ALTER TABLE users ALTER COLUMN email TYPE varchar(100);
    /// ```
    ///
    /// ## Use instead
    /// Enforce the new limit where writes happen first, then add a `CHECK (length(email) <= 100)
    /// NOT VALID` constraint, `VALIDATE` it, and only narrow the type (if at all) in a contract
    /// migration once no code writes longer values:
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_len CHECK (length(email) <= 100) NOT VALID;
    /// ALTER TABLE users VALIDATE CONSTRAINT users_email_len;
    /// ```
    pub struct NarrowingTypeChange {
        name: "narrowing-type-change",
        dialects: [Postgres],
        category: Compatibility,
        severity: Error,
        fix: None,
    }
}

/// Byte width of the integer types.
fn int_width(name: &str) -> Option<u8> {
    match name {
        "int2" | "smallint" => Some(2),
        "int4" | "integer" | "int" => Some(4),
        "int8" | "bigint" => Some(8),
        _ => None,
    }
}

const PRECISION_TYPES: &[&str] = &["time", "timetz", "timestamp", "timestamptz", "interval"];

/// Why `new` cannot hold every value `old` can, if it cannot.
fn narrowing(old: &TypeName, new: &TypeName) -> Option<String> {
    if old.array != new.array {
        return None;
    }
    let (o, n) = (old.name.as_str(), new.name.as_str());
    let limit = |t: &TypeName| t.modifiers.first().copied();
    match (o, n) {
        ("varchar" | "bpchar", "varchar" | "bpchar") => match (limit(old), limit(new)) {
            (Some(a), Some(b)) if b < a => Some(format!("values longer than {b} characters no longer fit (was {a})")),
            (None, Some(b)) => Some(format!("values longer than {b} characters no longer fit (was unbounded)")),
            _ => None,
        },
        ("text", "varchar" | "bpchar") => {
            limit(new).map(|b| format!("values longer than {b} characters no longer fit (was text)"))
        }
        ("numeric", "numeric") => match (old.modifiers.as_slice(), new.modifiers.as_slice()) {
            (_, []) => None,
            ([], [p, ..]) => Some(format!("values with more than {p} digits no longer fit (was unconstrained)")),
            (olds, news) => {
                let (p1, s1) = (olds[0], olds.get(1).copied().unwrap_or(0));
                let (p2, s2) = (news[0], news.get(1).copied().unwrap_or(0));
                if s2 < s1 {
                    Some(format!("values are rounded to {s2} decimal places (was {s1})"))
                } else if p2 - s2 < p1 - s1 {
                    Some(format!("values with more than {} integer digits no longer fit (was {})", p2 - s2, p1 - s1))
                } else {
                    None
                }
            }
        },
        _ if int_width(o).is_some() && int_width(n).is_some() => {
            let (a, b) = (int_width(o)?, int_width(n)?);
            (b < a).then(|| format!("values beyond the range of a {}-byte integer no longer fit (was {a} bytes)", b))
        }
        _ if o == n && PRECISION_TYPES.contains(&o) => match (limit(old), limit(new)) {
            (None, Some(b)) => Some(format!("fractional seconds are rounded to {b} digits (was 6)")),
            (Some(a), Some(b)) if b < a => Some(format!("fractional seconds are rounded to {b} digits (was {a})")),
            _ => None,
        },
        _ => None,
    }
}

fn shown(t: &TypeName) -> &str {
    if t.text.is_empty() {
        &t.name
    } else {
        &t.text
    }
}

impl Rule for NarrowingTypeChange {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let contract = contract_phase(cx);
        for (o, table, a) in cx.alters_of_existing_tables() {
            let AlterActionKind::AlterColumnType { column, new_type, .. } = &a.kind else { continue };
            // A rollback restoring the old, narrower type is the old code's shape.
            if is_down(&o) || !column_on_base(cx, o.index, table, &column.name) {
                continue;
            }
            let Some(old) = cx.fcx.catalog_before(o.index).column(table, &column.name) else { continue };
            let Some(why) = narrowing(&old.type_name, new_type) else { continue };
            let span = if new_type.span.is_empty() { a.span } else { new_type.span };
            let d = out.report(
                o.stmt,
                span,
                format!(
                    "narrowing `{}.{}` from `{}` to `{}` breaks the running application: {why}",
                    table.display(),
                    column.name,
                    shown(&old.type_name),
                    shown(new_type)
                ),
            );
            d.help = Some(
                "enforce the limit in the application first, prove it with a CHECK constraint added NOT VALID and \
                 validated, and narrow the type only in a contract migration"
                    .into(),
            );
            apply_contract_phase(d, contract);
        }
    }
}
