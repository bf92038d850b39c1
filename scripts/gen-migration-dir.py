#!/usr/bin/env python3
"""Writes a Flyway-style migration directory of N files (default 10,000) for benchmarking
`sluice lint` on a long history: 500 tables created first, then column additions with concurrent
indexes, varchar widenings and new tables with foreign keys, round-robin over those tables.

usage: scripts/gen-migration-dir.py OUT_DIR [N]
"""
import os
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
os.makedirs(out, exist_ok=True)
for i in range(1, n + 1):
    t = f"t{i % 500}"
    if i <= 500:
        sql = f"CREATE TABLE {t} (id bigint PRIMARY KEY, name varchar(20) NOT NULL, created_at timestamptz DEFAULT now());\n"
    elif i % 3 == 0:
        sql = f"ALTER TABLE {t} ADD COLUMN c{i} int;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS {t}_c{i}_idx ON {t} (c{i});\n"
    elif i % 3 == 1:
        sql = f"ALTER TABLE {t} ALTER COLUMN name TYPE varchar({20 + i});\n"
    else:
        sql = f"CREATE TABLE x{i} (id bigint PRIMARY KEY, {t}_id bigint REFERENCES {t}(id));\nCREATE INDEX ON x{i} ({t}_id);\n"
    with open(os.path.join(out, f"V{i}__m{i}.sql"), "w") as f:
        f.write(sql)
