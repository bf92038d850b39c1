SET SESSION lock_wait_timeout = 5;

-- Literal defaults and CURRENT_TIMESTAMP are instant.
ALTER TABLE `orders` ADD COLUMN `priority` TINYINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE `orders` ADD COLUMN `synced_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- A VIRTUAL generated column stores nothing and is instant.
ALTER TABLE `order_items`
  ADD COLUMN `line_total` DECIMAL(12,2) AS (`quantity` * `unit_price`) VIRTUAL;

-- A table created in this migration.
CREATE TABLE `api_keys` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE `api_keys` ADD COLUMN `token` CHAR(36) NOT NULL DEFAULT (UUID());
