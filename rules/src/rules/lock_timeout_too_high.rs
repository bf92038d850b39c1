use super::existing_locks::{existing_locks, ExistingLock};
use super::session_timeouts::{timeouts_in_force, TimeoutSet};
use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::{Applicability, Edit, Fix, Label, Span};

declare_rule! {
    /// ## What it does
    /// Flags a `SET lock_timeout` (also `SET LOCAL` and `set_config('lock_timeout', ...)`) whose
    /// value is above the budget, 5 seconds unless configured, when a later statement waits
    /// under it for a lock that blocks the traffic of a table that existed before the migration.
    /// A generous timeout set only for work that does not block traffic (`CREATE INDEX
    /// CONCURRENTLY`) is not flagged. `0` (no limit), `DEFAULT` and `RESET` leave the statements
    /// without a timeout and are reported by `ddl-without-lock-timeout`.
    ///
    /// ## Why it is bad
    /// While a migration waits for a lock that conflicts with the application's own locks, its
    /// request sits in the table's lock queue and every later conflicting request queues behind
    /// it: for an ACCESS EXCLUSIVE request, every query on the table. `lock_timeout` is what ends
    /// that wait. A timeout of a minute lets one slow report turn into a minute of outage, and
    /// most migration tools retry a timed-out migration anyway: a short timeout with retries
    /// blocks traffic for a few seconds at a time instead.
    ///
    /// ## Example
    /// ```sql
    /// SET lock_timeout = '1min';
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    ///
    /// ## Use instead
    /// ```sql
    /// SET lock_timeout = '5s';
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    /// and let the migration tool retry when it times out. The budget is set in `sluice.toml`:
    /// ```toml
    /// [rules.lock-timeout-too-high]
    /// max = "2s"       # PostgreSQL syntax: "500ms", "2s", "1min"; an integer is milliseconds
    /// level = "error"  # optional, like `lock-timeout-too-high = "error"` under [rules]
    /// ```
    /// The fix (unsafe: the migration may then time out where it used to wait) replaces the value
    /// with the budget.
    pub struct LockTimeoutTooHigh {
        name: "lock-timeout-too-high",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: Unsafe,
    }
}

impl Rule for LockTimeoutTooHigh {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let max = cx.fcx.settings.rule_options.lock_timeout_max;
        let timeouts = timeouts_in_force(cx);
        // Per offending SET: the statements that wait for a traffic-blocking lock under it.
        let mut flagged: Vec<(TimeoutSet, Vec<(usize, ExistingLock)>)> = Vec::new();
        for s in cx.statements() {
            let Some(set) = timeouts.get(s.index).and_then(|t| t.lock) else { continue };
            if set.value.is_unlimited() || set.value <= max {
                continue;
            }
            let Some(lock) = existing_locks(cx, s.stmt, s.index)
                .into_iter()
                .filter(ExistingLock::blocks_traffic)
                .max_by_key(|l| l.mode)
            else {
                continue;
            };
            match flagged.iter_mut().find(|(f, _)| f.stmt == set.stmt) {
                Some((_, waits)) => waits.push((s.index, lock)),
                None => flagged.push((set, vec![(s.index, lock)])),
            }
        }
        for (set, waits) in flagged {
            let Some(setter) = cx.file.statements.get(set.stmt) else { continue };
            let Some((first_index, first)) = waits.first() else { continue };
            let Some(first_stmt) = cx.file.statements.get(*first_index) else { continue };
            let line = cx.text().get(..first_stmt.span.start).unwrap_or("").matches('\n').count() + 1;
            let wait = format!("up to {}", set.value);
            let more = match waits.len() {
                1 => String::new(),
                2 => " (and 1 more statement)".to_string(),
                n => format!(" (and {} more statements)", n - 1),
            };
            let what = format!("`lock_timeout` of {} is above the {max} budget", set.value);
            let d = out.report(
                setter,
                set.value_span,
                format!(
                    "{what}: the statement on line {line}{more} may wait {wait} for its {} lock on {}, and {} \
                     queues behind it meanwhile",
                    first.mode,
                    first.describe(),
                    first.blocked_traffic()
                ),
            );
            for (index, lock) in &waits {
                let Some(stmt) = cx.file.statements.get(*index) else { continue };
                d.labels.push(Label {
                    span: first_words(cx, stmt),
                    message: format!("waits {wait} for {} on {}", lock.mode, lock.describe()),
                });
            }
            d.help = Some(format!(
                "set `lock_timeout` to at most {max} and retry the migration when it times out (the budget is `max` \
                 under `[rules.lock-timeout-too-high]` in sluice.toml)"
            ));
            d.fix = Some(Fix {
                description: format!("Set lock_timeout to {max}"),
                applicability: Applicability::Unsafe,
                edits: vec![Edit::replace(set.value_span, format!("'{max}'"))],
            });
        }
    }
}

/// The statement's first two code tokens (`ALTER TABLE`, `CREATE INDEX`), for labels.
fn first_words(cx: &RuleContext<'_>, stmt: &sluice_core::Statement) -> Span {
    let words: Vec<_> = cx.code_tokens(stmt).take(2).collect();
    match (words.first(), words.last()) {
        (Some(a), Some(b)) => a.span.cover(b.span),
        _ => stmt.span,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{findings, messages, postgres};
    use crate::LintConfig;
    use sluice_core::config::Config;
    use sluice_core::{PgVersion, Settings};

    const RULE: &str = "lock-timeout-too-high";

    fn run(sql: &str) -> Vec<String> {
        messages(sql, &postgres(PgVersion::default()), RULE)
    }

    #[test]
    fn values_above_the_budget_or_zero_fire() {
        for set in [
            "SET lock_timeout = '1min'",
            "SET lock_timeout = 10000",
            "SET LOCAL lock_timeout TO '6s'",
            "SELECT set_config('lock_timeout', '30s', false)",
        ] {
            let sql = format!("BEGIN;\n{set};\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n");
            assert_eq!(run(&sql).len(), 1, "{sql}");
        }
        let found = run("SET lock_timeout = '2h';\nALTER TABLE orders ADD COLUMN note text;\n");
        assert!(
            found[0].contains("of 2h is above the 5s budget") && found[0].contains("ACCESS EXCLUSIVE"),
            "{found:?}"
        );
        let found = run("SET lock_timeout = '1min';\nCREATE INDEX i ON orders (a);\n");
        assert!(found[0].contains("up to 1min") && found[0].contains("every write to `orders`"), "{found:?}");
    }

    #[test]
    fn values_within_the_budget_and_harmless_positions_stay_silent() {
        for sql in [
            "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n",
            "SET lock_timeout = '500ms';\nALTER TABLE orders ADD COLUMN note text;\n",
            // Restoring the default at the end: nothing waits under it.
            "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\nSET lock_timeout = 0;\n",
            // Only new tables, or locks that do not block traffic.
            "SET lock_timeout = '1h';\nCREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN a int;\n",
            "SET lock_timeout = '1h';\nCREATE INDEX CONCURRENTLY i ON orders (a);\n",
            // No limit at all is `ddl-without-lock-timeout`'s finding.
            "SET lock_timeout = 0;\nALTER TABLE orders ADD COLUMN note text;\n",
            "SET lock_timeout = '1h';\nINSERT INTO orders VALUES (1);\n",
            // SET LOCAL outside a transaction block does nothing.
            "SET LOCAL lock_timeout = '1h';\nSET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN note text;\n",
            "SET lock_timeout = DEFAULT;\nALTER TABLE orders ADD COLUMN note text;\n",
        ] {
            assert!(run(sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn one_finding_per_set_with_a_label_per_waiting_statement() {
        let sql = "SET lock_timeout = '1min';\nALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;\n";
        let found = findings(sql, &postgres(PgVersion::default()), RULE);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].labels.len(), 2);
        assert!(found[0].message.contains("(and 1 more statement)"), "{}", found[0].message);
        assert_eq!(found[0].span.slice(sql), "'1min'");
    }

    #[test]
    fn the_budget_comes_from_sluice_toml() {
        let cfg = Config::parse("[rules.lock-timeout-too-high]\nmax = \"2s\"\n").expect("config");
        let config = LintConfig::from_config(&cfg, Settings::default()).expect("lint config");
        let sql = "SET lock_timeout = '3s';\nALTER TABLE orders ADD COLUMN note text;\n";
        let found = findings(sql, &config, RULE);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("above the 2s budget"), "{}", found[0].message);
        let fix = found[0].fix.as_ref().expect("fix");
        assert_eq!(fix.edits[0].replacement, "'2s'");
        assert!(findings(sql, &postgres(PgVersion::default()), RULE).is_empty());
        let cfg = Config::parse("[rules.lock-timeout-too-high]\nlevel = \"off\"\nmax = \"1s\"\n").expect("config");
        let config = LintConfig::from_config(&cfg, Settings::default()).expect("lint config");
        assert!(findings(sql, &config, RULE).is_empty());
    }
}
