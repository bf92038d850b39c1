-- fixture-path: 0002_nickname.up.sql
-- The down file of version 2 exists.
ALTER TABLE users ADD COLUMN nickname varchar(40);
