SET SESSION lock_wait_timeout = 5;

-- Giving a keyless log table a surrogate key: every row is numbered during a rebuild that
-- blocks writes.
ALTER TABLE `audit_log` ADD COLUMN `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;

-- AUTO_INCREMENT needs a key; a UNIQUE one counts.
ALTER TABLE `page_views` ADD COLUMN `seq` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE;
