REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
REINDEX TABLE CONCURRENTLY public.users;
REINDEX (VERBOSE) SCHEMA CONCURRENTLY billing;

-- A table created in this migration.
CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);
REINDEX TABLE coupons;
