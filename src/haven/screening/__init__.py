"""Screening: the one pipeline every door goes through.

`screen()` (`pipeline.py`) turns an item's signals into hits, scores with priority and a policy
decision, reading only the match index and the account view; `settle()` (`settle.py`) records
the outcome and is the only writer of `content.received`, `content.verdict` and
`content.enforcement_requested`. Uploads, hash lookups, the deferred video worker (`video.py`)
and `haven scan` all use them. The rule-set store (`rulesets.py`), content records, the match
log and the encrypted quarantine (`models.py`, `quarantine.py`) belong here too.
"""
