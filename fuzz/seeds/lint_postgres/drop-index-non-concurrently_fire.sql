-- The index of a busy table: the plain drop locks `orders` against reads and writes.
DROP INDEX orders_status_idx;

-- IF EXISTS and a schema do not change the lock.
DROP INDEX IF EXISTS public.users_last_login_idx;

-- Several indexes in one statement: CONCURRENTLY only takes one, so no automatic fix.
DROP INDEX accounts_owner_idx, accounts_created_at_idx;

-- CASCADE is refused with CONCURRENTLY: no automatic fix either.
DROP INDEX payments_reference_idx CASCADE;
