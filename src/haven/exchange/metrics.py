"""Prometheus metrics of the exchanges (scraped at `/metrics` with the others)."""

from __future__ import annotations

from prometheus_client import Counter

ENTRIES_FETCHED = Counter("haven_exchange_entries_fetched_total", "Exchange entries applied", ["kind"])
FETCH_FAILURES = Counter("haven_exchange_fetch_failures_total", "Exchange fetches that failed", ["code"])
FEEDBACK_SENT = Counter("haven_exchange_feedback_sent_total", "Feedback sent to exchanges", ["kind", "sentiment"])
RETRO_MATCHES = Counter("haven_exchange_retro_matches_total", "Past uploads matched by new bank entries")
