-- fixture-path: 0003_email.up.sql
ALTER TABLE users ADD COLUMN email varchar(255);
