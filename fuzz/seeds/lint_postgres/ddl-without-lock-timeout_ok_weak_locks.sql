-- Only new tables, concurrent builds and weak locks: no ordinary traffic queues behind these.
CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);
ALTER TABLE invoices ADD COLUMN due_date date;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
UPDATE users SET locale = 'en' WHERE locale IS NULL;
