"""Users see a pseudonymous reviewer handle, never a staff e-mail or id (issue 16 item 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from haven.core.handles import handles, resolve, reviewer_handle
from haven.enforce.models import EnforcementDecision
from haven.enforce.statements import Restriction, build_fields, render


def _decision(deciders: list[str]) -> EnforcementDecision:
    return EnforcementDecision(
        id="d1",
        source="review",
        source_ref="r",
        subject_type="account",
        subject_id="a",
        account_id="a",
        category="ncii",
        content_ids=[],
        automated_detection=False,
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        source_type="SOURCE_TRUSTED_FLAGGER",
        deciders=deciders,
        created_at=datetime(2026, 7, 1, tzinfo=UTC),
    )


def _render(d: EnforcementDecision, locale: str = "en") -> tuple[str, str, str]:
    rs = [Restriction("content.remove", count=1)]
    fields = build_fields(
        d,
        rs,
        puid="p",
        content_kinds=["image"],
        content_date=date(2026, 6, 30),
        terms_url="https://haven.example/terms/1",
    )
    return render(d, rs, fields, locale=locale, puid="p", terms_url="https://haven.example/terms/1", ladder=None)


def test_handle_is_stable_distinct_and_resolvable_by_staff() -> None:
    a, b = reviewer_handle("staff:01STAFFA"), reviewer_handle("staff:01STAFFB")
    assert a == reviewer_handle("01STAFFA") and a != b and a.startswith("R-") and len(a) == 8
    assert "01STAFFA" not in a
    assert handles(["rule:known-csam", "staff:01STAFFB", "staff:01STAFFA"]) == sorted([a, b])
    assert resolve(b, ["01STAFFA", "01STAFFB"]) == "01STAFFB"


def test_statement_names_the_reviewer_by_handle_only() -> None:
    _, text, html = _render(_decision(["integration:x", "staff:01STAFFREVIEWER"]))
    handle = reviewer_handle("staff:01STAFFREVIEWER")
    assert f"Reviewed by {handle}" in text and handle in html
    assert "01STAFFREVIEWER" not in text + html
    _, es_text, _ = _render(_decision(["staff:01STAFFREVIEWER"]), "es")
    assert f"Revisado por {handle}" in es_text
    _, automated, _ = _render(_decision(["rule:known-csam"]))
    assert "Reviewed by" not in automated
