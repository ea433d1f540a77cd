"""Shared core: settings, database, ids and clocks, errors, auth, ledger, jobs."""
