use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::Op;
use sluice_core::{PgVersion, Span};

declare_rule! {
    /// ## What it does
    /// Flags `REINDEX` without `CONCURRENTLY`.
    ///
    /// ## Why it is bad
    /// A plain `REINDEX` holds a SHARE lock on the table, which blocks every INSERT, UPDATE and
    /// DELETE, and an ACCESS EXCLUSIVE lock on each index being rebuilt, which blocks the queries
    /// that would use it (in practice most reads of the table, since planning a query locks all
    /// of the table's indexes). `REINDEX SCHEMA`, `DATABASE` and `SYSTEM` do this for table after
    /// table.
    ///
    /// ## Example
    /// ```sql
    /// REINDEX INDEX orders_customer_id_idx;
    /// ```
    ///
    /// ## Use instead
    /// On PostgreSQL 12 and later:
    /// ```sql
    /// REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
    /// ```
    /// It builds a new index next to the old one and swaps them, blocking neither reads nor
    /// writes. It cannot run inside a transaction block, and `REINDEX SYSTEM` has no concurrent
    /// form. Avoid it on PostgreSQL 14.0 to 14.3, where concurrent builds could corrupt indexes.
    pub struct ReindexNonConcurrently {
        name: "reindex-non-concurrently",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Safe,
        scope: Statement,
    }
}

fn pg14_bug(v: PgVersion) -> bool {
    v.major == 14 && v.minor <= 3
}

impl Rule for ReindexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.pg_version;
        let text = cx.text();
        for o in cx.ops() {
            let Op::Reindex { concurrently: false, target, .. } = o.op else { continue };
            if target.as_ref().is_some_and(|t| cx.is_new_table(t, o.index)) {
                continue;
            }
            // `REINDEX [ ( options ) ] { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM }`
            let toks: Vec<_> = cx.code_tokens(o.stmt).collect();
            let Some(start) = toks.iter().position(|t| t.is_word(text, "reindex")) else { continue };
            let mut i = start + 1;
            if toks.get(i).is_some_and(|t| t.is_punct(text, '(')) {
                let mut depth = 0usize;
                while let Some(t) = toks.get(i) {
                    if t.is_punct(text, '(') {
                        depth += 1;
                    } else if t.is_punct(text, ')') {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
            }
            let kind_tok = toks.get(i).copied();
            let kind = kind_tok.map_or(String::new(), |t| t.text(text).to_ascii_uppercase());
            let span = match (toks.get(start), kind_tok) {
                (Some(a), Some(b)) => a.span.cover(b.span),
                (Some(a), None) => a.span,
                _ => Span::default(),
            };
            let name = target.as_ref().map_or(String::new(), |t| format!(" {}", t.display()));
            let effect = match kind.as_str() {
                "INDEX" => "blocks writes to the index's table, and reads that use the index, until it is rebuilt",
                "TABLE" => "blocks writes to the table, and reads that use its indexes, until they are rebuilt",
                _ => "blocks writes to each table in turn, and reads that use the index being rebuilt",
            };
            let d = out.report(o.stmt, span, format!("`REINDEX {kind}{name}` {effect}"));
            let system = kind == "SYSTEM";
            let fixable = !system && version.at_least(12) && !pg14_bug(version) && kind_tok.is_some();
            d.help = Some(if system {
                "`REINDEX SYSTEM` has no concurrent form: run it in a maintenance window".to_string()
            } else if !version.at_least(12) {
                format!(
                    "`REINDEX CONCURRENTLY` needs PostgreSQL 12 (target: {version}); until then build a new index \
                     with `CREATE INDEX CONCURRENTLY` and drop the old one concurrently"
                )
            } else if pg14_bug(version) {
                format!(
                    "PostgreSQL {version} has a bug that can corrupt indexes built concurrently: upgrade to 14.4 or \
                     later, then use `REINDEX {kind} CONCURRENTLY`"
                )
            } else {
                format!("use `REINDEX {kind} CONCURRENTLY`, outside a transaction block")
            });
            if let (true, Some(k)) = (fixable, kind_tok) {
                d.fix = Some(o.add_concurrently_fix(k.span.end));
            }
        }
    }
}
