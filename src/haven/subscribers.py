"""Imports every module that subscribes to ledger events (see `haven.core.ledger.subscribe`),
so that both the API (which records events) and the worker (which runs subscribers) know them.

Each capability adds one import line here when it subscribes to events.
"""

import haven.enforce.subscribers  # noqa: F401
