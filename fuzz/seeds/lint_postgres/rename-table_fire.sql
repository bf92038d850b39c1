-- Every query of the running application on `orders` fails after this.
ALTER TABLE orders RENAME TO purchase_orders;

-- IF EXISTS and a schema do not change anything.
ALTER TABLE IF EXISTS billing.invoice RENAME TO invoices;
