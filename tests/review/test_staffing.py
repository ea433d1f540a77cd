"""An appeal nobody may take is explained and reported (issue 18, item 2): the appealed
decision's only trained child-safety senior is excluded from its appeal, so the Appeals queue
shows "Open: 1" and nothing to claim. The queue page says why, the admin's home page warns with
the deadline, `/metrics` counts it, and `review.task_unstaffed` is written once, when it is created."""

from __future__ import annotations

from sqlalchemy import select

from haven.core.db import Database
from haven.core.models import Event
from haven.review import staffing
from haven.review.service import create_task
from tests.conftest import LiveServer
from tests.enforce.test_webhook_flow import drain
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff, reviewer


def test_an_appeal_nobody_may_take_is_explained_and_reported(server: LiveServer, db: Database) -> None:
    senior_id, senior_secret = make_staff(db, "only-senior@example.org", ["child_safety_reviewer", "senior"])
    admin_id, admin_secret = make_staff(db, "admin@example.org", ["admin"])
    with db.session() as s:
        task = create_task(
            s,
            queue="appeals",
            subject_type="content",
            subject_id="c-appealed",
            child_safety=True,
            exclude_staff=senior_id,
            reason="Appeal of a child-safety decision",
            details={"appeal_id": "ap-1", "exclude_staff": [senior_id]},
        )
        assert task is not None
        task_id = task.id
        # A second, ordinary task that someone may take: never reported.
        create_task(s, queue="user_reports", subject_type="notice_case", subject_id="nc-1", reason="report")
    drain(db)

    who = reviewer(db, senior_id)
    with db.session() as s:
        (stuck,) = staffing.unstaffed(s)
        assert (stuck.queue, stuck.child_safety, stuck.count) == ("appeals", True, 1)
        assert "took part" in stuck.reason
        events = s.scalars(select(Event).where(Event.type == "review.task_unstaffed")).all()
        assert [e.data["task_id"] for e in events] == [task_id]
        assert "child_safety_reviewer" in events[0].data["reason"]
        # The excluded senior is told why the open task is not offered.
        why = staffing.not_offered(s, who, "appeals")
        assert list(why.values()) == [1] and "took part" in next(iter(why))

    senior = ConsoleClient(server.url)
    senior.sign_in("only-senior@example.org", PASSWORD, senior_secret)
    page = senior.get("/console/queues/appeals?empty=1")
    assert page.status_code == 200
    assert "Nothing left for you" in page.text and 'id="not-offered"' in page.text
    assert "you took part in the decision it follows up" in page.text
    assert 'id="unstaffed"' not in senior.get("/console/").text  # the banner is for admins

    admin = ConsoleClient(server.url)
    admin.sign_in("admin@example.org", PASSWORD, admin_secret)
    home = admin.get("/console/")
    assert home.status_code == 200 and 'id="unstaffed"' in home.text
    assert "Appeals" in home.text and "1 open child-safety task" in home.text

    staffing.refresh_gauges(db, force=True)
    metrics = server.client().get("/metrics").text
    assert 'haven_review_unstaffed_tasks{queue="appeals"} 1.0' in metrics
    assert 'haven_review_unstaffed_tasks{queue="user_reports"} 0.0' in metrics

    # A second trained senior joins: the task is takeable, the banner and the gauge clear.
    make_staff(db, "second-senior@example.org", ["child_safety_reviewer", "senior"])
    with db.session() as s:
        assert staffing.unstaffed(s) == []
    staffing.refresh_gauges(db, force=True)
    assert 'haven_review_unstaffed_tasks{queue="appeals"} 0.0' in server.client().get("/metrics").text
    assert 'id="unstaffed"' not in admin.get("/console/").text
    assert admin_id != senior_id
