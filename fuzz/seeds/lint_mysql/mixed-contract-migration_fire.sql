-- sluice:phase contract
ALTER TABLE users DROP COLUMN legacy_login, ADD COLUMN login_provider varchar(20);
