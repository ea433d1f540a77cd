"""Notices to users: statements of reasons (DSA Art 17) and the other messages of enforcement.

A statement is built from the decision as machine-readable fields in Transparency Database form
(no personal data: the account is never named in them), rendered to plain text and HTML from
templates written in English (`templates/notices/statement.txt.j2` and `.html.j2`) and the short
messages in `MESSAGES`, both translated through the `statements` gettext catalogue
(haven.core.i18n: a missing language or message falls back to English), stored, and delivered to the service
with a `notice.deliver` webhook at the latest when the restriction takes effect.

A law-enforcement request to delay telling the user (ongoing investigation) places a hold on the
account: statements are then stored as `held` and sent when the hold is released or expires.
Placing and releasing a hold are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.core import i18n
from haven.core.clock import new_id, now
from haven.core.errors import Invalid, NotFound
from haven.core.handles import handles
from haven.core.jobs import RetryLater, enqueue, handler
from haven.core.ledger import audit, record_event
from haven.enforce.models import EnforcementDecision, NoticeHold, StatementOfReasons
from haven.enforce.settings import get_enforce_settings
from haven.enforce.tdb import schedule
from haven.enforce.webhooks import deliver
from haven.policy.categories import CATEGORIES
from haven.policy.dsa import EEA_COUNTRIES

TEMPLATES = "templates/notices"
#: The translation domain of statements and notices (haven.core.i18n; catalogues in
#: `src/haven/locale/<lang>/LC_MESSAGES/statements.po`).
DOMAIN = "statements"


def N_(message: str) -> str:
    """Marks an English message for extraction; it is translated where it is used (`msg`)."""
    return message


#: The short strings of notices by key, in English; placeholders in braces stay as they are in
#: every translation. The English text is the catalogue's msgid.
MESSAGES: dict[str, str] = {
    "subject.statement": N_("Why we restricted your {what}"),
    "what.content": N_("content"),
    "what.account": N_("account"),
    "restriction.content.remove": N_("We removed {count} item(s) of your content."),
    "restriction.account.terminate": N_("We closed your account permanently."),
    "restriction.account.suspend": N_("We suspended your account until {until}."),
    "restriction.account.restrict": N_("We restricted these features of your account until {until}: {features}."),
    "restriction.account.restrict.indefinite": N_("We restricted these features of your account: {features}."),
    "feature.messaging": N_("messaging"),
    "feature.uploads": N_("uploads"),
    "feature.live": N_("live streaming"),
    "feature.payments": N_("payments"),
    "explain.illegal": N_("Content of this kind is illegal under this provision."),
    "explain.incompatible": N_("{title} is not allowed under this clause."),
    "facts.matched": N_(
        "The content matched an entry in a list of known {title_lower}, checked by automated hash matching."
    ),
    "facts.reviewed": N_("A member of our safety team reviewed the content and found {title_lower}."),
    "facts.reported": N_("We received a report about it."),
    "subject.warning": N_("A warning about your account"),
    "warning.text": N_(
        "A member of our safety team found {title_lower} in your activity. This is a warning; no strike was "
        "added. Further violations may lead to restrictions. See clause {clause} of our terms: {terms_url}"
    ),
    "subject.appeal_outcome": N_("The outcome of your appeal"),
    "appeal.upheld": N_(
        "We looked at your appeal again and reversed our decision {decision_id}: {reason} Any content we "
        "removed is restored and any restriction on your account is lifted."
    ),
    "appeal.upheld_notice": N_(
        "We looked at your complaint again and changed our decision {decision_id}: {reason} We have now "
        "acted on what you reported."
    ),
    "appeal.rejected": N_("We looked at your appeal again and our decision {decision_id} stands: {reason}"),
    "appeal.redress": N_(
        "If you disagree, you can turn to a certified out-of-court dispute settlement body ({dispute_url}) "
        "or go to court."
    ),
    "subject.report_outcome": N_("What we did about your report"),
    "report.violation": N_(
        "Thank you. We reviewed the {target} you reported ({reference}) and took action under our terms."
    ),
    "report.no_violation": N_(
        "Thank you. We reviewed the {target} you reported ({reference}) and found it does not break our "
        "terms or the law."
    ),
    "report.invalidated": N_(
        "We did not process your report {reference} because your reports were found manifestly unfounded."
    ),
    "report.redress": N_(
        "You can ask us to look at this decision again (reference {decision_id}), or turn to a certified "
        "out-of-court dispute settlement body ({dispute_url})."
    ),
    "subject.reporter_warning": N_("A warning about your reports"),
    "reporter.warning": N_(
        "Several of your reports were manifestly unfounded. If this continues we will stop processing your "
        "reports for a period (DSA Art 23)."
    ),
    "reporter.suspended": N_(
        "Because your reports were repeatedly manifestly unfounded after a warning, we will not process "
        "reports from you until {until}."
    ),
}


def _read(name: str) -> str | None:
    """A template: the operator's own (HAVEN_NOTICE_TEMPLATES_DIR) first, else the shipped one.
    Templates are written in English with `_()`; their translations are in the catalogues."""
    own = get_enforce_settings().notice_templates_dir
    if own is not None and (own / name).is_file():
        return (own / name).read_text()
    node = resources.files("haven.enforce").joinpath(f"{TEMPLATES}/{name}")
    return node.read_text() if node.is_file() else None


def locales() -> list[str]:
    """Languages notices can be written in (those with a `statements` catalogue)."""
    return list(i18n.available(DOMAIN))


def messages(locale: str) -> dict[str, str]:
    """Every short message in a locale (English where the catalogue has no translation)."""
    return {key: i18n.gettext(DOMAIN, locale, text) for key, text in MESSAGES.items()}


@lru_cache(maxsize=16)
def _env(locale: str, _own: object) -> Environment:
    env = Environment(
        loader=FunctionLoader(_read),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    tr = i18n.translations(DOMAIN, locale)
    env.install_gettext_translations(tr, newstyle=True)  # type: ignore[attr-defined]
    return env


def msg(locale: str, key: str, **kw: Any) -> str:
    return i18n.gettext(DOMAIN, locale, MESSAGES[key]).format(**kw)


def locale(account_locale: str | None = None) -> str:
    """The language of a notice: the account's own when the service gave one and a catalogue
    exists for it, else HAVEN_NOTICE_LOCALE when its catalogue exists, else English."""
    for wanted in (account_locale, get_enforce_settings().notice_locale):
        if wanted:
            chosen = i18n.negotiate(wanted, DOMAIN)
            if chosen != i18n.SOURCE_LANGUAGE or wanted.lower().startswith(i18n.SOURCE_LANGUAGE):
                return chosen
    return i18n.SOURCE_LANGUAGE


@dataclass(frozen=True)
class Restriction:
    """One restriction a decision imposed, as the statement describes it."""

    action: str  # content.remove, account.restrict, account.suspend, account.terminate
    count: int = 0
    until: datetime | None = None
    features: tuple[str, ...] = ()


def _day(d: datetime | None) -> str | None:
    return d.date().isoformat() if d else None


def build_fields(
    decision: EnforcementDecision,
    restrictions: list[Restriction],
    *,
    puid: str,
    content_kinds: list[str],
    content_date: date,
    terms_url: str,
) -> dict[str, Any]:
    """The statement in Transparency Database form (spec 2.5). No personal data: no account or
    content identifiers, no names; the facts are described by category and method only."""
    settings = get_enforce_settings()
    cat = CATEGORIES[decision.category]
    st: dict[str, Any] = {}
    actions = {r.action for r in restrictions}
    if "content.remove" in actions:
        st["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
        st["end_date_visibility_restriction"] = None
    for r in restrictions:
        if r.action == "account.terminate":
            st["decision_account"] = "DECISION_ACCOUNT_TERMINATED"
            st["decision_provision"] = "DECISION_PROVISION_TOTAL_TERMINATION"
        elif r.action == "account.suspend" and "decision_account" not in st:
            st["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
            st["decision_provision"] = "DECISION_PROVISION_TOTAL_SUSPENSION"
            st["end_date_account_restriction"] = _day(r.until)
            st["end_date_service_restriction"] = _day(r.until)
        elif r.action == "account.restrict" and "decision_provision" not in st:
            st["decision_provision"] = "DECISION_PROVISION_PARTIAL_SUSPENSION"
            st["end_date_service_restriction"] = _day(r.until)
            if "payments" in r.features:
                st["decision_monetary"] = "DECISION_MONETARY_SUSPENSION"
                st["end_date_monetary_restriction"] = _day(r.until)
    if cat.illegal:
        st["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        st["illegal_content_legal_ground"] = cat.legal_ground
        st["illegal_content_explanation"] = msg("en", "explain.illegal")
    else:
        st["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        st["incompatible_content_ground"] = f"Terms of service, clause {cat.tos_clause}"
        st["incompatible_content_explanation"] = msg("en", "explain.incompatible", title=cat.title)
        st["incompatible_content_illegal"] = "No"
    st["decision_ground_reference_url"] = f"{terms_url}#{cat.tos_clause}"[:500]
    kinds = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO", "text": "CONTENT_TYPE_TEXT"}
    types = sorted({kinds.get(k, "CONTENT_TYPE_OTHER") for k in content_kinds}) or ["CONTENT_TYPE_OTHER"]
    st["content_type"] = types
    if "CONTENT_TYPE_OTHER" in types:
        st["content_type_other"] = "file" if content_kinds else "account"
    st["category"] = cat.dsa_category
    if cat.dsa_keywords:
        st["category_specification"] = list(cat.dsa_keywords)
    st["territorial_scope"] = list(settings.territorial_scope or EEA_COUNTRIES)
    st["content_date"] = content_date.isoformat()
    st["application_date"] = decision.created_at.date().isoformat()
    st["decision_facts"] = _facts(decision, "en")[:5000]
    st["source_type"] = decision.source_type
    st["automated_detection"] = "Yes" if decision.automated_detection else "No"
    st["automated_decision"] = decision.automated_decision
    st["puid"] = puid
    return {k: v for k, v in st.items() if v is not None}


def _facts(decision: EnforcementDecision, locale: str) -> str:
    cat = CATEGORIES[decision.category]
    title_lower = cat.title[0].lower() + cat.title[1:]
    parts = []
    if decision.source == "policy":
        parts.append(msg(locale, "facts.matched", title_lower=title_lower))
    else:
        parts.append(msg(locale, "facts.reviewed", title_lower=title_lower))
    if decision.notice_case_id:
        parts.append(msg(locale, "facts.reported"))
    return " ".join(parts)


def _describe(r: Restriction, locale: str) -> str:
    feats = ", ".join(msg(locale, f"feature.{f}") for f in r.features)
    until = r.until.strftime("%Y-%m-%d %H:%M UTC") if r.until else ""
    if r.action == "content.remove":
        return msg(locale, "restriction.content.remove", count=r.count)
    if r.action == "account.restrict" and r.until is None:
        return msg(locale, "restriction.account.restrict.indefinite", features=feats)
    return msg(locale, f"restriction.{r.action}", until=until, features=feats)


def render(
    decision: EnforcementDecision,
    restrictions: list[Restriction],
    fields: dict[str, Any],
    *,
    locale: str,
    puid: str,
    terms_url: str,
    ladder: dict[str, Any] | None,
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a statement in a locale."""
    settings = get_enforce_settings()
    cat = CATEGORIES[decision.category]
    content_count = sum(r.count for r in restrictions if r.action == "content.remove")
    subject = msg(locale, "subject.statement", what=msg(locale, "what.content" if content_count else "what.account"))
    deadline = (decision.created_at + timedelta(days=settings.appeal_window_days)).date().isoformat()
    ctx = {
        "lang": locale,
        "subject": subject,
        "service": settings.service_name,
        "restrictions": [_describe(r, locale) for r in restrictions],
        "facts": _facts(decision, locale),
        "s": {
            "content_count": content_count,
            "illegal": cat.illegal,
            "legal_ground": cat.legal_ground,
            "illegal_explanation": msg(locale, "explain.illegal"),
            "incompatible_explanation": msg(locale, "explain.incompatible", title=cat.title),
            "clause": cat.tos_clause,
            "terms_url": f"{terms_url}#{cat.tos_clause}",
            "followed_notice": fields["source_type"] != "SOURCE_VOLUNTARY",
            "automated_detection": fields["automated_detection"] == "Yes",
            "automated_decision": fields["automated_decision"],
        },
        "strike": ladder if ladder and ladder.get("points_added") else None,
        "appeal_deadline": deadline,
        "appeal_url": settings.appeal_url,
        "dispute_url": settings.dispute_settlement_url,
        "decision_id": decision.id,
        "puid": puid,
        # Who decided, by pseudonymous handle only: never a staff e-mail or name (issue 16).
        "reviewers": handles(decision.deciders or []),
    }
    env = _env(locale, get_enforce_settings().notice_templates_dir)
    text = env.get_template("statement.txt.j2").render(ctx)
    html = env.get_template("statement.html.j2").render(ctx)
    return subject, text, html


def active_hold(session: Session, account_id: str) -> NoticeHold | None:
    t = now()
    for h in session.scalars(
        select(NoticeHold).where(NoticeHold.account_id == account_id, NoticeHold.released_at.is_(None))
    ):
        if h.until is None or h.until > t:
            return h
    return None


def create_statement(
    session: Session,
    decision: EnforcementDecision,
    restrictions: list[Restriction],
    *,
    content_kinds: list[str],
    content_date: date,
    terms_url: str,
    actor: str,
) -> StatementOfReasons:
    """Build, render, store and (unless held) deliver the statement of reasons of a decision."""
    lang = locale()
    puid = f"haven-{new_id()}"
    fields = build_fields(
        decision, restrictions, puid=puid, content_kinds=content_kinds, content_date=content_date, terms_url=terms_url
    )
    subject, text, html = render(
        decision, restrictions, fields, locale=lang, puid=puid, terms_url=terms_url, ladder=decision.ladder
    )
    row = StatementOfReasons(
        decision_id=decision.id,
        account_id=decision.account_id,
        puid=puid,
        locale=lang,
        fields=fields,
        subject=subject,
        text=text,
        html=html,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "statement.created",
        subject_type="decision",
        subject_id=decision.id,
        actor=actor,
        data={
            "statement_id": row.id,
            "puid": puid,
            "category": fields["category"],
            "source_type": fields["source_type"],
        },
    )

    schedule(session)
    if decision.account_id is None:
        row.notice_status = "not_deliverable"
        return row
    hold = active_hold(session, decision.account_id)
    if hold is not None:
        row.notice_status = "held"
        row.hold_id = hold.id
        audit(
            session,
            actor=actor,
            action="notice.held",
            object_type="statement",
            object_id=row.id,
            purpose=f"law-enforcement delay {hold.reference}",
        )
        record_event(
            session,
            "notice.held",
            subject_type="account",
            subject_id=decision.account_id,
            actor=actor,
            data={"statement_id": row.id, "hold_id": hold.id},
        )
        return row
    _send(session, row, actor=actor)
    return row


def statement_payload(row: StatementOfReasons) -> dict[str, Any]:
    settings = get_enforce_settings()
    return {
        "kind": "statement_of_reasons",
        "account_id": row.account_id,
        "statement_id": row.id,
        "decision_id": row.decision_id,
        "locale": row.locale,
        "subject": row.subject,
        "text": row.text,
        "html": row.html,
        "statement": row.fields,
        "appeal": {
            "decision_id": row.decision_id,
            "deadline": (row.created_at + timedelta(days=settings.appeal_window_days)).isoformat(),
            "url": settings.appeal_url or None,
        },
    }


def _send(session: Session, row: StatementOfReasons, *, actor: str) -> None:
    d = deliver(
        session,
        "notice.deliver",
        statement_payload(row),
        subject_type="account",
        subject_id=row.account_id or "",
        actor=actor,
        idempotency_key=f"notice:{row.id}",
        decision_id=row.decision_id,
    )
    row.notice_status = "delivered"
    row.delivery_id = d.id


def send_message(
    session: Session,
    *,
    account_id: str,
    kind: str,
    subject: str,
    text: str,
    key: str,
    actor: str,
    decision_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """A notice that is not a statement of reasons (warnings, appeal and report outcomes)."""
    payload = {"kind": kind, "account_id": account_id, "subject": subject, "text": text, **(extra or {})}
    deliver(
        session,
        "notice.deliver",
        payload,
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        idempotency_key=key,
        decision_id=decision_id,
    )


def place_hold(
    session: Session, *, account_id: str, reference: str, reason: str, until: datetime | None, actor: str
) -> NoticeHold:
    """Delay notices to an account at law enforcement's request (audited)."""
    if not reference.strip():
        raise Invalid("a hold needs the reference of the law-enforcement request", code="missing_reference")
    if until is not None and until.tzinfo is None:
        raise Invalid("until needs a timezone (ISO 8601 with Z or an offset)", code="invalid_until")
    if until is not None and until <= now():
        raise Invalid("the hold ends in the past", code="invalid_until")
    row = NoticeHold(account_id=account_id, reference=reference, reason=reason, until=until, created_by=actor)
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="notice_hold.place",
        object_type="account",
        object_id=account_id,
        purpose=f"law-enforcement request {reference}",
        details={"hold_id": row.id, "until": until.isoformat() if until else None},
    )
    record_event(
        session,
        "notice_hold.placed",
        subject_type="account",
        subject_id=account_id,
        actor=actor,
        data={"hold_id": row.id, "until": until.isoformat() if until else None},
    )
    if until is not None:
        enqueue(
            session,
            "enforce.release_hold",
            {"hold_id": row.id},
            dedupe_key=f"release_hold:{row.id}",
            delay=(until - now()).total_seconds(),
        )
    return row


def release_hold(session: Session, hold_id: str, *, actor: str) -> list[StatementOfReasons]:
    """End a hold and deliver the statements it held back (audited)."""
    hold = session.get(NoticeHold, hold_id)
    if hold is None:
        raise NotFound(f"no notice hold '{hold_id}'", code="hold_not_found")
    if hold.released_at is not None:
        return []
    hold.released_at = now()
    hold.released_by = actor
    audit(
        session,
        actor=actor,
        action="notice_hold.release",
        object_type="account",
        object_id=hold.account_id,
        details={"hold_id": hold.id},
    )
    record_event(
        session,
        "notice_hold.released",
        subject_type="account",
        subject_id=hold.account_id,
        actor=actor,
        data={"hold_id": hold.id},
    )
    rows = list(
        session.scalars(
            select(StatementOfReasons).where(
                StatementOfReasons.hold_id == hold.id, StatementOfReasons.notice_status == "held"
            )
        )
    )
    for r in rows:
        _send(session, r, actor=actor)
    if rows:
        schedule(session)
    return rows


@handler("enforce.release_hold")
def _release_when_due(db: Any, job: Any) -> None:
    with db.session() as s:
        hold = s.get(NoticeHold, job.payload["hold_id"])
        if hold is None or hold.released_at is not None:
            return
        if hold.until is not None and hold.until > now():
            raise RetryLater("hold not due", (hold.until - now()).total_seconds())
        release_hold(s, hold.id, actor="system:haven")
