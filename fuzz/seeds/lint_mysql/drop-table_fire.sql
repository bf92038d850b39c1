-- Retire the legacy invoices table: its rows are gone for good, and the application version
-- still running during the deploy keeps querying it.
DROP TABLE legacy_invoices;

-- Several tables in one statement: one finding per table.
DROP TABLE IF EXISTS `login_attempts`, password_reset_tokens;
