"""The rules shipped with Haven: what a fresh install decides with until a rule set is installed.
Reading a file inside the package is all it does (no database, no settings)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from haven.policy.rules import RuleSet, parse


def default_rules_text() -> str:
    return resources.files("haven.policy").joinpath("defaults/rules.yaml").read_text()


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The rules shipped with Haven (parsed once)."""
    return parse(default_rules_text())
