-- Index « customer_id » unless a previous run already did.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'orders_customer_id_idx') THEN
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
  END IF;
END
$$;
