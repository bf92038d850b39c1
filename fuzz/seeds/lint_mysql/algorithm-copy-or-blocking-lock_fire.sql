SET SESSION lock_wait_timeout = 5;

-- An explicit copy: the index could be built in place, but writes to `orders` wait for the
-- whole copy instead.
ALTER TABLE `orders` ADD INDEX `idx_orders_created_at` (`created_at`), ALGORITHM=COPY;

-- LOCK=SHARED keeps reads going but blocks every write for the whole operation.
ALTER TABLE `orders` ADD COLUMN `gift_note` VARCHAR(255) NULL, LOCK=SHARED;

-- CREATE INDEX with an exclusive lock blocks reads as well.
CREATE INDEX `idx_orders_status` ON `orders` (`status`) LOCK=EXCLUSIVE;

-- Both clauses on one statement: each one is reported.
CREATE INDEX `idx_orders_customer` ON `orders` (`customer_id`) ALGORITHM=COPY LOCK=SHARED;
