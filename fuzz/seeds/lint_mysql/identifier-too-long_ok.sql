-- Exactly 64 characters is fine.
CREATE INDEX idx_customer_subscription_events_on_customer_id_and_created_at_x
    ON customer_subscription_events (customer_id, created_at);

CREATE TABLE customer_subscription_plan_changes (
    id BIGINT PRIMARY KEY,
    previous_plan_id BIGINT
);
