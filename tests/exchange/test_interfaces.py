"""The exchanges' interfaces on the real server: `/v1/exchanges` (scoped, no credentials shown),
the admin console page with its "fetch now" button, and the CLI's one-line errors."""

from __future__ import annotations

import lxml.html
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from haven.banks.service import create_bank
from haven.core.db import Database
from haven.core.jobs import work
from haven.core.models import Job
from haven.exchange.service import create_exchange, get_exchange
from haven.review.models import ReviewTask
from tests.conftest import LiveServer, make_key
from tests.exchange.doubles import NCMECRecord, NCMECState, ncmec_double
from tests.exchange.test_exchange import _upload
from tests.review.console_client import ConsoleClient
from tests.review.fixtures import PASSWORD, make_staff


def test_api_console_and_fetch_now(server: LiveServer, db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the routes are backend-independent; the fetch path runs on both in test_exchange")
    state = NCMECState(records=[NCMECRecord(id="1", member=3, fingerprints={"md5": "ab" * 16})])
    with ncmec_double(state) as srv:
        with db.session() as s:
            create_bank(s, name="ncmec-csam", kind="known_csam", actor="test")
            ex = create_exchange(
                s,
                name="ncmec",
                kind="ncmec",
                base_url=srv.url,
                lists={"*": "ncmec-csam"},
                actor="test",
                credentials={"username": "esp-user", "password": "esp-pass"},
            )
            ex_id = ex.id
        reader, writer, other = (
            make_key(db, ["exchanges:read"]),
            make_key(db, ["exchanges:write"]),
            make_key(db, ["banks:read"]),
        )
        with server.client(other) as c:
            r = c.get("/v1/exchanges")
            assert r.status_code == 403 and r.json()["error"]["code"] == "missing_scope"
        with server.client(reader) as c:
            body = c.get("/v1/exchanges").json()
            assert body[0]["name"] == "ncmec" and body[0]["has_credentials"] is True
            assert "esp-pass" not in c.get(f"/v1/exchanges/{ex_id}").text
            assert c.get("/v1/exchanges/nope").json()["error"]["code"] == "exchange_not_found"
            assert c.post(f"/v1/exchanges/{ex_id}/fetch").status_code == 403
        # A test-mode key never reaches a real exchange: nothing is queued.
        from haven.core.auth import create_integration

        with db.session() as s:
            _, test_writer = create_integration(s, "exchange-test-mode", ["exchanges:write"], mode="test")
        with server.client(test_writer) as c:
            for action in ("fetch", "enable", "disable"):
                r = c.post(f"/v1/exchanges/{ex_id}/{action}")
                assert r.status_code == 403 and r.json()["error"]["code"] == "test_mode", (action, r.text)
        with db.session() as s:
            assert s.scalars(select(Job).where(Job.kind.like("exchange%"))).all() == []
        with server.client(writer) as c:
            assert c.post(f"/v1/exchanges/{ex_id}/fetch").status_code == 202
        work(db, once=True)
        with db.session() as s:
            assert get_exchange(s, ex_id).entries_in == 1

        # The console page (admin only) shows the state; "Fetch now" (CSRF-protected) queues a
        # fetch the worker runs: a new upstream record arrives, matches a past upload, and the
        # retroaction task shows the entry's provenance to the reviewer.
        new_md5 = "cd" * 16
        state.records.append(NCMECRecord(id="2", member=3, fingerprints={"md5": new_md5}))
        past = _upload(db, md5=new_md5)
        _, secret = make_staff(db, "admin@example.org", ["admin"])
        _, rsecret = make_staff(db, "rev@example.org", ["child_safety_reviewer"])
        rc = ConsoleClient(server.url)
        rc.sign_in("rev@example.org", PASSWORD, rsecret)
        assert rc.get("/console/admin/exchanges").status_code == 403
        cc = ConsoleClient(server.url)
        cc.sign_in("admin@example.org", PASSWORD, secret)
        page = cc.get("/console/admin/exchanges")
        assert page.status_code == 200 and "ncmec" in page.text and "Fetch now" in page.text
        assert "esp-pass" not in page.text
        assert cc.post(f"/console/admin/exchanges/{ex_id}/fetch", csrf=False).status_code == 403
        r = cc.post(f"/console/admin/exchanges/{ex_id}/fetch")
        assert r.status_code == 303
        assert "A fetch of ncmec is queued" in cc.follow(r).text
        with db.session() as s:
            assert get_exchange(s, ex_id).entries_in == 1  # queued, not yet run
        work(db, once=True)
        with db.session() as s:
            ex = get_exchange(s, ex_id)
            assert ex.entries_in == 3 and ex.last_error is None  # 1 re-delivered + 1 new
            tasks = list(s.scalars(select(ReviewTask).where(ReviewTask.subject_id == past)))
        row = lxml.html.fromstring(cc.get("/console/admin/exchanges").text).xpath(f'//tr[@data-exchange="{ex_id}"]')[0]
        cells = [c.text_content().strip() for c in row.xpath("./td")]
        assert cells[5] == "2" and cells[4] != "never"  # live entries, last success

        assert len(tasks) == 1
        html = rc.get(f"/console/tasks/{tasks[0].id}").text
        block = lxml.html.fromstring(html).get_element_by_id("provenance").text_content()
        block = " ".join(block.split())
        assert "Retroactive match" in block and "bank ncmec-csam, md5 at distance 0" in block
        assert "From exchange ncmec (ncmec), list member:3" in block
        assert "upstream id 3-2 (image:md5), contributed by Member 3" in block
        assert "upstream labels: image, A1" in block
        rc.close()
        cc.close()


def test_cli_errors_are_one_line(db: Database, settings: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.cli import app

    monkeypatch.setenv("HAVEN_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HAVEN_VAR_DIR", str(settings.var_dir))  # type: ignore[attr-defined]
    from haven.core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    r = runner.invoke(app, ["exchange", "show", "nope"])
    assert r.exit_code == 2 and "no exchange 'nope'" in r.output
    r = runner.invoke(
        app,
        [
            "exchange",
            "add",
            "x",
            "--kind",
            "ncmec",
            "--url",
            "http://127.0.0.1:9",
            "--list",
            "*=nobank",
            "--credential-env",
            "password=UNSET_VAR_FOR_TEST",
        ],
    )
    assert r.exit_code == 2 and "UNSET_VAR_FOR_TEST" in r.output
    # disable / enable: the state changes, enabling queues a fetch.
    with db.session() as s:
        create_bank(s, name="b", kind="known_csam", actor="test")
        ex_id = create_exchange(
            s,
            name="x",
            kind="ncmec",
            base_url="http://127.0.0.1:9",
            lists={"*": "b"},
            actor="test",
            credentials={"username": "u", "password": "p"},
        ).id
    assert runner.invoke(app, ["exchange", "disable", "x"]).exit_code == 0
    with db.session() as s:
        assert get_exchange(s, ex_id).enabled is False
    r = runner.invoke(app, ["exchange", "enable", "x"])
    assert r.exit_code == 0 and "enabled" in r.output
    with db.session() as s:
        assert get_exchange(s, ex_id).enabled is True
        assert s.scalars(select(Job).where(Job.kind == "exchange.fetch")).first() is not None
    assert runner.invoke(app, ["exchange", "enable", "nope"]).exit_code == 2
    get_settings.cache_clear()
