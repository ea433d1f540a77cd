"""Imports every module that subscribes to ledger events (see `haven.core.ledger.subscribe`),
so that both the API (which records events) and the worker (which runs subscribers) know them.

Each capability adds one import line here when it subscribes to events.
"""

# Each import registers subscribers: enforcement of decisions; review tasks from intake verdicts;
# CyberTipline cases from review decisions; scrubbing report copies when evidence is purged;
# review tasks from appeals, user reports and flagged conversations.
import haven.cybertip.retention
import haven.cybertip.subscriber
import haven.enforce.subscribers
import haven.review.inbound
import haven.review.subscriber  # noqa: F401
