ALTER TABLE events DETACH PARTITION events_2023_01 CONCURRENTLY;
ALTER TABLE events DETACH PARTITION events_2023_02 FINALIZE;

-- A partitioned table created in this migration.
CREATE TABLE metrics (id bigint, recorded_at date NOT NULL) PARTITION BY RANGE (recorded_at);
CREATE TABLE metrics_2024 PARTITION OF metrics FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE metrics DETACH PARTITION metrics_2024;
