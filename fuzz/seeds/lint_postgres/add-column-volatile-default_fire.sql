-- A volatile default is computed for every existing row: full rewrite.
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();

-- clock_timestamp() differs per row, unlike now().
ALTER TABLE users ADD COLUMN imported_at timestamptz DEFAULT clock_timestamp();

-- serial / identity columns number every existing row.
ALTER TABLE accounts ADD COLUMN seq bigserial;
ALTER TABLE payments ADD COLUMN line_no int GENERATED ALWAYS AS IDENTITY;

-- A stored generated column is computed for every row.
ALTER TABLE users ADD COLUMN email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED;
