-- A dropped column and an added one of a different kind of type are not a rename.
ALTER TABLE users ADD COLUMN last_seen datetime;
ALTER TABLE users DROP COLUMN age;
ALTER TABLE accounts ADD COLUMN contact_email varchar(255);
