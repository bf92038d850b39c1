# sluice:ignore rename-table:reason: with: colons
RENAME TABLE a TO b;
