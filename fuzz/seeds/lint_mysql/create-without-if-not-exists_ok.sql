-- The re-runnable forms.
CREATE DATABASE IF NOT EXISTS reporting;
CREATE TABLE IF NOT EXISTS billing.invoices (id BIGINT PRIMARY KEY, total DECIMAL(12, 2) NOT NULL);

-- MySQL (unlike MariaDB) has no IF NOT EXISTS for these.
CREATE INDEX idx_invoices_total ON billing.invoices (total);
ALTER TABLE customers ADD COLUMN billing_email VARCHAR(255) NULL;

-- Dropped first in the same file: already re-runnable.
DROP TABLE IF EXISTS report_cache;
CREATE TABLE report_cache (cache_key VARCHAR(191) PRIMARY KEY, value JSON);

-- Session-local.
CREATE TEMPORARY TABLE import_rows (id BIGINT, payload JSON);
