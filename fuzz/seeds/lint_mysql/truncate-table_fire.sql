-- Empties the sessions table: every user is logged out. TRUNCATE commits implicitly in
-- MySQL and cannot be rolled back.
TRUNCATE TABLE sessions;

-- The TABLE keyword is optional.
TRUNCATE page_views;
