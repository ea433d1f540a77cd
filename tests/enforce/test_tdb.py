"""Statements of reasons to the DSA Transparency Database: the export validates against the
documented schema, and the real client submits in batches of at most 100 to a local double."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from haven.accounts.models import Account
from haven.core import jobs
from haven.core.clock import new_id
from haven.core.db import Database
from haven.enforce import tdb
from haven.enforce.decisions import DecisionInput, apply
from haven.enforce.models import StatementOfReasons
from haven.enforce.settings import get_enforce_settings
from haven.screening.models import ContentItem
from tests.enforce.doubles import serve
from tests.enforce.tdb_double import TransparencyDatabase, errors_of

TOKEN = "tdb-token-for-tests"


def _decisions(db: Database, n: int, category: str = "adult_nudity") -> None:
    with db.session() as s:
        for i in range(n):
            acct = f"user-{i}@example.org"
            s.add(Account(id=acct))
            item = ContentItem(
                integration_id="i",
                media_kind="image",
                uploader=acct,
                verdict="allow",
                verdict_rule="no_match.allow",
                ip="192.0.2.1",
            )
            s.add(item)
            s.flush()
            apply(
                s,
                DecisionInput(
                    "review", new_id(), "content", item.id, category, acct, content_ids=[item.id], deciders=["staff:r1"]
                ),
                actor="staff:r1",
            )


@pytest.fixture
def tdb_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    double = TransparencyDatabase(TOKEN)
    with serve(double.app()) as url:
        monkeypatch.setenv("HAVEN_TDB_URL", url)
        monkeypatch.setenv("HAVEN_TDB_TOKEN", TOKEN)
        get_enforce_settings.cache_clear()
        yield double
    get_enforce_settings.cache_clear()


@pytest.mark.parametrize("category", ["csam", "grooming", "ncii", "adult_nudity", "other"])
def test_every_category_exports_a_valid_statement_without_personal_data(db: Database, category: str) -> None:
    _decisions(db, 2, category)
    with db.session() as s:
        rows = tdb.pending(s, 100)
        assert len(rows) == 2
        for r in rows:
            assert errors_of(r.fields) == {}, r.fields
            assert tdb.validate(r.fields) == []
            text = json.dumps(r.fields)
            assert "example.org" not in text and "192.0.2.1" not in text and r.account_id not in text
        assert len({r.puid for r in rows}) == 2


def test_the_documented_schema_refuses_what_it_should() -> None:
    good = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "x",
        "illegal_content_explanation": "y",
        "content_type": ["CONTENT_TYPE_IMAGE"],
        "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "content_date": "2026-01-02",
        "application_date": "2026-01-02",
        "decision_facts": "f",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": "haven-1",
    }
    assert errors_of(good) == {} and tdb.validate(good) == []
    for change in (
        {"category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"},
        {"puid": "has space"},
        {"content_date": "1999-12-31"},
        {"automated_detection": True},
        {"decision_visibility": []},
        {"illegal_content_legal_ground": None},
        {"decision_facts": "x" * 5001},
    ):
        bad = {k: v for k, v in (good | change).items() if v is not None}
        assert errors_of(bad) and tdb.validate(bad), change


def test_submission_in_batches_with_retry_and_duplicates(db: Database, tdb_env: TransparencyDatabase) -> None:
    _decisions(db, 130)
    tdb_env.fail_next = 1
    with db.session() as s:
        # the scheduled submission job exists (one per minute window)
        assert s.scalar(select(jobs.Job.id).where(jobs.Job.kind == tdb.JOB_KIND)) is not None
        s.execute(update(jobs.Job).values(run_at=jobs.now()))
    for _ in range(6):
        with db.session() as s:
            s.execute(update(jobs.Job).where(jobs.Job.status == "queued").values(run_at=jobs.now()))
        jobs.work(db, once=True, kinds=[tdb.JOB_KIND])
    assert tdb_env.calls == [100, 30]  # after one 503, batches of at most 100
    with db.session() as s:
        rows = s.scalars(select(StatementOfReasons)).all()
        assert {r.tdb_status for r in rows} == {"submitted"} and all(r.tdb_uuid for r in rows)
        assert len(tdb_env.stored) == 130
        # A statement whose earlier submission was stored but not recorded is not sent under a new puid.
        one = rows[0]
        one.tdb_status = "pending"
    with db.session() as s:
        client = tdb.client_from_settings()
        assert client is not None and client.exists(one.puid)
        counts = tdb.submit_pending(s, client)
        assert counts["submitted"] == 1 and len(tdb_env.stored) == 130
        assert s.get(StatementOfReasons, one.id).tdb_status == "submitted"  # type: ignore[union-attr]


def test_cli_export_writes_valid_json(db: Database, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.cli.main import app
    from haven.core.settings import get_settings

    _decisions(db, 3)
    monkeypatch.setenv("HAVEN_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        out = tmp_path / "sor.json"
        res = CliRunner().invoke(app, ["dsa", "export", "--out", str(out)])
        assert res.exit_code == 0, res.output
        doc = json.loads(out.read_text())
        assert len(doc["statements"]) == 3 and all(errors_of(st) == {} for st in doc["statements"])
    finally:
        get_settings.cache_clear()


def test_statement_fields_for_each_kind_of_restriction() -> None:
    from datetime import UTC, date, datetime

    from haven.enforce.models import EnforcementDecision
    from haven.enforce.statements import Restriction, build_fields

    d = EnforcementDecision(
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
        deciders=[],
        created_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    until = datetime(2026, 7, 31, tzinfo=UTC)

    def fields(*rs: Restriction, kinds: list[str] | None = None) -> dict[str, Any]:
        return build_fields(
            d,
            list(rs),
            puid="haven-x",
            content_kinds=kinds or [],
            content_date=date(2026, 6, 30),
            terms_url="https://haven.example/terms/1",
        )

    suspended = fields(Restriction("account.suspend", until=until))
    assert suspended["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert suspended["end_date_account_restriction"] == "2026-07-31"
    assert suspended["content_type"] == ["CONTENT_TYPE_OTHER"] and suspended["content_type_other"] == "account"
    assert suspended["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"  # NCII is illegal (EU 2024/1385)
    paid = fields(
        Restriction("account.restrict", until=until, features=("payments", "messaging")),
        Restriction("content.remove", count=2),
        kinds=["text", "image"],
    )
    assert paid["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert paid["decision_monetary"] == "DECISION_MONETARY_SUSPENSION"
    assert paid["end_date_monetary_restriction"] == "2026-07-31"
    assert paid["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert paid["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_TEXT"]
    assert paid["source_type"] == "SOURCE_TRUSTED_FLAGGER" and "source_identity" not in paid
    d.category = "adult_nudity"
    tc = fields(Restriction("content.remove", count=1), kinds=["video"])
    assert tc["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert tc["incompatible_content_ground"] == "Terms of service, clause 4.2"
    assert tc["decision_ground_reference_url"] == "https://haven.example/terms/1#4.2"
    for st in (suspended, paid, tc):
        assert errors_of(st) == {} and tdb.validate(st) == []
