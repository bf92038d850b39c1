-- Moves the data files: a full copy under ACCESS EXCLUSIVE.
ALTER TABLE events SET TABLESPACE fast_ssd;

-- Switching persistence copies the table too (SET LOGGED also WAL-logs all of it).
ALTER TABLE import_batches SET LOGGED;
ALTER TABLE session_cache SET UNLOGGED;
