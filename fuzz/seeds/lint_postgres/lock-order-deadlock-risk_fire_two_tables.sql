-- orders references customers: inserting an order also locks the customer row it points at.
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE customers ADD COLUMN loyalty_tier text;
-- A second, linked table under ACCESS EXCLUSIVE while customers is still locked.
ALTER TABLE orders ADD COLUMN loyalty_points integer;
COMMIT;
