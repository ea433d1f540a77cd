"""Screening: the one pipeline every door goes through.

`screen()` (`pipeline.py`) turns an item's signals into hits, scores with priority and a policy
decision, reading only the match index and the account view; `settle()` (`settle.py`) records
the outcome and is the only writer of `content.received`, `content.verdict` and
`content.enforcement_requested`. Uploads, hash lookups, the deferred video worker (`video.py`),
the deferred image classifiers (`deferred.py`) and `haven scan` all use them. The rule-set
store (`rulesets.py`), content records, the match log and the encrypted quarantine
(`models.py`, `quarantine.py`) belong here too.
"""

from haven.core.capability import Capability

CAPABILITY = Capability(
    name="screening",
    summary="One pipeline from signals to a verdict, and the only writer of verdict events.",
    models=("haven.screening.models",),
    data=("haven.screening.data_inventory",),
    jobs=("haven.screening.video",),
    cli=(
        ("hash", "haven.screening.cli:hash_command"),
        ("scan", "haven.screening.cli:scan_command"),
        ("policy", "haven.screening.cli:policy_app"),
    ),
)
