"""Signature verification as a receiver does it, scheduled expiry of suspensions and holds under a
frozen clock, and the operator commands."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from haven.accounts.models import Account
from haven.core import clock, jobs
from haven.core.clock import new_id
from haven.core.db import Database
from haven.core.models import Job
from haven.enforce import sign, statements, verify
from haven.enforce.decisions import DecisionInput, apply
from haven.enforce.models import Delivery, StatementOfReasons
from haven.screening.models import ContentItem

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_signature_verification() -> None:
    body = b'{"id":"1","type":"content.remove"}'
    ts = int(time.time())
    header = sign("s3cret-s3cret-s3cret", body, ts)
    assert header.startswith(f"t={ts},v1=") and len(header.split("v1=")[1]) == 64
    assert verify("s3cret-s3cret-s3cret", header, body)
    assert not verify("s3cret-s3cret-s3cret", header, body + b" ")  # tampered body
    assert not verify("another-secret-value", header, body)  # wrong secret
    assert not verify("s3cret-s3cret-s3cret", header, body, at=ts + 301)  # stale: replay refused
    assert not verify("s3cret-s3cret-s3cret", "v1=abc", body)  # no timestamp
    rotated = f"{header},v1={sign('old-secret-old-secret', body, ts).split('v1=')[1]}"
    assert verify("old-secret-old-secret", rotated, body) and verify("s3cret-s3cret-s3cret", rotated, body)


def _due(db: Database) -> None:
    with db.session() as s:
        s.execute(update(Job).where(Job.status == "queued").values(run_at=clock.now()))


def test_restrictions_end_on_time_and_the_state_follows(db: Database) -> None:
    with clock.frozen(T0):
        with db.session() as s:
            s.add(Account(id="s1"))
            s.flush()
            apply(
                s,
                DecisionInput(
                    "review", new_id(), "account", "s1", "ncii", "s1", deciders=["staff:a"], severity="severe"
                ),
                actor="staff:a",
            )
            # a severity override of "severe" (10 points) reaches the termination threshold
        with db.session() as s:
            assert s.get(Account, "s1").state == "terminated"  # type: ignore[union-attr]
            s.add(Account(id="s2"))
            s.flush()
            apply(
                s,
                DecisionInput("review", new_id(), "account", "s2", "ncii", "s2", deciders=["staff:a"]),
                actor="staff:a",
            )  # 3 points: restrict 3 days
            assert s.get(Account, "s2").state == "restricted"  # type: ignore[union-attr]
        jobs.work(db, once=True, kinds=["enforce.expire_action"])  # not due yet
        with db.session() as s:
            assert s.get(Account, "s2").state == "restricted"  # type: ignore[union-attr]
        clock.advance(timedelta(days=3, seconds=1))
        _due(db)
        assert jobs.work(db, once=True, kinds=["enforce.expire_action"]) >= 1
        with db.session() as s:
            assert s.get(Account, "s2").state == "active"  # type: ignore[union-attr]
            assert s.get(Account, "s1").state == "terminated"  # type: ignore[union-attr]


def test_a_timed_hold_releases_its_statements(db: Database) -> None:
    with clock.frozen(T0):
        with db.session() as s:
            s.add(Account(id="h1"))
            item = ContentItem(
                integration_id="i", media_kind="video", uploader="h1", verdict="allow", verdict_rule="no_match.allow"
            )
            s.add(item)
            s.flush()
            statements.place_hold(
                s, account_id="h1", reference="LE-1", reason="", until=T0 + timedelta(days=10), actor="staff:legal"
            )
            apply(
                s,
                DecisionInput(
                    "review",
                    new_id(),
                    "content",
                    item.id,
                    "adult_nudity",
                    "h1",
                    content_ids=[item.id],
                    deciders=["staff:a"],
                ),
                actor="staff:a",
            )
        clock.advance(timedelta(days=11))
        _due(db)
        jobs.work(db, once=True, kinds=["enforce.release_hold"])
        with db.session() as s:
            st = s.scalar(select(StatementOfReasons))
            assert st is not None and st.notice_status == "delivered"
            assert st.fields["content_type"] == ["CONTENT_TYPE_VIDEO"]
            assert [d.action_type for d in s.scalars(select(Delivery).where(Delivery.action_type == "notice.deliver"))]


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    from haven.core.settings import get_settings

    monkeypatch.setenv("HAVEN_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db  # type: ignore[misc]
    get_settings.cache_clear()


def test_operator_commands(cli_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.cli.main import app

    run = CliRunner().invoke
    monkeypatch.setenv("HAVEN_WEBHOOK_SECRET", "cli-secret-0123456789")
    out = run(app, ["webhook", "set", "http://127.0.0.1:9/hooks"])
    assert out.exit_code == 0 and "cli-secret" not in out.output
    with cli_db.session() as s:
        s.add(Account(id="c1"))
        s.flush()
        d = apply(
            s, DecisionInput("review", new_id(), "account", "c1", "ncii", "c1", deciders=["staff:a"]), actor="staff:a"
        )
        s.execute(update(Delivery).values(status="dead"))
    dead = run(app, ["webhook", "list", "--status", "dead", "--json"])
    assert dead.exit_code == 0 and len(__import__("json").loads(dead.output)) == 2
    assert run(app, ["webhook", "replay", "--all"]).output.startswith("2 delivery")
    assert run(app, ["webhook", "replay"]).exit_code == 2
    with cli_db.session() as s:
        from haven.enforce.appeals import file

        appeal = file(s, decision_ref=d.id, appellant="c1", statement="no", actor="integration:x")
    same = run(app, ["appeal", "decide", appeal.id, "--reviewer", "staff:a", "--reason", "x", "--uphold"])
    assert same.exit_code == 2 and "other than the original" in same.output
    ok = run(app, ["appeal", "decide", appeal.id, "--reviewer", "staff:b", "--reason", "fine", "--uphold"])
    assert ok.exit_code == 0 and "upheld" in ok.output
    with cli_db.session() as s:
        assert s.get(Account, "c1").state == "active"  # type: ignore[union-attr]
    unknown = run(app, ["reporter", "unfounded", "r9", "--reason", "spam"])  # r9 never reported anything
    assert unknown.exit_code == 2 and "no reports from reporter 'r9'" in unknown.output
    hold = run(app, ["notice", "hold", "c1", "--reference", "LE-9"])
    assert hold.exit_code == 0 and "placed" in hold.output
    shown = run(app, ["ladder", "show"])
    assert shown.exit_code == 0 and "terminate" in shown.output
    assert run(app, ["worker", "--once"]).exit_code == 0
