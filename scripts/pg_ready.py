"""Exit 0 when the PostgreSQL server of the given SQLAlchemy URL answers, 1 otherwise."""

import sys

import psycopg

url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
try:
    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("select 1")
except Exception:
    sys.exit(1)
sys.exit(0)
