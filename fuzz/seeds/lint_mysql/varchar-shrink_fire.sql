SET SESSION lock_wait_timeout = 5;
ALTER TABLE `profiles` MODIFY COLUMN `bio` VARCHAR(200) NULL;
