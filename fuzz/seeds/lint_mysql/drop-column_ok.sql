CREATE TABLE staging_users (id BIGINT, tmp TEXT);
ALTER TABLE staging_users DROP COLUMN tmp;
ALTER TABLE users ADD COLUMN nickname VARCHAR(64) NULL;
