"""Rule-set versions in the database: install, activate, promote, and the active set screening
decides with.

When no rule set has been installed, the default rules shipped with Haven apply, so a fresh
install behaves exactly as documented. Parsed rule sets are cached by row id (rows never change:
promotion adds a row), which keeps intake to one small query per item.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from haven.core.errors import Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.policy import Decision, PolicyInput, evaluate
from haven.policy.rules import RulesError, RuleSet, parse
from haven.policy.shipped import default_rules_text, default_ruleset
from haven.screening.models import PolicyRuleset
from haven.terms.models import TermsVersion

_lock = threading.Lock()


@lru_cache(maxsize=64)
def _parsed(row_id: str, source: str, promoted: tuple[str, ...]) -> RuleSet:
    return parse(source, promoted=promoted)


def active_ruleset(session: Session) -> RuleSet:
    """The rule set intake decides with: the active installed version, else the shipped default."""
    row = session.execute(
        select(PolicyRuleset.id, PolicyRuleset.source, PolicyRuleset.promoted).where(PolicyRuleset.active.is_(True))
    ).first()
    if row is None:
        return default_ruleset()
    return _parsed(row.id, row.source, tuple(row.promoted or ()))


def _validated(text: str, promoted: tuple[str, ...] = ()) -> RuleSet:
    try:
        return parse(text, promoted=promoted)
    except RulesError as exc:
        raise Invalid(
            f"the rules do not pass the check: {exc.problems[0]}",
            code="invalid_rules",
            details={"problems": exc.problems},
        ) from None


def install(session: Session, text: str, *, actor: str, activate: bool = True) -> PolicyRuleset:
    """Store a new rule-set version (checked first); its terms version must be published, if any are."""
    rs = _validated(text)
    has_terms = session.scalar(select(func.count()).select_from(TermsVersion)) or 0
    if has_terms and session.scalar(select(TermsVersion).where(TermsVersion.version == rs.terms_version)) is None:
        raise Invalid(
            f"the rules enforce terms version '{rs.terms_version}', which is not published",
            code="unknown_terms_version",
        )
    return _add(session, rs, text, (), actor=actor, activate=activate, why="install")


def _add(
    session: Session, rs: RuleSet, text: str, promoted: tuple[str, ...], *, actor: str, activate: bool, why: str
) -> PolicyRuleset:
    with _lock:
        revision = (session.scalar(select(func.max(PolicyRuleset.revision))) or 0) + 1
        if activate:
            session.execute(update(PolicyRuleset).values(active=False))
        row = PolicyRuleset(
            revision=revision,
            version=rs.version,
            terms_version=rs.terms_version,
            source=text,
            promoted=list(promoted),
            active=activate,
            created_by=actor,
        )
        session.add(row)
        session.flush()
    shadow = [r.name for r in rs.rules if r.mode == "shadow"]
    record_event(
        session,
        "policy.rules_installed" if why == "install" else "policy.rule_promoted",
        subject_type="policy_ruleset",
        subject_id=row.id,
        actor=actor,
        data={
            "revision": revision,
            "version": rs.version,
            "active": activate,
            "promoted": list(promoted),
            "shadow": shadow,
        },
    )
    audit(session, actor=actor, action=f"policy.{why}", object_type="policy_ruleset", object_id=row.id)
    return row


def current_row(session: Session) -> PolicyRuleset | None:
    return session.scalar(select(PolicyRuleset).where(PolicyRuleset.active.is_(True)))


def promote(session: Session, rule_name: str, *, actor: str) -> PolicyRuleset:
    """Make a shadow rule of the active set take effect, as a new revision."""
    row = current_row(session)
    if row is None:
        row = install(session, default_rules_text(), actor=actor)
    rs = _parsed(row.id, row.source, tuple(row.promoted or ()))
    rule = next((r for r in rs.rules if r.name == rule_name), None)
    if rule is None:
        raise NotFound(f"no rule '{rule_name}' in the active rules", code="rule_not_found")
    if rule.mode != "shadow":
        raise Invalid(f"rule '{rule_name}' is already active", code="rule_not_shadow")
    promoted = (*tuple(row.promoted or ()), rule_name)
    new = _validated(row.source, promoted)
    return _add(session, new, row.source, promoted, actor=actor, activate=True, why="promote")


def decide(session: Session, inp: PolicyInput, *, near_band: int | None = None) -> Decision:
    """Decide with the active rule set (the installed one, else the default shipped with Haven)."""
    return evaluate(active_ruleset(session), inp, near_band=near_band)
