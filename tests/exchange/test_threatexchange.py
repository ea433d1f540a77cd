"""ThreatExchange against its Graph API double, both backends: a privacy group's PDQ and video
descriptors fill a bank over cursor pages (a failed page resumes from the stored cursor, the
token never lands in the checkpoint), tombstones (`should_delete`, no `descriptors`) disable
entries, Graph errors and throttling become the exchange's state, and reviewers' decisions
(through `haven.review.service.decide`) go back as reactions on the descriptors, once."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from haven.banks.models import Bank, BankEntry
from haven.banks.service import create_bank
from haven.core.db import Database
from haven.core.jobs import work
from haven.core.settings import Settings
from haven.exchange.base import ExchangeError
from haven.exchange.models import ExchangeEntry, ExchangeFeedback
from haven.exchange.service import create_exchange, fetch, get_exchange
from haven.review.models import ReviewTask
from haven.review.service import claim, decide, get_task
from tests.exchange.doubles import TEIndicator, TEState, threatexchange_double
from tests.exchange.test_exchange import _flip, _hex, _upload
from tests.review.fixtures import make_staff, reviewer


def _updates() -> list[TEIndicator]:
    t = int(time.time()) - 3600
    return [
        TEIndicator("4001", "HASH_PDQ", _hex(32), t, {"9001": ("111", ["tag_a"], "MALICIOUS")}),
        TEIndicator("4002", "HASH_VIDEO_MD5", _hex(16), t + 1, {"9002": ("222", ["tag_b"], "MALICIOUS")}),
        TEIndicator("4003", "HASH_TMK", "tmk:" + _hex(40), t + 2, {"9003": ("111", [], "UNKNOWN")}),
    ]


def _live(db: Database) -> int:
    """Enabled entries of the exchange's bank (a confirmed violation also banks the upload's own
    hashes in `local_confirmed`: not counted here)."""
    with db.session() as s:
        q = select(func.count()).select_from(BankEntry).join(Bank, Bank.id == BankEntry.bank_id)
        return int(s.scalar(q.where(Bank.name == "te-known", BankEntry.enabled.is_(True))) or 0)


def _exchange(db: Database, url: str, state: TEState, token: str | None = None) -> str:
    with db.session() as s:
        create_bank(s, name="te-known", kind="known_csam", actor="test", default_classification="A1")
        return create_exchange(
            s,
            name="te",
            kind="threatexchange",
            base_url=url,
            credentials={"access_token": token or state.token},
            lists={"*": "te-known"},
            config={"privacy_group": state.privacy_group, "page_size": 2},
            actor="test",
        ).id


def test_fetch_tombstones_and_reactions(db: Database, settings: Settings) -> None:
    state = TEState(updates=_updates(), fail_page_once=2)
    ind_pdq, ind_md5, _ = state.updates
    past_pdq = _upload(db, pdq=_flip(ind_pdq.indicator, 3))
    past_md5 = _upload(db, md5=ind_md5.indicator)
    with threatexchange_double(state) as srv:
        ex_id = _exchange(db, srv.url, state)
        with pytest.raises(ExchangeError) as err:  # page 2 fails: page 1 and its cursor are kept
            fetch(db, ex_id)
        assert err.value.code == "upstream_unavailable" and "Graph error 2" in err.value.message
        with db.session() as s:
            cp = get_exchange(s, ex_id).checkpoint
            assert cp["after"] and state.token not in json.dumps(cp) and "secret" not in json.dumps(cp)
        assert fetch(db, ex_id)["added"] == 1  # resumes on the cursor: only the third indicator
        assert state.requests[-1]["after"] == cp["after"]
        with db.session() as s:
            rows = {e.upstream_id: e for e in s.scalars(select(ExchangeEntry))}
            assert set(rows) == {"4001", "4002", "4003"}
            assert rows["4001"].signal_type == "pdq" and rows["4001"].contributor == "app:111"
            assert rows["4001"].list_name == f"privacy_group:{state.privacy_group}"
            assert {"tag_a", "MALICIOUS", "td:9001"} <= set(rows["4001"].labels)
            assert rows["4002"].signal_type == "md5" and rows["4002"].bank_entry_id is not None
            assert rows["4003"].bank_entry_id is None and rows["4003"].unmatched_reason
        assert _live(db) == 2

        # Retroaction opened a task per past upload; reviewers decide them through review.
        work(db, once=True)
        sid, _ = make_staff(db, "cs@example.org", ["child_safety_reviewer"])
        r = reviewer(db, sid, "sess-1")
        with db.session() as s:
            tasks = {
                t.subject_id: t.id for t in s.scalars(select(ReviewTask).where(ReviewTask.queue == "known_material"))
            }
        assert set(tasks) == {past_pdq, past_md5}
        for content_id, kw in (
            (past_pdq, {"decision": "violation", "category": "csam", "classification": "A1"}),
            (past_md5, {"decision": "no_violation"}),
        ):
            with db.session() as s:
                assert claim(s, tasks[content_id], r)
            with db.session() as s:
                decide(s, settings, get_task(s, tasks[content_id]), r, **kw)  # type: ignore[arg-type]
        work(db, once=True)
        work(db, once=True)  # the jobs again: nothing is sent twice
        assert sorted(state.reactions) == [("9001", "SAW_THIS_TOO"), ("9002", "DISAGREE_WITH_TAGS")]
        with db.session() as s:
            assert {f.status for f in s.scalars(select(ExchangeFeedback))} == {"sent"}

        # Tombstones: should_delete, and an update without `descriptors` (issue #834).
        ind_pdq.should_delete = True
        ind_md5.omit_descriptors = True
        ind_pdq.last_updated = ind_md5.last_updated = int(time.time())
        summary = fetch(db, ex_id)
        assert summary["deleted"] == 2 and summary["added"] == 0
        assert _live(db) == 0
        with db.session() as s:
            kept = select(func.count()).select_from(BankEntry).join(Bank, Bank.id == BankEntry.bank_id)
            assert s.scalar(kept.where(Bank.name == "te-known")) == 2  # disabled, kept
            assert get_exchange(s, ex_id).entries_out == 2


@pytest.mark.parametrize("case", ["throttled", "bad_token"])
def test_graph_errors_in_state(db: Database, backend: str, case: str) -> None:
    if backend != "sqlite":
        pytest.skip("error mapping is transport-level; the fetch path runs on both backends above")
    state = TEState(updates=_updates(), throttle_once=case == "throttled")
    with threatexchange_double(state) as srv:
        ex_id = _exchange(
            db, srv.url, state, token="1234567890|rotated-secret-abcdefghijklmnop" if case == "bad_token" else None
        )
        with pytest.raises(ExchangeError) as err:
            fetch(db, ex_id)
    with db.session() as s:
        ex = get_exchange(s, ex_id)
        assert s.scalar(select(func.count()).select_from(ExchangeEntry)) == 0 and ex.checkpoint == {}
    if case == "throttled":
        # HTTP 429, Graph code 4; the wait is x-business-use-case-usage's 2 minutes.
        assert err.value.code == "rate_limited" and err.value.retry_after == 120.0
        assert ex.last_error_code == "rate_limited" and "Graph error 4" in (ex.last_error or "")
    else:
        # Graph answers a bad token with HTTP 400 and code 190: read from the error JSON.
        assert err.value.code == "auth_failed" and "190" in err.value.message
        assert "rotated-secret" not in (ex.last_error or "")
