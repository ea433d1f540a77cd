"""Safety nudges: the operator's library (validated, localised, falling back to the shipped
texts), the outcome endpoint, and the dashboard's numbers recounted from the ledger."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from haven.classify import nudge_library
from haven.classify.interventions import NUDGES, nudge_message
from haven.core.db import Database
from haven.core.models import Event
from haven.core.settings import Settings
from haven.transparency.nudges import nudge_numbers
from haven.transparency.stats import EventRow
from tests.conftest import LiveServer, make_key
from tests.transparency.seed import seed

LIBRARY = """
grooming:
  title: Is this chat making you feel uneasy?
  body: People who ask for secrets, pictures or to meet are showing warning signs. You are not in trouble.
  research:
    - source: "Lorenzo-Dus, Izura & Perez-Tattam (2016), Discourse, Context & Media 12"
      url: https://doi.org/10.1016/j.dcm.2016.02.004
      supports: naming secrecy and isolation helps a child see them
  translations:
    pt_BR:
      title: Esta conversa te deixa desconfortável?
      body: Quem pede segredos, fotos ou encontros mostra sinais de alerta. Você não está em apuros.
"""


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "nudges.yaml"
    path.write_text(LIBRARY)
    monkeypatch.setenv("HAVEN_NUDGE_LIBRARY_FILE", str(path))
    return path


def test_the_operators_library_with_its_fallbacks(library: Path) -> None:
    m = nudge_message("grooming")
    assert m["title"] == "Is this chat making you feel uneasy?" and m["library"] == "operator"
    assert (
        nudge_message("grooming", "pt_BR")["title"].startswith("Esta conversa")
        and nudge_message("grooming", "pt_BR")["lang"] == "pt_BR"
    )
    # no Spanish for the operator's text: the shipped message in Spanish, from the catalogue
    es = nudge_message("grooming", "es")
    assert es["library"] == "shipped" and es["lang"] == "es" and es["title"] != NUDGES["grooming"]["title"]
    # a family the file leaves out keeps the shipped message
    assert nudge_message("sextortion")["title"] == NUDGES["sextortion"]["title"]
    assert nudge_message("sextortion")["library"] == "shipped"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("bullying:\n  title: Hello there\n", "unknown risk family 'bullying'"),
        ("grooming:\n  title: Is this ok?\n  body: A body long enough.\n", "grooming.research: Field required"),
        (LIBRARY.replace("https://doi", "http://doi"), "grooming.research.0.url: Value error, must be an https://"),
        (LIBRARY.replace("pt_BR", "portuguese"), "grooming.translations: Value error, 'portuguese' is not"),
        ("grooming: [unclosed", "not valid YAML"),
        ("grooming:\n  title: ok\n", "grooming.title: String should have at least 3 characters"),
    ],
)
def test_a_bad_library_is_one_clear_error_naming_file_and_field(library: Path, text: str, error: str) -> None:
    library.write_text(text)
    with pytest.raises(ValueError) as exc:
        nudge_library.load_library()
    assert str(library) in str(exc.value) and error in str(exc.value), str(exc.value)


def test_the_application_refuses_to_start_with_a_bad_library(library: Path, tmp_path: Path) -> None:
    from haven.app import create_app

    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'unused.db'}")

    library.write_text("grooming:\n  title: Hi there\n  body: too short? no, long enough\n")
    with pytest.raises(ValueError, match=r"grooming\.research"):
        create_app(settings)
    library.unlink()
    with pytest.raises(ValueError, match="cannot read it"):
        create_app(settings)


def _msg(i: int, text: str) -> dict[str, object]:
    return {
        "message_id": f"m-{i}",
        "conversation_id": "conv-x",
        "sender": "stranger",
        "recipients": ["teen-9"],
        "text": text,
        "sent_at": f"2026-11-21T10:0{i}:00Z",
    }


def test_outcome_endpoint_and_follow_ups(server: LiveServer, api_key: str, db: Database) -> None:
    lines = ["i have ur pics", "pay me $200 in steam cards or i will send them to all ur friends"]
    with server.client(api_key) as c:
        c.put("/v1/accounts/teen-9", json={"age_band": "16_17"})
        answers = [c.post("/v1/messages", json=_msg(i, t)).json() for i, t in enumerate(lines, 1)]
        nudge = answers[-1]["nudges"][0]
        eid = nudge["event_id"]
        assert c.post(f"/v1/nudges/{eid}/outcome", json={"action": "clicked"}).status_code == 201
        again = c.post(f"/v1/nudges/{eid}/outcome", json={"action": "clicked"})
        assert again.status_code == 200 and again.json()["recorded"] is False
        bad = c.post(f"/v1/nudges/{eid}/outcome", json={"action": "liked"})
        assert bad.status_code == 422
        missing = c.post("/v1/nudges/01NOTANUDGE/outcome", json={"action": "clicked"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "nudge_not_found"
        assert c.post("/v1/accounts/teen-9/blocks", json={"blocked": "stranger"}).status_code == 201
        r = c.post(
            "/v1/reports",
            json={
                "reporter": {"id": "teen-9"},
                "target": {"type": "account", "id": "stranger"},
                "category": "sextortion",
                "explanation": "He is threatening me.",
                "good_faith": True,
            },
        )
        assert r.status_code in (200, 201), r.text
    with server.client(make_key(db, ["intake"])) as other:  # another integration's key
        assert other.post(f"/v1/nudges/{eid}/outcome", json={"action": "dismissed"}).status_code == 404
    with db.session() as s:
        evs = list(s.scalars(select(Event).order_by(Event.created_at, Event.id)))
    rows = [EventRow(e.id, e.type, e.subject_type, e.subject_id, e.actor, e.created_at, e.data) for e in evs]
    outcomes = [e for e in evs if e.type == "safety.nudge_outcome"]
    assert [(o.subject_id, o.data["action"], o.data["family"]) for o in outcomes] == [
        ("teen-9", "clicked", "sextortion")
    ]
    (row,) = nudge_numbers(rows, start=datetime(2026, 1, 1, tzinfo=UTC), window=timedelta(hours=24))
    assert (row.family, row.library, row.shown) == ("sextortion", "shipped", 1)
    assert row.actions == {"clicked": 1, "dismissed": 0, "reported": 0, "blocked": 0}
    assert (row.followed_by_report, row.followed_by_block, row.followed) == (1, 1, 1)


def test_nudge_numbers_match_a_recount_of_the_seeded_ledger(db: Database) -> None:
    with db.session() as s:
        seed(s, n_content=50)
    with db.session() as s:
        evs = list(s.scalars(select(Event).order_by(Event.created_at, Event.id)))
    start, window = datetime(2026, 3, 1, tzinfo=UTC), timedelta(hours=24)
    table = nudge_numbers(
        [EventRow(e.id, e.type, e.subject_type, e.subject_id, e.actor, e.created_at, e.data) for e in evs],
        start=start,
        window=window,
    )
    expected: Counter[tuple[str, str, str]] = Counter()
    for n in (e for e in evs if e.type == "safety.nudge" and e.created_at >= start):
        key = (n.data["message"]["family"], n.data["message"]["library"])
        expected[(*key, "shown")] += 1
        acct, at = n.subject_id, n.created_at
        mine = [e for e in evs if at <= e.created_at <= at + window]
        acts = {e.data["action"] for e in evs if e.type == "safety.nudge_outcome" and e.data["nudge_event_id"] == n.id}
        for a in acts:
            expected[(*key, a)] += 1
        rep = any(
            (e.type == "user_report.received" and e.data.get("reporter_id") == acct)
            or (e.type == "safety.nudge_outcome" and e.subject_id == acct and e.data["action"] == "reported")
            for e in mine
        )
        blk = any(
            (e.type == "account.blocked" and e.subject_id == acct)
            or (e.type == "safety.nudge_outcome" and e.subject_id == acct and e.data["action"] == "blocked")
            for e in mine
        )
        expected[(*key, "report")] += rep
        expected[(*key, "block")] += blk
        expected[(*key, "either")] += rep or blk
    got: Counter[tuple[str, str, str]] = Counter()
    for r in table:
        got[(r.family, r.library, "shown")] += r.shown
        for a, n in r.actions.items():
            got[(r.family, r.library, a)] += n
        got[(r.family, r.library, "report")] += r.followed_by_report
        got[(r.family, r.library, "block")] += r.followed_by_block
        got[(r.family, r.library, "either")] += r.followed
    assert +got == +expected
    assert sum(r.shown for r in table) == 120 and 0 < sum(r.followed for r in table) < 120
