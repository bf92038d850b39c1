-- 62 bytes.
CREATE INDEX customer_subscription_events_customer_id_created_at_status_idx
    ON customer_subscription_events (customer_id, created_at, status);

CREATE TABLE customer_subscription_plan_changes (
    id bigint PRIMARY KEY,
    previous_plan_id bigint REFERENCES plans (id)
);
ALTER TABLE customer_subscription_plan_changes RENAME COLUMN previous_plan_id TO old_plan_id;

-- Exactly 63 bytes (58 characters) is fine.
ALTER TABLE produits ADD COLUMN "prix_réduit_après_remise_accordée_aux_clients_fidèles_élus" numeric(12, 2);
