-- The unique index is built under ACCESS EXCLUSIVE.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

-- A primary key added to an existing table.
ALTER TABLE order_items ADD PRIMARY KEY (order_id, line_no);
