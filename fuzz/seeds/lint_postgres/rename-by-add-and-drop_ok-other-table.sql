-- The added column belongs to another table.
ALTER TABLE accounts ADD COLUMN contact_email text;
ALTER TABLE users DROP COLUMN email;
