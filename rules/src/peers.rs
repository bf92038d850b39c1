//! The migration-safety checks of other PostgreSQL linters, each mapped to the Sluice rules that
//! cover it or to the reason it is left out. `docs/rules.md` renders this table, and a test
//! checks that every rule named here exists.

/// A linter Sluice is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    Squawk,
    Eugene,
    PgMigrationLint,
    Atlas,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Squawk => "Squawk",
            Peer::Eugene => "Eugene",
            Peer::PgMigrationLint => "pg-migration-lint",
            Peer::Atlas => "Atlas",
        }
    }
}

/// How Sluice answers one peer check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// These rules report it.
    Rules(&'static [&'static str]),
    /// Deliberately not a rule, and why.
    LeftOut(&'static str),
}

/// One check of a peer, described in Sluice's words.
#[derive(Clone, Copy, Debug)]
pub struct PeerCheck {
    pub peer: Peer,
    pub check: &'static str,
    pub coverage: Coverage,
}

const fn rules(peer: Peer, check: &'static str, names: &'static [&'static str]) -> PeerCheck {
    PeerCheck { peer, check, coverage: Coverage::Rules(names) }
}

const fn left_out(peer: Peer, check: &'static str, reason: &'static str) -> PeerCheck {
    PeerCheck { peer, check, coverage: Coverage::LeftOut(reason) }
}

const TYPE_CHOICE: &str = "a choice of column type for new schema, not a hazard of running the migration; \
                           changing such a type later is covered by `alter-column-type-rewrites-table`";

use Peer::{Atlas, Eugene, PgMigrationLint, Squawk};

/// Every PostgreSQL check the peers are known for, in peer order.
pub static PEER_CHECKS: &[PeerCheck] = &[
    rules(
        Squawk,
        "index built or dropped without CONCURRENTLY",
        &["create-index-non-concurrently", "drop-index-non-concurrently"],
    ),
    rules(Squawk, "REINDEX without CONCURRENTLY", &["reindex-non-concurrently"]),
    rules(Squawk, "DETACH PARTITION without CONCURRENTLY", &["detach-partition-non-concurrently"]),
    rules(Squawk, "CHECK or FOREIGN KEY constraint added without NOT VALID", &["constraint-without-not-valid"]),
    rules(
        Squawk,
        "foreign key added to an existing table",
        &["constraint-without-not-valid", "lock-order-deadlock-risk"],
    ),
    rules(Squawk, "added column with a volatile default", &["add-column-volatile-default"]),
    rules(Squawk, "column type change", &["alter-column-type-rewrites-table"]),
    rules(Squawk, "SET NOT NULL on an existing column", &["set-not-null-scans-table"]),
    rules(Squawk, "PRIMARY KEY or UNIQUE added without USING INDEX", &["unique-constraint-builds-index"]),
    rules(Squawk, "DDL without a lock_timeout", &["ddl-without-lock-timeout", "lock-timeout-too-high"]),
    rules(Squawk, "DDL without a statement_timeout", &["statement-timeout-for-long-operation"]),
    rules(Squawk, "DROP COLUMN", &["drop-column"]),
    rules(Squawk, "DROP TABLE", &["drop-table"]),
    rules(Squawk, "DROP DATABASE", &["drop-schema-or-database"]),
    rules(Squawk, "DROP NOT NULL", &["drop-not-null"]),
    rules(Squawk, "renamed column or table", &["rename-column", "rename-table"]),
    rules(Squawk, "TRUNCATE ... CASCADE", &["truncate-table"]),
    rules(Squawk, "NOT NULL column added without a default", &["add-not-null-column-without-default"]),
    rules(Squawk, "CREATE / DROP without IF [NOT] EXISTS", &["create-without-if-not-exists", "drop-without-if-exists"]),
    rules(
        Squawk,
        "transaction opened inside another, or never closed",
        &["begin-inside-transaction", "unterminated-transaction"],
    ),
    rules(Squawk, "CONCURRENTLY inside a transaction block", &["concurrently-in-transaction"]),
    rules(Squawk, "enum value added (ALTER TYPE ... ADD VALUE)", &["enum-value-added-in-transaction"]),
    rules(Squawk, "identifier longer than 63 bytes", &["identifier-too-long"]),
    left_out(Squawk, "varchar(n) instead of text", TYPE_CHOICE),
    left_out(Squawk, "int instead of bigint", TYPE_CHOICE),
    left_out(
        Squawk,
        "serial instead of an identity column",
        "a style choice for new tables; adding either kind of column to an existing table rewrites it and is \
         reported by `add-column-volatile-default`",
    ),
    left_out(Squawk, "timestamp instead of timestamptz", TYPE_CHOICE),
    left_out(Squawk, "char(n)", TYPE_CHOICE),
    rules(
        Eugene,
        "statements that take a lock blocking reads or writes (traced per statement)",
        &["ddl-without-lock-timeout", "lock-held-during-later-statements"],
    ),
    rules(
        Eugene,
        "table rewrite (a changed relfilenode)",
        &[
            "alter-column-type-rewrites-table",
            "add-column-volatile-default",
            "alter-table-set-rewrites-table",
            "vacuum-full-or-cluster",
        ],
    ),
    rules(Eugene, "locks assumed held until commit, across later statements", &["lock-held-during-later-statements"]),
    rules(Eugene, "foreign key without an index on the referencing columns", &["foreign-key-without-index"]),
    rules(
        PgMigrationLint,
        "idempotency: CREATE / DROP / ADD COLUMN that fail when run again",
        &["create-without-if-not-exists", "drop-without-if-exists"],
    ),
    rules(
        PgMigrationLint,
        "foreign key without an index, looked up in later migration files",
        &["foreign-key-without-index"],
    ),
    rules(
        Atlas,
        "destructive change: DROP SCHEMA, DROP TABLE, DROP COLUMN",
        &["drop-schema-or-database", "drop-table", "drop-column"],
    ),
    rules(Atlas, "data-dependent change: unique index on existing rows", &["unique-constraint-builds-index"]),
    rules(
        Atlas,
        "data-dependent change: NOT NULL on existing rows",
        &["set-not-null-scans-table", "add-not-null-column-without-default"],
    ),
    rules(Atlas, "backward-incompatible change: renamed table or column", &["rename-table", "rename-column"]),
    rules(
        Atlas,
        "index created or dropped without CONCURRENTLY, or CONCURRENTLY in a transaction",
        &["create-index-non-concurrently", "drop-index-non-concurrently", "concurrently-in-transaction"],
    ),
    rules(
        Atlas,
        "PostgreSQL lock checks on ALTER TABLE (constraints, type changes, defaults)",
        &[
            "constraint-without-not-valid",
            "alter-column-type-rewrites-table",
            "add-column-volatile-default",
            "unique-constraint-builds-index",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    #[test]
    fn every_rule_named_exists_and_applies_to_postgres() {
        for c in PEER_CHECKS {
            if let Coverage::Rules(names) = c.coverage {
                assert!(!names.is_empty(), "{}: {} maps to no rule", c.peer.name(), c.check);
                for name in names {
                    let rule = registry::rule(name).unwrap_or_else(|| panic!("{}: no rule `{name}`", c.check));
                    assert!(rule.meta().applies_to(sluice_core::Dialect::Postgres), "{name} is not a PostgreSQL rule");
                }
            }
        }
    }

    #[test]
    fn every_peer_is_listed_and_every_reason_is_written() {
        for peer in [Squawk, Eugene, PgMigrationLint, Atlas] {
            assert!(PEER_CHECKS.iter().any(|c| c.peer == peer), "{} has no entry", peer.name());
        }
        for c in PEER_CHECKS {
            if let Coverage::LeftOut(reason) = c.coverage {
                assert!(reason.len() > 20, "{}: {} needs a reason", c.peer.name(), c.check);
            }
        }
        let mut sorted: Vec<Peer> = PEER_CHECKS.iter().map(|c| c.peer).collect();
        sorted.sort();
        assert_eq!(sorted, PEER_CHECKS.iter().map(|c| c.peer).collect::<Vec<_>>(), "entries are grouped by peer");
    }
}
