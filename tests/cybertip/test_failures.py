"""The machine against the double failing the ways the real API does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from haven.core import clock
from haven.core.db import Database
from haven.core.settings import Settings
from haven.cybertip import cases
from haven.cybertip.config import cybertip_settings
from haven.cybertip.double import Fault
from haven.cybertip.models import ReportCase, TiplineCall
from tests.cybertip.fixtures import LEGAL, LiveDouble, case_for, configure, decide, make_item, run_jobs

START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _queued(db: Database, settings: Settings, n: int = 1) -> str:
    with db.session() as s:
        ids = [make_item(s, settings, 20 + i).id for i in range(n)]
        decision_id = decide(s, ids)
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    return case_id


def _case(db: Database, case_id: str) -> ReportCase:
    with db.session() as s:
        case = s.get(ReportCase, case_id)
        assert case is not None
        return case


def _settle(db: Database, rounds: int = 6, step: float = 301) -> None:
    """Run the worker a few times, letting retry back-offs pass on the frozen clock."""
    for _ in range(rounds):
        run_jobs(db, strict=False)
        clock.advance(timedelta(seconds=step))


def test_1xxx_is_retried(db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, settings, double)
    double.state.faults += [Fault("upload", "code", 1110, times=2), Fault("finish", "code", 1000)]
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db)
    assert _case(db, case_id).status == "finished"
    assert len(double.state.finished()) == 1 and len(double.state.reports) == 1
    with db.session() as s:
        codes = [
            e.response_code
            for e in s.scalars(
                select(TiplineCall).where(TiplineCall.case_id == case_id).order_by(TiplineCall.created_at)
            )
        ]
    assert codes.count(1110) == 2 and codes.count(1000) == 1


def test_lost_submit_response_never_gives_two_reports(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double, HAVEN_CYBERTIP_TIMEOUT_SECONDS="0.3")
    double.state.faults.append(Fault("submit", "lose_response", delay=1.0))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db)
    case = _case(db, case_id)
    assert case.status == "finished"
    assert len(double.state.reports) == 2  # the lost one was opened by NCMEC ...
    assert [r.report_id for r in double.state.finished()] == [case.ncmec_report_id]  # ... but never finished


def test_upload_timeout_retracts_and_starts_clean(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double, HAVEN_CYBERTIP_TIMEOUT_SECONDS="0.3")
    double.state.faults.append(Fault("upload", "lose_response", delay=1.0))
    with clock.frozen(START):
        case_id = _queued(db, settings, n=2)
        _settle(db)
    case = _case(db, case_id)
    assert case.status == "finished"
    statuses = sorted(r.status for r in double.state.reports.values())
    assert statuses == ["finished", "retracted"]
    assert len(double.state.finished()[0].files) == 2


def test_http_500_and_timeouts_without_effect(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double, HAVEN_CYBERTIP_TIMEOUT_SECONDS="0.3")
    double.state.faults += [Fault("fileinfo", "http_500"), Fault("finish", "timeout", delay=1.0)]
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db)
    assert _case(db, case_id).status == "finished"
    assert len(double.state.finished()) == 1


def test_credential_alert_pauses_until_resumed(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double, HAVEN_CYBERTIP_PASSWORD="wrong")
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db, 2)
        case = _case(db, case_id)
        assert case.status == "credential_alert" and case.error_code == 2000
        assert double.state.reports == {}
        configure(monkeypatch, settings, double)
        double.state.faults.append(Fault("submit", "code", 3100))
        with db.session() as s:
            cases.resume(s, case_id, LEGAL)
        _settle(db, 2)
        case = _case(db, case_id)
        assert case.status == "credential_alert" and case.error_code == 3100
        assert "Request-ID" in (case.error_message or "")
        with db.session() as s:
            cases.resume(s, case_id, LEGAL)
        _settle(db, 2)
    assert _case(db, case_id).status == "finished"


def test_4xxx_is_terminal_and_shown(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    double.state.faults.append(Fault("submit", "code", 4100))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db, 3)
    case = _case(db, case_id)
    assert case.status == "failed" and case.error_code == 4100 and "Validation failed" in (case.error_message or "")
    assert double.state.requests == [{"endpoint": "submit", "at": START.isoformat()}]  # not retried


def test_missed_deadline_starts_a_new_report(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    double.state.faults.append(Fault("fileinfo", "code", 1300))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        run_jobs(db, strict=False)  # opened and uploaded, fileinfo failed: a retry is queued
        assert len(double.state.reports) == 1
        first = next(iter(double.state.reports))
        clock.advance(timedelta(hours=25))  # the worker was down: NCMEC deleted the open report
        _settle(db, 2)
        case = _case(db, case_id)
    assert case.status == "finished" and case.ncmec_report_id != first
    assert first not in double.state.reports  # deleted by the double as NCMEC would


def test_deadline_is_24h_after_opening_or_1h_after_the_last_change() -> None:
    from haven.cybertip.machine import deadline
    from haven.cybertip.models import Submission

    sub = Submission(opened_at=START, last_modified_at=START + timedelta(hours=2))
    assert deadline(sub) == START + timedelta(hours=24)
    sub.last_modified_at = START + timedelta(hours=23, minutes=30)
    assert deadline(sub) == START + timedelta(hours=24, minutes=30)


def test_retries_are_scheduled_before_the_deadline(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haven.core.models import Job
    from haven.cybertip import machine

    configure(monkeypatch, settings, double)
    monkeypatch.setattr(machine, "backoff_seconds", lambda attempt, base, cap: cap)  # the longest back-off: 15 min
    double.state.faults.append(Fault("finish", "code", 1000, times=2))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        run_jobs(db, strict=False)  # opened at START, first /finish failed
        clock.advance(timedelta(hours=23, minutes=45))
        run_jobs(db, strict=False)  # second failure, 15 minutes before NCMEC would delete it
        with db.session() as s:
            job = s.scalar(select(Job).where(Job.kind == "report.advance"))
            assert job is not None and job.status == "queued"
            # not at 24:00 (the plain back-off) but before the deadline less the 10-minute margin
            assert job.run_at <= START + timedelta(hours=23, minutes=50)
        clock.advance(timedelta(minutes=5))
        _settle(db, 1)
    case = _case(db, case_id)
    assert case.status == "finished" and len(double.state.reports) == 1


def test_upload_hash_mismatch_is_not_finished(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    double.state.faults.append(Fault("upload", "corrupt_upload"))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db)
    assert _case(db, case_id).status == "finished"
    assert sorted(r.status for r in double.state.reports.values()) == ["finished", "retracted"]
    finished = double.state.finished()[0]
    with db.session() as s:
        from haven.screening.models import ContentItem

        md5s = {i.md5 for i in s.scalars(select(ContentItem))}
    assert {f.md5 for f in finished.files.values()} <= md5s


def test_environments_are_never_mixed(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    with clock.frozen(START):
        case_id = _queued(db, settings)  # queued for test
        configure(monkeypatch, settings, double, HAVEN_CYBERTIP_ENVIRONMENT="production")
        _settle(db, 1)
    case = _case(db, case_id)
    assert case.status == "credential_alert" and "never mixed" in (case.error_message or "")
    assert double.state.requests == []


def test_cancel_retracts_the_open_report(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    double.state.faults.append(Fault("finish", "code", 1000))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        run_jobs(db, strict=False)
        with db.session() as s:
            cases.cancel(s, case_id, LEGAL, "reviewer found the match was wrong")
        _settle(db, 2)
    assert _case(db, case_id).status == "cancelled"
    assert [r.status for r in double.state.reports.values()] == ["retracted"]


def test_double_speaks_the_documented_protocol(double: LiveDouble) -> None:
    """Bad login: 401, empty body, Request-ID. Status: code 0 with 'Remote User'."""
    with httpx.Client(base_url=double.url) as c:
        r = c.get("/status", auth=("haven-test", "nope"))
        assert r.status_code == 401 and r.content == b"" and r.headers.get("Request-ID")
        r = c.get("/status", auth=(double.state.username, double.state.password))
        assert r.status_code == 200 and b"<responseCode>0</responseCode>" in r.content and b"Remote User" in r.content
        bad = b"<report><reporter/><incidentSummary/></report>"
        r = c.post(
            "/submit",
            content=bad,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            auth=(double.state.username, double.state.password),
        )
        assert b"<responseCode>4100</responseCode>" in r.content
        r = c.post(
            "/submit",
            content=b"<report",
            headers={"Content-Type": "text/xml; charset=utf-8"},
            auth=(double.state.username, double.state.password),
        )
        assert b"<responseCode>4110</responseCode>" in r.content
        r = c.post("/finish", data={"id": "999"}, auth=(double.state.username, double.state.password))
        assert b"<responseCode>5001</responseCode>" in r.content


def test_an_outage_does_not_use_up_the_attempts(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    configure(
        monkeypatch, settings, double, HAVEN_CYBERTIP_URL=f"http://127.0.0.1:{free_port()}/ispws"
    )  # nothing listens
    double.state.faults.append(Fault("submit", "code", 1000, times=3))
    with clock.frozen(START):
        case_id = _queued(db, settings)
        _settle(db, 8, step=901)  # eight refused connections (the back-off is at most 15 minutes)
        assert _case(db, case_id).status == "submitting"
        configure(monkeypatch, settings, double)
        _settle(db, 5, step=901)  # three 1000s, then it goes through
    case = _case(db, case_id)
    assert case.status == "finished", case.error_message
    assert len(double.state.reports) == 1


def test_requests_are_counted_for_prometheus(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import REGISTRY

    def count(endpoint: str, outcome: str) -> float:
        v = REGISTRY.get_sample_value(
            "haven_cybertip_requests_total", {"environment": "test", "endpoint": endpoint, "outcome": outcome}
        )
        return v or 0.0

    configure(monkeypatch, settings, double)
    before_ok, before_1110 = count("upload", "0"), count("upload", "1110")
    double.state.faults.append(Fault("upload", "code", 1110))
    with clock.frozen(START):
        _queued(db, settings)
        _settle(db, 3)
    assert count("upload", "0") == before_ok + 1 and count("upload", "1110") == before_1110 + 1
