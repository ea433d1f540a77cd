"""A kill of the worker at every step, then a restart, ends in exactly one finished report.

The worker is "killed" by an exception that is not an Exception (like SystemExit from a
signal): it escapes the job runner, the job stays leased as a dead worker leaves it, and the
restart takes it over once the lease expires (clock frozen and moved on). Every request/
response boundary is a kill point: before a request (intent saved, nothing sent) and after it
(the server acted, the response never recorded, as when a response is lost).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from haven.core import clock
from haven.core.db import Database
from haven.core.settings import Settings
from haven.cybertip import cases, machine
from haven.cybertip.config import cybertip_settings
from haven.cybertip.models import ReportCase, Submission
from tests.cybertip.fixtures import LEGAL, LiveDouble, case_for, configure, decide, make_item, reveal, run_jobs

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POINTS = [
    "before:submit",
    "after:submit",
    "before:upload",
    "after:upload",
    "before:fileinfo",
    "after:fileinfo",
    "before:upload",
    "after:upload",
    "before:fileinfo",
    "after:fileinfo",
    "before:finish",
    "after:finish",
]


class Killed(BaseException):
    pass


def _queued_case(db: Database, settings: Settings) -> str:
    with db.session() as s:
        a = make_item(s, settings, 11)
        b = make_item(s, settings, 12)
        reveal(s, settings, a)
        decision_id = decide(s, [a.id, b.id])
    run_jobs(db)
    case_id = case_for(db, decision_id)
    with db.session() as s:
        cases.queue_submission(s, settings, case_id, LEGAL, cybertip_settings())
    return case_id


def test_the_points_are_every_step(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, settings, double)
    seen: list[str] = []
    monkeypatch.setattr(machine, "CRASH_HOOK", seen.append)
    with clock.frozen(START):
        _queued_case(db, settings)
        run_jobs(db)
    assert seen == POINTS


def test_kill_and_restart_at_every_step(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One case per kill point (on one database, to keep the suite fast)."""
    configure(monkeypatch, settings, double)
    for kill_at, point in enumerate(POINTS):
        double.state.reset()
        calls = {"n": 0, "killed": None}

        def hook(p: str, calls: dict = calls, kill_at: int = kill_at) -> None:  # type: ignore[type-arg]
            if calls["n"] == kill_at:
                calls["n"] += 1
                calls["killed"] = p
                raise Killed(p)
            calls["n"] += 1

        with clock.frozen(START + timedelta(days=kill_at)):
            case_id = _queued_case(db, settings)
            monkeypatch.setattr(machine, "CRASH_HOOK", hook)
            with pytest.raises(Killed):
                run_jobs(db)
            assert calls["killed"] == point
            monkeypatch.setattr(machine, "CRASH_HOOK", None)
            clock.advance(timedelta(seconds=301))  # the dead worker's lease runs out; a new worker starts
            run_jobs(db)

            with db.session() as s:
                case = s.get(ReportCase, case_id)
                assert case is not None and case.status == "finished", (point, case.status, case.error_message)
                finished_subs = s.scalar(
                    select(func.count())
                    .select_from(Submission)
                    .where(Submission.case_id == case_id, Submission.state == "finished")
                )
                assert finished_subs == 1, point
                report_id = case.ncmec_report_id
        finished = double.state.finished()
        assert [r.report_id for r in finished] == [report_id], point
        (report,) = finished
        assert len(report.files) == 2 and all(f.details for f in report.files.values()), point
        # Whatever else was opened is never finished: retracted, or left open to expire.
        assert all(
            r.status in ("retracted", "open") for r in double.state.reports.values() if r.report_id != report_id
        ), point


def test_two_workers_on_one_case_never_step_on_each_other(
    db: Database, settings: Settings, double: LiveDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers run the same case at once (a retry job and a resume job, say): the case's
    lease lets one through; the other backs off instead of taking the first one's in-flight
    upload for a crashed one and retracting the report."""
    import threading

    from haven.core.jobs import RetryLater

    configure(monkeypatch, settings, double)
    case_id = _queued_case(db, settings)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(machine.advance(db, case_id))
        except RetryLater:
            outcomes.append("backed off")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_jobs(db, strict=False)
    assert "finished" in outcomes
    assert [r.status for r in double.state.reports.values()] == ["finished"]
