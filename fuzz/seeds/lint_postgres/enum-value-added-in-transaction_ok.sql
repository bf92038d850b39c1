-- Outside a transaction block, the value is committed at once.
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;

-- Added in one transaction, used in the next.
BEGIN;
ALTER TYPE order_status ADD VALUE 'disputed';
COMMIT;
BEGIN;
UPDATE orders SET status = 'disputed' WHERE chargeback_at IS NOT NULL;
COMMIT;

-- Added inside a transaction (allowed since PostgreSQL 12) and not used before COMMIT.
BEGIN;
ALTER TYPE order_status ADD VALUE 'on_hold';
UPDATE orders SET note = 'on hold' WHERE id = 42;
COMMIT;
