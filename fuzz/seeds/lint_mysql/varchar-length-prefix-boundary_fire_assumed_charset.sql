-- utf8mb4, the MySQL 8.0 server default, is assumed: 40 x 4 = 160 bytes becomes 320.
ALTER TABLE `notes` MODIFY `title` VARCHAR(80) NOT NULL;
