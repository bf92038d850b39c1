-- A schema created and dropped by the same migration.
CREATE SCHEMA IF NOT EXISTS tmp_import;
CREATE TABLE tmp_import.rows (id bigint, payload jsonb);
DROP SCHEMA tmp_import CASCADE;

-- Dropping one table of a schema is another rule's business.
DROP TABLE IF EXISTS reporting.daily_totals;

-- Suppressed with the reason.
-- sluice:ignore drop-schema-or-database: reporting moved to the warehouse in release 42
DROP SCHEMA IF EXISTS reporting;
