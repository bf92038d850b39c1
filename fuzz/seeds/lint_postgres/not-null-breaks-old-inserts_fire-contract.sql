-- sluice:phase contract: every release since 42 writes the currency.
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
