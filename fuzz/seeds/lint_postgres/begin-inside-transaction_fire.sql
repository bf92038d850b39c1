BEGIN;
ALTER TABLE orders ADD COLUMN note text;

-- The outer transaction is still open: this BEGIN is ignored, and the COMMIT below ends the
-- outer transaction early, so the UPDATE after it runs on its own.
BEGIN;
ALTER TABLE orders ADD COLUMN note_updated_at timestamptz;
COMMIT;

UPDATE orders SET note = '' WHERE id = 1;
COMMIT;

-- START TRANSACTION is the same statement.
START TRANSACTION;
START TRANSACTION ISOLATION LEVEL SERIALIZABLE;
COMMIT;
