"""Strike arithmetic under a frozen clock: expiry, first offences, thresholds, zero tolerance,
warnings without strikes, and overturned decisions removing their strikes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from haven.accounts.models import Account
from haven.core import clock
from haven.core.clock import new_id
from haven.core.db import Database
from haven.enforce.decisions import DecisionInput, apply, overturn
from haven.enforce.ladder import StrikeView, active_points, assess, load_ladder, parse_ladder
from haven.enforce.models import EnforcementAction, Strike

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

LADDER = """
severities:
  warning: {strike: 0, first_offence: 0, expiry_days: null}
  low: {strike: 1, first_offence: 0, expiry_days: 30}
  medium: {strike: 2, first_offence: 1, expiry_days: 60}
  severe: {strike: 10, first_offence: 10, expiry_days: null}
categories:
  adult_nudity: low
  other: medium
  ncii: medium
  obscene_to_minor: medium
  grooming: severe
  csam: severe
  csam_generated: severe
  sextortion: severe
  child_trafficking: severe
thresholds:
  - {points: 2, action: restrict, features: [messaging], duration_days: 3}
  - {points: 4, action: suspend, duration_days: 7}
  - {points: 6, action: terminate}
"""


def test_points_expire_and_thresholds_are_crossed_once() -> None:
    cfg = parse_ladder(LADDER)
    strikes: list[StrikeView] = []
    seen: list[str] = []

    def violate(category: str, at: datetime) -> str:
        out = assess(cfg, category, strikes, at, prior_in_category=seen.count(category))
        seen.append(category)
        if out.points_added:
            strikes.append(StrikeView(category, out.points_added, at, out.strike_expires_at))
        return f"{out.action}:{out.points_before}->{out.points_after}"

    # First offence of a low category: a warning without a strike.
    assert violate("adult_nudity", T0) == "warning:0->0"
    assert strikes == []
    # Then 1 point each, expiring after 30 days.
    assert violate("adult_nudity", T0 + timedelta(days=1)) == "warning:0->1"
    assert violate("adult_nudity", T0 + timedelta(days=2)) == "restrict:1->2"
    assert violate("adult_nudity", T0 + timedelta(days=3)) == "warning:2->3"  # threshold 2 already crossed
    # 30 days after the first strike (day 1) it has expired; those of days 2 and 3 still count.
    at = T0 + timedelta(days=31, hours=12)
    assert active_points(strikes, at) == 2
    # A medium first offence (1 point) now lands on 3: no threshold crossed.
    assert violate("other", at) == "warning:2->3"
    # The next medium one is 2 points: 3 -> 5 crosses 4 (suspend for 7 days).
    out = assess(cfg, "other", strikes, at + timedelta(hours=1), prior_in_category=1)
    assert (out.action, out.points_after, out.duration_days) == ("suspend", 5, 7)
    assert out.strike_expires_at == at + timedelta(hours=1, days=60)
    # After everything has expired, the account is back to zero.
    assert active_points(strikes, T0 + timedelta(days=200)) == 0
    # Zero tolerance terminates at once, whatever the points.
    zt = assess(cfg, "csam", [], T0)
    assert zt.action == "terminate" and zt.zero_tolerance


def test_a_jump_over_several_thresholds_takes_the_highest() -> None:
    cfg = parse_ladder(LADDER)
    prior = [StrikeView("other", 1, T0, None)]
    out = assess(cfg, "other", prior, T0, severity="severe")
    assert out.points_after == 11 and out.action == "terminate"


def test_the_shipped_ladder_is_valid_and_bad_ones_are_refused() -> None:
    cfg = load_ladder()
    assert cfg.categories["csam"] == "severe"
    with pytest.raises(ValueError, match="categories without a severity"):
        parse_ladder("severities: {a: {strike: 1, first_offence: 1}}\ncategories: {csam: a}\nthresholds: []")
    with pytest.raises(ValueError, match="increasing"):
        parse_ladder(LADDER.replace("points: 4", "points: 1"))


def test_strikes_in_the_database_expire_and_overturns_remove_them(db: Database) -> None:
    with clock.frozen(T0), db.session() as s:
        s.add(Account(id="a1"))
        s.flush()
        d1 = apply(
            s, DecisionInput("review", new_id(), "account", "a1", "ncii", "a1", deciders=["staff:r"]), actor="staff:r"
        )
        clock.advance(timedelta(days=1))
        d2 = apply(
            s, DecisionInput("review", new_id(), "account", "a1", "ncii", "a1", deciders=["staff:r"]), actor="staff:r"
        )
        assert (d1.ladder["points_after"], d2.ladder["points_after"]) == (3, 7)
        assert d2.ladder["action"] == "suspend"
        assert s.get(Account, "a1").state == "suspended"  # type: ignore[union-attr]
        action = s.scalar(select(EnforcementAction).where(EnforcementAction.decision_id == d2.id))
        assert action is not None and action.until == T0 + timedelta(days=31)
        # Overturning the second decision removes its strike and lifts the suspension.
        overturn(s, d2, actor="staff:senior", reason="wrong person")
        assert s.get(Account, "a1").state == "restricted"  # type: ignore[union-attr]  (d1's restriction stands)
        active = [x for x in s.scalars(select(Strike)) if x.removed_at is None]
        assert [x.points for x in active] == [3]
        # d1's restriction (3 days) has ended: the state follows the clock.
        clock.advance(timedelta(days=20))
        from haven.enforce.decisions import sync_account_state

        assert sync_account_state(s, "a1", actor="system:haven", reason="test") == ("restricted", "active")
        # d1's strike (high: 365 days) still counts; after a year it is gone.
        from haven.enforce.strikes import standing

        assert standing(s, "a1")[0] == 3
        clock.advance(timedelta(days=365))
        assert standing(s, "a1") == (0, 1)  # no points; one decision that stands
