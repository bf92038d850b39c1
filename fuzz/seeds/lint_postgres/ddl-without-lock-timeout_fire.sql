-- +goose Up
-- Reported once, at the first statement that needs a strong lock on an existing table.
CREATE TABLE order_notes (id bigint PRIMARY KEY, order_id bigint NOT NULL, body text NOT NULL);
ALTER TABLE orders ADD COLUMN note_count int;
CREATE INDEX orders_note_count_idx ON orders (note_count);
