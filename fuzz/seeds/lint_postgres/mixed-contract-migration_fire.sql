-- sluice:phase contract: no release since 42 reads legacy_login
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN legacy_login;
ALTER TABLE users ADD COLUMN login_provider text;
CREATE INDEX CONCURRENTLY users_login_provider_idx ON users (login_provider);
