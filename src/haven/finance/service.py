"""Screening a payment: check it, count it in the aggregates, gather what Haven knows of the two
accounts, decide with the financial rules (the policy engine), and carry out the outcome (hold,
decline, freeze, limit, nudge, review), all in the caller's transaction.

Idempotent on `(integration, external_id)`: a retry with the same body gets the stored answer and
counts nothing; the same id with another body is 409. Approvals are kept on the transaction row
(rule and ruleset version); every other outcome is also a ledger event (`transaction.flagged`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.bands import MINOR_BANDS
from haven.core.clock import new_id, now
from haven.core.errors import Conflict, Invalid
from haven.core.ledger import record_event
from haven.enforce.webhooks import deliver
from haven.finance import aggregates
from haven.finance.fastsql import Raw, Sql
from haven.finance.lists import Lists
from haven.finance.models import DetectorLink, FinanceRestriction, Transaction
from haven.finance.money import MoneyError, check_country, parse_amount, to_reference_minor
from haven.finance.rules import FinanceRules
from haven.finance.schemas import TransactionIn
from haven.finance.settings import FinanceSettings
from haven.policy import Decision, PolicyInput, TransactionView, evaluate

#: Policy verdicts as payment outcomes.
OUTCOMES = {"allow": "approve", "review": "review", "hold": "hold", "block": "decline"}
STATUS = {"approve": "approved", "review": "review", "hold": "held", "decline": "declined"}
TAKE_IT_DOWN = "https://takeitdown.ncmec.org/"
NCMEC = "https://report.cybertip.org/"


def fingerprint(body: TransactionIn) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def check(
    body: TransactionIn, lists: Lists, settings: FinanceSettings, at: datetime, *, test: bool = False
) -> tuple[Decimal, int]:
    """The amount and its reference minor units; 422 with a code for what cannot be accepted."""
    try:
        amount = parse_amount(body.amount, body.currency, lists)
        check_country(body.payer_country, "payer_country", lists)
        check_country(body.payee_country, "payee_country", lists)
    except MoneyError as exc:
        raise Invalid(exc.message, code=exc.code, details={"field": exc.field}) from None
    if body.payer == body.payee:
        raise Invalid("payer and payee are the same account", code="invalid_parties")
    if test and max(len(body.payer), len(body.payee)) > MAX_ACCOUNT - len(TEST_NS):
        raise Invalid(
            f"with a test-mode key, account ids have at most {MAX_ACCOUNT - len(TEST_NS)} characters",
            code="invalid_parties",
        )
    if body.occurred_at > at + timedelta(seconds=settings.future_skew_seconds):
        raise Invalid("occurred_at is in the future", code="future_occurred_at", details={"field": "occurred_at"})
    if body.occurred_at < at - timedelta(days=settings.max_age_days):
        raise Invalid(
            f"occurred_at is more than {settings.max_age_days} days ago",
            code="stale_occurred_at",
            details={"field": "occurred_at"},
        )
    return amount, to_reference_minor(amount, body.currency, lists)


#: A test-mode key's payments are counted and restricted in a namespace of their own: the aggregate
#: and restriction rows of `payer` are those of `TEST_NS + payer`, so test traffic never changes a
#: real account's windows or restrictions (docs/finance.md, "Test mode").
TEST_NS = "~test:"
MAX_ACCOUNT = 200


def state_key(account: str, test: bool) -> str:
    """The key of an account's aggregates and restrictions (its id; in test mode, namespaced)."""
    return TEST_NS + account if test else account


# Built once: the hot path binds values into statements SQLAlchemy has already compiled.
#: The stored answer of this external_id (the response as text: the same on both engines), and
#: the two accounts' age bands, in one round trip.
_FIRST = Sql(
    "SELECT 'tx', id, fingerprint, CAST(response AS TEXT) FROM finance_transactions"
    " WHERE integration_id = :integration AND external_id = :external"
    " UNION ALL SELECT 'band', id, age_band, '' FROM accounts WHERE id IN (:payer, :payee)"
)
#: What the detectors linked (per account and per pair), the restrictions in force, the payer's
#: corridors and whether the two ever messaged: a tail of the aggregates' read (same shape:
#: tag, window index, three strings, two numbers), index lookups only. `:payer`/`:payee` are the
#: keys of the accounts' finance state (`state_key`: links, restrictions, corridors),
#: `:rpayer`/`:rpayee` their ids (contacts, kept by the messaging pipeline).
RELATIONS = (
    "SELECT 'link', 0, account_id, other, kind, 0, 0 FROM finance_links"
    " WHERE account_id = :payer AND other IN (:payee, '')"
    " UNION ALL SELECT 'link', 0, account_id, other, kind, 0, 0 FROM finance_links"
    " WHERE account_id = :payee AND other IN (:payer, '')"
    " UNION ALL SELECT 'restriction', 0, account_id, kind, '', 0, 0 FROM finance_restrictions"
    " WHERE account_id IN (:payer, :payee) AND status = 'active'"
    " UNION ALL SELECT 'corridor', 0, to_country, '', '', 0, 0 FROM finance_corridors WHERE account_id = :payer"
    " UNION ALL SELECT 'contact', 0, '', '', '', 0, 0 WHERE EXISTS (SELECT 1 FROM contacts"
    " WHERE sender = :rpayer AND recipient = :rpayee) OR EXISTS (SELECT 1 FROM contacts"
    " WHERE sender = :rpayee AND recipient = :rpayer)"
)
_TX_COLUMNS = [c.name for c in Transaction.__table__.columns]
_INSERT_TX = Sql(
    f"INSERT INTO finance_transactions ({', '.join(_TX_COLUMNS)}) VALUES ({', '.join(':' + c for c in _TX_COLUMNS)})"  # noqa: S608
)
_JSON_COLUMNS = ("indicators", "shadow", "response")
_TIME_COLUMNS = ("occurred_at", "received_at")
_NEW_ACCOUNT = Sql(
    "INSERT INTO accounts (id, age_band, state, age_source, created_at, updated_at)"
    " VALUES (:id, 'unknown', 'active', 'declared', :at, :at) ON CONFLICT (id) DO NOTHING"
)


def first_read(
    session: Session | Raw, integration_id: str, body: TransactionIn, fp: str
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The stored answer of this `external_id` (409 if it was used for another body) and the age
    bands of the accounts already known."""
    raw = session if isinstance(session, Raw) else Raw(session)
    stored: dict[str, Any] | None = None
    bands: dict[str, str] = {}
    rows = raw.rows(
        _FIRST,
        {"integration": integration_id, "external": body.external_id, "payer": body.payer, "payee": body.payee},
    )
    for tag, a, b, c in rows:
        if tag == "band":
            bands[a] = b
            continue
        if b != fp:
            raise Conflict(
                f"external_id '{body.external_id}' was already used for a different transaction",
                code="external_id_reused",
                details={"external_id": body.external_id, "transaction_id": a},
            )
        stored = json.loads(c) if isinstance(c, str) else dict(c)
    return stored, bands


def stored_answer(session: Session, integration_id: str, body: TransactionIn, fp: str) -> dict[str, Any] | None:
    return first_read(session, integration_id, body, fp)[0]


def create_accounts(raw: Raw, ids: list[str]) -> None:
    """Rows for accounts named for the first time (age band unknown), in sorted order (two
    payments that first name the same accounts insert them in one order: no deadlock), without
    ORM objects; a concurrent twin's insert is skipped (ON CONFLICT DO NOTHING)."""
    at = raw.ts(now())
    for i in sorted(ids):
        raw.run(_NEW_ACCOUNT, {"id": i, "at": at})


def insert_transaction(raw: Raw, values: dict[str, Any]) -> None:
    """The screened payment's row (every column given; JSON as text, times as stored)."""
    row = {c: values.get(c) for c in _TX_COLUMNS}
    for c in _JSON_COLUMNS:
        row[c] = json.dumps(row[c])
    for c in _TIME_COLUMNS:
        row[c] = raw.ts(values[c])
    raw.run(_INSERT_TX, row)


_RELATIONS_ALONE = Sql(RELATIONS)


def relations_of(session: Session, payer: str, payee: str, lists: Lists) -> tuple[tuple[str, ...], bool]:
    """`relations` read on their own (the backtest): live state of the two accounts."""
    params = {"payer": payer, "payee": payee, "rpayer": payer, "rpayee": payee}
    rows = [(tag, a, b, c) for tag, _, a, b, c, _, _ in Raw(session).rows(_RELATIONS_ALONE, params)]
    return relations(rows, payer, payee, lists)


def relations(
    rows: Sequence[tuple[Any, ...]], payer: str, payee: str, lists: Lists, test: bool = False
) -> tuple[tuple[str, ...], bool]:
    """What Haven's detectors and restrictions say of the two accounts (`linked`: pair-level kinds
    as they are, `sextortion_conversation`; account-level ones by role, `payee.bank_hit`), and
    whether they were in contact before (messages either way), from the `RELATIONS` rows."""
    out: set[str] = set()
    to: set[str] = set()
    contact = False
    kp, ke = state_key(payer, test), state_key(payee, test)
    for tag, a, b, c in rows:
        if tag == "link":
            out.add(c if b else f"{'payer' if a == kp else 'payee'}.{c}")
        elif tag == "restriction":
            if (a, b) in ((ke, "payouts_frozen"), (kp, "new_payees_limited")):
                out.add(f"{'payer' if a == kp else 'payee'}.{b}")
        elif tag == "corridor":
            to.add(a)
        elif tag == "contact":
            contact = True
    for name, codes in lists.country_lists.items():
        if to & codes:
            out.add(f"payer.corridor_{name}")
    return tuple(sorted(out)), contact


def indicators(v: TransactionView) -> list[str]:
    """The red flags present, whether or not a rule decided on them (shown to the service and the
    reviewer)."""
    out = []
    if v.payer_band in MINOR_BANDS:
        out.append("minor_payer")
    if v.payee_band in MINOR_BANDS:
        out.append("minor_payee")
    if v.new_payee:
        out.append("new_payee")
    if v.cross_border:
        out.append("cross_border")
    if v.new_corridor:
        out.append("new_corridor")
    if not v.prior_contact:
        out.append("no_prior_contact")
    if v.escalation >= 2:
        out.append(f"escalating:{v.escalation}")
    if v.kind in ("gift_card", "crypto"):
        out.append(f"rail:{v.kind}")
    out += [f"country:{c}" for c in v.payee_country_lists]
    out += [f"memo:{c}" for c in v.memo]
    out += [f"merchant:{c}" for c in v.merchant]
    out += [f"linked:{c}" for c in v.linked]
    return out


def screen(
    session: Session,
    body: TransactionIn,
    *,
    integration_id: str,
    actor: str,
    rules: FinanceRules,
    lists: Lists,
    settings: FinanceSettings,
    test: bool = False,
) -> dict[str, Any]:
    """Screen one payment and answer `{outcome, rules, indicators, reason, ...}`.

    In `test` mode (a test-mode key) the payment is screened the same way, against the accounts'
    real age bands and detector links, but it is counted and restricted in the test namespace
    (`state_key`) and every action it causes says `"mode": "test"`."""
    at = now()
    amount, ref_minor = check(body, lists, settings, at, test=test)
    fp = fingerprint(body)
    raw = Raw(session)
    stored, bands = first_read(raw, integration_id, body, fp)
    if stored is not None:
        return stored
    missing = [a for a in (body.payer, body.payee) if a not in bands]
    if missing:
        create_accounts(raw, missing)
    kp, ke = state_key(body.payer, test), state_key(body.payee, test)
    feats, rows = aggregates.record(
        raw,
        payer=kp,
        payee=ke,
        amount_minor=ref_minor,
        occurred_at=body.occurred_at,
        payer_country=body.payer_country,
        payee_country=body.payee_country,
        windows=rules.windows,
        extra=RELATIONS,
        extra_params={"rpayer": body.payer, "rpayee": body.payee},
    )
    linked, contact = relations(rows, body.payer, body.payee, lists, test)
    view = TransactionView(
        kind=body.kind,
        amount=Decimal(ref_minor) / 100,
        payer_band=bands.get(body.payer, "unknown"),
        payee_band=bands.get(body.payee, "unknown"),
        cross_border=bool(body.payer_country and body.payee_country and body.payer_country != body.payee_country),
        payee_country_lists=lists.countries_lists(body.payee_country),
        new_payee=feats.new_payee,
        prior_contact=contact,
        new_corridor=feats.new_corridor,
        memo=lists.memo_categories(body.memo),
        merchant=lists.merchant_lists(body.merchant_category, body.merchant),
        linked=linked,
        payer=feats.payer,
        payee=feats.payee,
        pair=feats.pair,
        escalation=feats.escalation,
    )
    decision = evaluate(rules.ruleset, PolicyInput(surface="payment", transaction=view))
    outcome = OUTCOMES[decision.verdict.action]
    flags = indicators(view)
    tx_id = new_id()
    answer = {
        "transaction_id": tx_id,
        "external_id": body.external_id,
        "outcome": outcome,
        "rules": [decision.verdict.rule],
        "indicators": flags,
        "reason": decision.verdict.reason,
        "actions": sorted(set(decision.actions) - {"review"}),
        "shadow": [{"rule": h.rule, "verdict": h.verdict, "would_decide": h.would_decide} for h in decision.shadow],
    }
    values: dict[str, Any] = dict(
        id=tx_id,
        integration_id=integration_id,
        external_id=body.external_id,
        kind=body.kind,
        payer=body.payer,
        payee=body.payee,
        amount=str(amount),
        currency=body.currency,
        amount_ref_minor=ref_minor,
        payer_country=body.payer_country,
        payee_country=body.payee_country,
        method=body.method,
        memo=body.memo,
        merchant_category=body.merchant_category,
        merchant=body.merchant,
        occurred_at=body.occurred_at,
        received_at=at,
        outcome=outcome,
        status=STATUS[outcome],
        rule=decision.verdict.rule,
        ruleset_version=decision.ruleset_version,
        indicators=flags,
        shadow=answer["shadow"],
        fingerprint=fp,
        response=answer,
    )
    insert_transaction(raw, values)
    if outcome != "approve" or "review" in decision.actions:
        # Only flagged payments become an object (for the actions and events that name them).
        act(session, Transaction(**values), view, decision, actor=actor, settings=settings, test=test)
    return answer


def sextortion_intervention(settings: FinanceSettings) -> dict[str, Any]:
    """What a minor who is paying a suspected extorter is shown (the `safety.nudge` webhook)."""
    links_ = {"take_it_down": TAKE_IT_DOWN, "ncmec": NCMEC}
    if settings.local_hotline:
        links_["local_hotline"] = settings.local_hotline
    return {
        "family": "sextortion",
        "title": "Don't pay. You're not in trouble.",
        "body": (
            "If someone is threatening to share pictures of you unless you pay, stop paying: paying "
            "rarely makes them stop. You have done nothing wrong and help is here. Keep the messages, "
            "block them, and tell an adult you trust. Take It Down can help remove pictures; NCMEC "
            "and your local hotline can help right now."
        ),
        "actions": ["dont_pay", "block", "report", "talk_to_trusted_adult", "take_it_down"],
        "links": links_,
    }


def _restrict(
    session: Session, account: str, kind: str, tx: Transaction, reason: str, actor: str, test: bool = False
) -> bool:
    key = state_key(account, test)
    row = session.get(FinanceRestriction, (key, kind))
    if row is not None and row.status == "active":
        return False
    if row is None:
        row = FinanceRestriction(account_id=key, kind=kind)
        session.add(row)
    row.status, row.transaction_id, row.reason, row.created_at, row.lifted_at = "active", tx.id, reason, now(), None
    session.flush()
    record_event(
        session,
        "finance.restricted",
        subject_type="account",
        subject_id=account,
        actor=actor,
        data={
            "kind": kind,
            "transaction_id": tx.id,
            "rule": tx.rule,
            "reason": reason,
            **({"mode": "test"} if test else {}),
        },
    )
    return True


def conversation_links(session: Session, payer: str, payee: str) -> list[str]:
    """Conversations Haven flagged that involve the payer or the payee (for the reviewer)."""
    rows = session.scalars(
        select(DetectorLink.ref).where(
            DetectorLink.account_id.in_((payer, payee)),
            DetectorLink.kind.in_(
                (
                    "sextortion_conversation",
                    "grooming_conversation",
                    "sextortion_target",
                    "grooming_target",
                    "sextortion_sender",
                    "grooming_sender",
                )
            ),
        )
    ).all()
    return sorted(set(rows))


def act(
    session: Session,
    tx: Transaction,
    view: TransactionView,
    decision: Decision,
    *,
    actor: str,
    settings: FinanceSettings,
    test: bool = False,
) -> None:
    """Carry out a non-approve outcome: webhooks through the signed outbox, restrictions, the
    minor's intervention, and `transaction.flagged` (which opens the financial review task).

    For a test-mode key's payment every webhook, the nudge and the flagged event say
    `"mode": "test"` (the service's receiver must not act on real accounts), and the restrictions
    are set in the test namespace, where no live payment reads them."""
    outcome = tx.outcome
    mode: dict[str, str] = {"mode": "test"} if test else {}
    payload = {
        "transaction_id": tx.id,
        "external_id": tx.external_id,
        "payer": tx.payer,
        "payee": tx.payee,
        "rule": tx.rule,
        "reason": decision.verdict.reason,
        **mode,
    }
    if outcome in ("hold", "decline"):
        deliver(
            session,
            f"transaction.{outcome}",
            payload,
            subject_type="account",
            subject_id=tx.payer,
            actor=actor,
            idempotency_key=f"transaction.{outcome}:{tx.id}",
        )
    actions = set(decision.actions)
    if "payee.freeze" in actions and _restrict(
        session, tx.payee, "payouts_frozen", tx, decision.verdict.reason, actor, test
    ):
        deliver(
            session,
            "account.freeze_payouts",
            {**payload, "account_id": tx.payee},
            subject_type="account",
            subject_id=tx.payee,
            actor=actor,
            idempotency_key=f"account.freeze_payouts:{tx.payee}:{tx.id}",
        )
    minor_payer = view.payer_band in MINOR_BANDS
    if (
        "payer.limit_new_payees" in actions
        and minor_payer
        and _restrict(session, tx.payer, "new_payees_limited", tx, decision.verdict.reason, actor, test)
    ):
        deliver(
            session,
            "account.limit_new_payees",
            {**payload, "account_id": tx.payer},
            subject_type="account",
            subject_id=tx.payer,
            actor=actor,
            idempotency_key=f"account.limit_new_payees:{tx.payer}:{tx.id}",
        )
    conversations = conversation_links(session, state_key(tx.payer, test), state_key(tx.payee, test))
    if "nudge" in actions and minor_payer:
        record_event(
            session,
            "safety.nudge",
            subject_type="account",
            subject_id=tx.payer,
            actor=actor,
            data={
                "account_id": tx.payer,
                "conversation_id": conversations[0] if conversations else None,
                "transaction_id": tx.id,
                "message": sextortion_intervention(settings),
                **mode,
            },
        )
    record_event(
        session,
        "transaction.flagged",
        subject_type="transaction",
        subject_id=tx.id,
        actor=actor,
        data={
            "external_id": tx.external_id,
            "outcome": outcome,
            "rule": tx.rule,
            "reason": decision.verdict.reason,
            "category": decision.category,
            "actions": sorted(actions),
            "indicators": list(tx.indicators),
            "payer": tx.payer,
            "payee": tx.payee,
            "payer_band": view.payer_band,
            "payee_band": view.payee_band,
            "amount": tx.amount,
            "currency": tx.currency,
            "kind": tx.kind,
            "conversations": conversations,
            **mode,
        },
    )
