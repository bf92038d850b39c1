-- sluice:ignore drop-table, drop-column: legacy
DROP TABLE a;
