SET lock_timeout = '5s';
-- The budget is stated.
SET statement_timeout = '2h';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
-- No limit on purpose, for work that does not block traffic.
SET statement_timeout = 0;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
