ALTER TABLE `orders` MODIFY COLUMN `status` ENUM('new','shipped') NOT NULL DEFAULT 'new';
