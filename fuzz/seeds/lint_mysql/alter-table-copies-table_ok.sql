SET SESSION lock_wait_timeout = 5;

-- Online operations.
ALTER TABLE `orders` ADD COLUMN `gift_note` VARCHAR(255) NULL;
ALTER TABLE `orders` ADD INDEX `idx_orders_created_at` (`created_at`);
ALTER TABLE `orders` RENAME COLUMN `note` TO `internal_note`;
ALTER TABLE `orders` ALTER COLUMN `status` SET DEFAULT 'new';
ALTER TABLE `order_items` DROP PRIMARY KEY, ADD PRIMARY KEY (`order_id`, `line_no`);

-- The copy is stated explicitly: nothing silent about it.
ALTER TABLE `orders` MODIFY COLUMN `quantity` BIGINT NOT NULL, ALGORITHM=COPY;

-- With LOCK=NONE the server refuses to block writes instead of copying silently.
ALTER TABLE `orders` MODIFY COLUMN `quantity` BIGINT NOT NULL, LOCK=NONE;

-- A table created in this migration.
CREATE TABLE `shipments` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `order_id` BIGINT UNSIGNED NOT NULL,
  `carrier` VARCHAR(32) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE `shipments` MODIFY COLUMN `carrier` VARCHAR(64) NOT NULL;

-- Reported by their own rules (add-column-expression-default, convert-table-charset,
-- drop-primary-key), not twice.
ALTER TABLE `customers` ADD COLUMN `full_name` VARCHAR(255) AS (CONCAT(`first_name`, ' ', `last_name`)) STORED;
ALTER TABLE `comments` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
ALTER TABLE `order_items` DROP PRIMARY KEY;
