"""The pure derivation of the assured age and the protections that follow (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from haven.youth.assurance import SignalView, band_of_range, derive, threshold_range
from haven.youth.config import get_config
from haven.youth.protections import protections

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def sig(i: str, method: str, level: str, lo: int, hi: int | None, days_ago: float, **kw: object) -> SignalView:
    return SignalView(i, method, "p", level, lo, hi, NOW - timedelta(days=days_ago), **kw)  # type: ignore[arg-type]


def test_strongest_recent_wins_and_levels_are_capped() -> None:
    cfg = get_config()
    a = derive(cfg, [sig("1", "self_declaration", "strict", 18, None, 1)], NOW)
    assert (a.age_band, a.level) == ("adult", "asserted")  # a self-declaration is never more
    a = derive(
        cfg,
        [sig("1", "self_declaration", "asserted", 18, None, 1), sig("2", "facial_estimation", "enhanced", 13, 15, 2)],
        NOW,
    )
    assert (a.age_band, a.level, a.method, a.conflicts) == ("13_15", "enhanced", "facial_estimation", [])
    # Inference alone never decides.
    a = derive(cfg, [sig("1", "inference", "asserted", 13, 13, 0)], NOW)
    assert a.age_band == "unknown" and a.conflicts == ["1"]


def test_conflicts_lower_the_level_and_ask_for_reassurance() -> None:
    cfg = get_config()
    a = derive(
        cfg, [sig("1", "id_document", "strict", 18, None, 30), sig("2", "inference", "asserted", 13, 13, 1)], NOW
    )
    assert (a.age_band, a.level, a.conflicts) == ("adult", "enhanced", ["2"])
    a = derive(
        cfg,
        [sig("1", "id_document", "enhanced", 13, 15, 30), sig("2", "facial_estimation", "enhanced", 18, None, 40)],
        NOW,
    )
    assert a.level == "standard" and a.conflicts == ["2"]  # as strong, though older


def test_expiry() -> None:
    cfg = get_config()
    old = sig("1", "facial_estimation", "enhanced", 13, 15, 400)  # valid_days 365
    assert derive(cfg, [old], NOW).age_band == "unknown"
    own = sig("1", "id_document", "strict", 13, 15, 1, expires_at=NOW - timedelta(seconds=1))
    assert derive(cfg, [own], NOW).age_band == "unknown"


def test_thresholds_map_protectively() -> None:
    assert band_of_range(*threshold_range(None, 16)) == "13_15"
    assert band_of_range(*threshold_range(13, None)) == "13_15"
    assert band_of_range(*threshold_range(18, None)) == "adult"
    assert band_of_range(*threshold_range(None, 13)) == "under_13"


def test_region_rules() -> None:
    cfg = get_config()
    adult_self = derive(cfg, [sig("1", "self_declaration", "asserted", 18, None, 1)], NOW)
    assert protections(cfg, adult_self, None).settings["dm_from"] == "everyone"
    gb = protections(cfg, adult_self, "gb")
    assert (gb.profile, gb.access, gb.settings["dm_from"]) == ("unassured", "reassure", "connections")
    assert gb.rules["access"] == "region.GB.required_level"
    young = derive(cfg, [sig("1", "id_document", "strict", 13, 15, 1)], NOW)
    au = protections(cfg, young, "AU")
    assert au.access == "denied" and au.rules["access"] == "region.AU.minimum_age"


def test_purge_expired_keeps_what_still_counts(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from haven.youth.models import AgeSignal
    from haven.youth.service import purge_expired

    now = datetime.now(UTC)
    with db.session() as s:
        for i, (method, days) in enumerate(
            [("facial_estimation", 800), ("facial_estimation", 10), ("self_declaration", 900)]
        ):
            s.add(
                AgeSignal(
                    id=f"S{i}",
                    account_id="old-1",
                    method=method,
                    provider="p",
                    level="enhanced",
                    min_age=13,
                    max_age=15,
                    age_band="13_15",
                    observed_at=now - timedelta(days=days),
                    actor="test",
                )
            )
    with db.session() as s:
        assert purge_expired(s) == 1  # 800 days: 365 valid + 400 retention passed; a self-declaration never expires
    with db.session() as s:
        assert sorted(s.scalars(select(AgeSignal.id))) == ["S1", "S2"]


def test_cli_practice_statement() -> None:
    from typer.testing import CliRunner

    from haven.cli.main import app

    r = CliRunner().invoke(app, ["youth", "practice"])
    assert r.exit_code == 0 and "Age assurance practice statement" in r.output
