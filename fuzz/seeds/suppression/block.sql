/* sluice:ignore-file truncate-table */
TRUNCATE t;
