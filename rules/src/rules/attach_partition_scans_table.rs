use crate::declare_rule;
use crate::rule::{Reporter, Rule, RuleContext, RuleMeta};
use sluice_core::ir::{AlterActionKind, ConstraintKind, DmlKind, Op, QualifiedName};
use sluice_core::pg_locks::{self, LockMode, Target};

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE parent ATTACH PARTITION child FOR VALUES ...` when no earlier statement
    /// of the file gave `child` a valid `CHECK` constraint (added without `NOT VALID`, or
    /// validated afterwards). A `child` created earlier in the same file is empty and not flagged,
    /// unless rows were inserted or copied into it before the attach.
    ///
    /// ## Why it is bad
    /// PostgreSQL must prove that every row of `child` fits the partition bound. Unless a valid
    /// `CHECK` constraint on `child` already implies the bound, it reads the whole table while
    /// holding ACCESS EXCLUSIVE on it and SHARE UPDATE EXCLUSIVE on `parent` (before PostgreSQL
    /// 12: ACCESS EXCLUSIVE on `parent`, so every query on the partitioned table waits for the
    /// scan). If `parent` has a DEFAULT partition, that partition is scanned too, under ACCESS
    /// EXCLUSIVE, to prove none of its rows belong to the new partition. Inside a transaction the
    /// locks are held until commit.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE measurements ATTACH PARTITION measurements_2024
    ///     FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    /// ```
    ///
    /// ## Use instead
    /// Prove the bound with a constraint first, without blocking, then attach and drop it:
    /// ```sql
    /// ALTER TABLE measurements_2024 ADD CONSTRAINT measurements_2024_bound
    ///     CHECK (logdate IS NOT NULL AND logdate >= '2024-01-01' AND logdate < '2025-01-01') NOT VALID;
    /// -- separate transaction: scans under SHARE UPDATE EXCLUSIVE, reads and writes continue
    /// ALTER TABLE measurements_2024 VALIDATE CONSTRAINT measurements_2024_bound;
    /// -- no scan: the valid constraint implies the bound
    /// ALTER TABLE measurements ATTACH PARTITION measurements_2024
    ///     FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    /// ALTER TABLE measurements_2024 DROP CONSTRAINT measurements_2024_bound;
    /// ```
    /// Sluice does not check that the constraint really implies the bound; PostgreSQL falls back
    /// to the scan when it does not. A DEFAULT partition needs a constraint that excludes the
    /// new bound in the same way.
    pub struct AttachPartitionScansTable {
        name: "attach-partition-scans-table",
        dialects: [Postgres],
        category: Locking,
        severity: Warning,
        fix: None,
    }
}

/// What the file did to the partition before the attach.
#[derive(Default)]
struct PartitionHistory {
    /// A valid CHECK constraint exists.
    valid_check: bool,
    /// Names of CHECK constraints added NOT VALID and not validated yet.
    unvalidated: Vec<String>,
    /// Rows were inserted or copied into it.
    loaded: bool,
}

fn history(cx: &RuleContext<'_>, partition: &QualifiedName, before: usize) -> PartitionHistory {
    let mut h = PartitionHistory::default();
    for o in cx.ops_before(before) {
        match o.op {
            Op::CreateTable { name, constraints, columns, .. } if name.same_object(partition) => {
                h.valid_check |= constraints.iter().any(|c| matches!(c.kind, ConstraintKind::Check { .. }))
                    || columns.iter().any(|c| c.check.is_some());
            }
            Op::AlterTable { name, actions, .. } if name.same_object(partition) => {
                for a in actions {
                    match &a.kind {
                        AlterActionKind::AddConstraint(c) if matches!(c.kind, ConstraintKind::Check { .. }) => {
                            if c.not_valid {
                                h.unvalidated.extend(c.name.as_ref().map(|n| n.name.clone()));
                            } else {
                                h.valid_check = true;
                            }
                        }
                        AlterActionKind::ValidateConstraint { name } => {
                            let before = h.unvalidated.len();
                            h.unvalidated.retain(|n| !n.eq_ignore_ascii_case(&name.name));
                            h.valid_check |= h.unvalidated.len() < before;
                        }
                        _ => {}
                    }
                }
            }
            Op::Dml { kind: DmlKind::Insert | DmlKind::Copy | DmlKind::Merge, table: Some(t), .. }
                if t.same_object(partition) =>
            {
                h.loaded = true;
            }
            _ => {}
        }
    }
    h
}

impl Rule for AttachPartitionScansTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Reporter) {
        let version = cx.fcx.settings.pg_version;
        for (o, parent, actions) in cx.alter_tables() {
            for a in actions {
                let AlterActionKind::AttachPartition { partition } = &a.kind else { continue };
                let h = history(cx, partition, o.index);
                if h.valid_check || (cx.is_new_table(partition, o.index) && !h.loaded) {
                    continue;
                }
                let effect = pg_locks::alter_action(parent, &a.kind, version);
                let lock = |t: &QualifiedName| {
                    effect
                        .as_ref()
                        .and_then(|e| e.lock_on(&Target::Table(t.clone())))
                        .unwrap_or(LockMode::AccessExclusive)
                };
                let (p, c) = (parent.display(), partition.display());
                let parent_lock = lock(parent);
                let consequence = if parent_lock.blocks_reads() {
                    format!("every query on `{p}` waits until the scan ends")
                } else {
                    format!("reads and writes of `{c}` wait until the scan ends")
                };
                let d = out.report(
                    o.stmt,
                    a.span,
                    format!(
                        "`ATTACH PARTITION` reads every row of `{c}` to check the partition bound, holding {} on \
                         `{c}` and {parent_lock} on `{p}`: {consequence}",
                        lock(partition),
                    ),
                );
                d.help = Some(match h.unvalidated.first() {
                    Some(name) => format!(
                        "the CHECK constraint `{name}` on `{c}` is NOT VALID, so PostgreSQL cannot use it: `VALIDATE \
                         CONSTRAINT {name}` in an earlier transaction, then attach"
                    ),
                    None => format!(
                        "first add a CHECK constraint on `{c}` matching the bound (NOT VALID), VALIDATE it in a \
                         separate transaction, then attach and drop the check; a DEFAULT partition of `{p}` is \
                         scanned too unless a CHECK constraint excludes the new bound"
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_util::{messages, postgres};
    use sluice_core::PgVersion;

    const RULE: &str = "attach-partition-scans-table";
    const ATTACH: &str = "ALTER TABLE m ATTACH PARTITION m_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n";

    fn run(sql: &str, major: u32) -> Vec<String> {
        messages(sql, &postgres(PgVersion::new(major, PgVersion::LATEST_MINOR)), RULE)
    }

    #[test]
    fn lock_levels_follow_the_version() {
        let found = run(ATTACH, 15);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("ACCESS EXCLUSIVE on `m_2024` and SHARE UPDATE EXCLUSIVE on `m`"), "{found:?}");
        assert!(found[0].contains("reads and writes of `m_2024` wait"), "{found:?}");
        let found = run(ATTACH, 11);
        assert!(found[0].contains("ACCESS EXCLUSIVE on `m`: every query on `m` waits"), "{found:?}");
    }

    #[test]
    fn a_valid_check_on_the_partition_silences_it() {
        let valid = "ALTER TABLE m_2024 ADD CONSTRAINT b CHECK (d >= '2024-01-01' AND d < '2025-01-01');\n";
        assert!(run(&format!("{valid}{ATTACH}"), 15).is_empty());
        let validated = "ALTER TABLE m_2024 ADD CONSTRAINT b CHECK (d >= '2024-01-01') NOT VALID;\n\
                         ALTER TABLE m_2024 VALIDATE CONSTRAINT b;\n";
        assert!(run(&format!("{validated}{ATTACH}"), 15).is_empty());
        // A check on another table does not count.
        let other = "ALTER TABLE m_2023 ADD CONSTRAINT b CHECK (d >= '2023-01-01');\n";
        assert_eq!(run(&format!("{other}{ATTACH}"), 15).len(), 1);
    }

    #[test]
    fn a_not_valid_check_is_named_in_the_help() {
        let sql = format!("ALTER TABLE m_2024 ADD CONSTRAINT b CHECK (d >= '2024-01-01') NOT VALID;\n{ATTACH}");
        let found =
            crate::rules::test_util::findings(&sql, &postgres(PgVersion::new(15, PgVersion::LATEST_MINOR)), RULE);
        assert_eq!(found.len(), 1);
        assert!(found[0].help.as_deref().is_some_and(|h| h.contains("`b`") && h.contains("NOT VALID")));
    }

    #[test]
    fn new_partitions_are_empty_unless_loaded() {
        let create = "CREATE TABLE m_2024 (LIKE m INCLUDING DEFAULTS);\n";
        assert!(run(&format!("{create}{ATTACH}"), 15).is_empty());
        let loaded = format!("{create}INSERT INTO m_2024 SELECT * FROM m_staging;\n{ATTACH}");
        assert_eq!(run(&loaded, 15).len(), 1);
    }
}
