"""The event catalogue: every type of ledger event, what it is about and what it carries.

Each event type is declared once here with its subject kind(s) (what `subject_type` may be)
and a pydantic payload model (what `data` may hold: typed fields, no others). `record_event`
checks every event against this catalogue and raises `EventError`, a programming error, when
an event is unknown, about the wrong kind of subject, or carries a payload that does not fit:
events are written by Haven's own code, never from user input, so a misfit is a bug in Haven.

Subject kinds are unique names, one per table (or one per thing outside Haven's tables, such
as the EU transparency database). `docs/events.md` is generated from this module:

    python -m haven.core.events > docs/events.md

Adding an event: declare it below (a constant, its subjects, a payload model with a
docstring), pass the constant to `record_event`, and regenerate `docs/events.md`.

This module is part of `core`: it imports nothing from the capabilities.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# --- subject kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectKind:
    """What an event is about: a unique name, the table its ids point into, a description."""

    name: str
    table: str | None
    doc: str


SUBJECT_KINDS: dict[str, SubjectKind] = {}


def _kind(name: str, table: str | None, doc: str) -> str:
    if name in SUBJECT_KINDS:
        raise ValueError(f"subject kind '{name}' is declared twice")
    SUBJECT_KINDS[name] = SubjectKind(name, table, doc)
    return name


ACCOUNT = _kind("account", "accounts", "an account of the integrated service (id as the service gives it)")
APPEAL = _kind("appeal", "appeals", "an appeal against an enforcement decision")
BANK = _kind("bank", "banks", "a hash bank")
BANK_ENTRY = _kind("bank_entry", "bank_entries", "one entry (hash) of a bank")
CONTENT = _kind("content", "content_items", "an uploaded or looked-up content item")
CONVERSATION = _kind("conversation", "conversations", "a conversation between accounts")
DECISION = _kind("decision", "enforcement_decisions", "an enforcement decision")
EXCHANGE = _kind("exchange", "exchanges", "a hash-sharing exchange (NCMEC, StopNCII, ThreatExchange, a Haven feed)")
EXCHANGE_PARTNER = _kind("exchange_partner", "exchange_partners", "a partner Haven's confirmed hashes are published to")
EVIDENCE = _kind("evidence", None, "the evidence vault as a whole (an export made outside a legal request)")
GUARDIANSHIP = _kind("guardianship", "youth_guardianships", "a guardian's link to a teen (parental controls)")
EVIDENCE_OBJECT = _kind("evidence_object", "evidence_objects", "one sealed object in the evidence vault")
LEGAL_HOLD = _kind("legal_hold", "evidence_holds", "a legal hold on evidence")
LEGAL_REQUEST = _kind("legal_request", "legal_requests", "a law-enforcement request")
NOTICE_CASE = _kind("notice_case", "notice_cases", "a case of user reports (DSA notices) about one target")
POLICY_RULESET = _kind("policy_ruleset", "policy_rulesets", "one installed revision of the policy rules")
REPORT_CASE = _kind("report_case", "report_cases", "a CyberTipline report case")
REPORTER = _kind("reporter", "reporter_standing", "someone who files user reports (their standing)")
STAFF = _kind("staff", "staff", "a staff member (reviewer, administrator, ...)")
TDB = _kind("tdb", None, "the EU DSA Transparency Database (subject id 'statements')")
TERMS = _kind("terms", "terms_versions", "a version of the terms of service (subject id: the version)")
TRANSACTION = _kind("transaction", "finance_transactions", "a payment screened by finance")
TRAINING_MODULE = _kind("training_module", "training_module_versions", "a training module (subject id: its slug)")
WEBHOOK_ENDPOINT = _kind("webhook_endpoint", "webhook_endpoints", "the service's webhook endpoint")

#: What review tasks and enforcement decisions may be about.
REVIEWABLE = (CONTENT, ACCOUNT, CONVERSATION, NOTICE_CASE)
#: What a webhook action may be about.
WEBHOOK_SUBJECTS = (CONTENT, ACCOUNT, TERMS)


# --- the catalogue ------------------------------------------------------------------------------


class Payload(BaseModel):
    """The base of every payload model: typed fields, and no others."""

    model_config = ConfigDict(extra="forbid")


class NoData(Payload):
    """An event that carries nothing beyond its subject and actor."""


class EventError(ValueError):
    """An event that does not fit the catalogue: a bug in Haven, never a user's mistake."""

    def __init__(self, event_type: str, field: str | None, message: str) -> None:
        self.event_type = event_type
        self.field = field
        where = f" (field '{field}')" if field else ""
        super().__init__(f"event '{event_type}'{where}: {message}")


@dataclass(frozen=True)
class EventType:
    """One catalogue entry."""

    name: str
    subjects: tuple[str, ...]
    payload: type[Payload]
    #: Shown to the account in an access request (`POST /v1/accounts/{id}/dsar`): only events the
    #: person is told anyway (their age results, protections, strikes, terms, safety messages).
    #: Everything else about detection, reports and investigations is withheld as a class.
    disclosed: bool = False

    @property
    def doc(self) -> str:
        return " ".join((self.payload.__doc__ or "").split())

    def check(self, subject_type: str, data: Mapping[str, Any] | None) -> None:
        """Raise `EventError` unless an event of this type may be about this subject and carry `data`."""
        if subject_type not in self.subjects:
            raise EventError(self.name, "subject_type", f"'{subject_type}' is not one of {', '.join(self.subjects)}")
        try:
            self.payload.__pydantic_validator__.validate_python(data or {})
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            field = ".".join(str(p) for p in errors[0]["loc"]) or None
            raise EventError(self.name, field, f"{errors[0]['msg']} ({len(errors)} error(s) in the payload)") from None


CATALOGUE: dict[str, EventType] = {}


def declare(name: str, subjects: str | tuple[str, ...], payload: type[Payload], *, disclosed: bool = False) -> str:
    """Add an event type to the catalogue; returns its name, to use as a constant. `disclosed`:
    an access request by the subject account shows it (see `EventType.disclosed`)."""
    if name in CATALOGUE:
        raise ValueError(f"event type '{name}' is declared twice")
    subs = (subjects,) if isinstance(subjects, str) else tuple(subjects)
    if disclosed and ACCOUNT not in subs:
        raise ValueError(f"event type '{name}' is disclosed to an account but is never about one")
    CATALOGUE[name] = EventType(name, subs, payload, disclosed)
    return name


@contextmanager
def declared(name: str, subjects: str | tuple[str, ...], payload: type[Payload] = NoData) -> Iterator[str]:
    """Declare an event type for the duration of a block (for tests of the ledger itself)."""
    declare(name, subjects, payload)
    try:
        yield name
    finally:
        CATALOGUE.pop(name, None)


def check(type: str, subject_type: str, data: Mapping[str, Any] | None) -> None:
    """Raise `EventError` unless the event fits the catalogue (called by `record_event`)."""
    entry = CATALOGUE.get(type)
    if entry is None:
        raise EventError(type, None, "not in the event catalogue (haven.core.events)")
    entry.check(subject_type, data)


# --- accounts -----------------------------------------------------------------------------------


class AccountAgeBandSet(Payload):
    """An account's age band was set (declared by the service or assured)."""

    old: str | None
    new: str
    source: str


class AccountBlocked(Payload):
    """The subject account blocked another account."""

    blocked: str


class AccountStateChanged(Payload):
    """An account's enforcement state changed (e.g. active -> suspended)."""

    from_: str = Field(alias="from")
    to: str
    reason: str


ACCOUNT_AGE_BAND_SET = declare("account.age_band_set", ACCOUNT, AccountAgeBandSet, disclosed=True)
ACCOUNT_BLOCKED = declare("account.blocked", ACCOUNT, AccountBlocked)
ACCOUNT_STATE_CHANGED = declare("account.state_changed", ACCOUNT, AccountStateChanged, disclosed=True)


# --- banks --------------------------------------------------------------------------------------


class BankCreated(Payload):
    """A hash bank was created."""

    name: str
    kind: str


class BankUpdated(Payload):
    """A bank's settings changed: the changed fields' values before and after."""

    before: dict[str, Any]
    after: dict[str, Any]


class BankDeleted(Payload):
    """A bank and its entries were deleted."""

    name: str
    entries: int


class BankEntriesAdded(Payload):
    """Entries were added to a bank (duplicates of live entries skipped)."""

    count: int
    skipped_duplicates: int


class BankEntryChanged(Payload):
    """An entry (and its banked variants) was enabled, disabled or released from flood quarantine."""


class BankEntryQuarantined(Payload):
    """An entry was put in flood quarantine (it matched too many distinct items too fast)."""

    reason: str


BANK_CREATED = declare("bank.created", BANK, BankCreated)
BANK_UPDATED = declare("bank.updated", BANK, BankUpdated)
BANK_DELETED = declare("bank.deleted", BANK, BankDeleted)
BANK_ENTRIES_ADDED = declare("bank.entries_added", BANK, BankEntriesAdded)
BANK_ENTRY_ENABLED = declare("bank.entry_enabled", BANK_ENTRY, BankEntryChanged)
BANK_ENTRY_DISABLED = declare("bank.entry_disabled", BANK_ENTRY, BankEntryChanged)
BANK_ENTRY_RELEASED = declare("bank.entry_released", BANK_ENTRY, BankEntryChanged)
BANK_ENTRY_QUARANTINED = declare("bank.entry_quarantined", BANK_ENTRY, BankEntryQuarantined)


# --- exchange -----------------------------------------------------------------------------------


class ExchangeCreated(Payload):
    """An exchange was configured: its kind, which upstream list feeds which bank, its trust mode."""

    name: str
    kind: str
    lists: dict[str, str]
    trust_mode: str


class ExchangeFetched(Payload):
    """A fetch ran: pages applied and entries added, updated, deleted (disabled), stored without a
    matcher (PhotoDNA, ...), without a bank for their list, or skipped (expired feed entries)."""

    pages: int
    added: int
    updated: int
    deleted: int
    unmatched: int
    unrouted: int
    skipped: int
    complete: bool
    seconds: float


class ExchangeFetchFailed(Payload):
    """A fetch failed; nothing of the failing page was applied and the checkpoint stayed."""

    code: str
    message: str


class ExchangeRetroMatched(Payload):
    """A past upload matched an entry that arrived later (retroaction): a review task was opened."""

    entry_id: str
    bank_id: str
    signal_type: str
    distance: int
    exchange: str | None


class ExchangeFeedbackQueued(Payload):
    """Feedback on an exchange entry was queued for the provider (confirm, overturn, dispute)."""

    entry_id: str
    sentiment: str
    decision_id: str | None


class ExchangeFeedbackDone(Payload):
    """Feedback was sent to the provider, or recorded as unsupported by its API."""

    entry_id: str
    sentiment: str
    attempts: int


class ExchangeEntryDisputed(Payload):
    """Reviewers overturned matches of an entry as often as the exchange's threshold: the entry is
    disabled here and reported back as disputed."""

    entry_id: str
    upstream_id: str
    overturned: int


class ExchangeSharingChanged(Payload):
    """A staff member turned sharing with a partner on or off (the audit log keeps the reason)."""

    enabled: bool
    banks: list[str]


EXCHANGE_CREATED = declare("exchange.created", EXCHANGE, ExchangeCreated)
EXCHANGE_ENABLED = declare("exchange.enabled", EXCHANGE, NoData)
EXCHANGE_DISABLED = declare("exchange.disabled", EXCHANGE, NoData)
EXCHANGE_FETCHED = declare("exchange.fetched", EXCHANGE, ExchangeFetched)
EXCHANGE_FETCH_FAILED = declare("exchange.fetch_failed", EXCHANGE, ExchangeFetchFailed)
EXCHANGE_RETRO_MATCHED = declare("exchange.retro_matched", CONTENT, ExchangeRetroMatched)
EXCHANGE_FEEDBACK_QUEUED = declare("exchange.feedback_queued", EXCHANGE, ExchangeFeedbackQueued)
EXCHANGE_FEEDBACK_SENT = declare("exchange.feedback_sent", EXCHANGE, ExchangeFeedbackDone)
EXCHANGE_FEEDBACK_UNSUPPORTED = declare("exchange.feedback_unsupported", EXCHANGE, ExchangeFeedbackDone)
EXCHANGE_ENTRY_DISPUTED = declare("exchange.entry_disputed", EXCHANGE, ExchangeEntryDisputed)
EXCHANGE_SHARING_CHANGED = declare("exchange.sharing_changed", EXCHANGE_PARTNER, ExchangeSharingChanged)


# --- content (written only by haven.screening.settle) -------------------------------------------


class ContentReceived(Payload):
    """A content item was received and screened for the first time."""

    media_kind: str
    surface: str | None
    uploader: str | None
    matches: int


class ShadowHitData(Payload):
    """A shadow rule that matched: what it would have decided."""

    rule: str
    verdict: str
    would_decide: bool


class ContentVerdict(Payload):
    """A content item's verdict (at intake, or raised by a later analysis such as video)."""

    action: str
    rule: str
    labels: list[str]
    matched_entries: list[str]
    uploader: str | None
    priority: str
    pending_analysis: bool
    analysis: str | None
    previous_action: str | None
    ruleset_version: str
    category: str | None
    actions: list[str]
    shadow: list[ShadowHitData]
    #: The item's surface (profile, avatar, message...), so that a consumer can filter on it.
    surface: str | None = None


class ContentEnforcementRequested(Payload):
    """A content item became blocked by a rule with enforcing actions: enforcement acts on it."""

    rule: str
    category: str | None
    actions: list[str]
    uploader: str | None


CONTENT_RECEIVED = declare("content.received", CONTENT, ContentReceived)
CONTENT_VERDICT = declare("content.verdict", CONTENT, ContentVerdict)
CONTENT_ENFORCEMENT_REQUESTED = declare("content.enforcement_requested", CONTENT, ContentEnforcementRequested)


# --- conversations ------------------------------------------------------------------------------


class MessageReceived(Payload):
    """A message of a conversation was received and scored; with its verdict when the rules gave one."""

    message_id: str
    turn: int
    behaviours: int
    action: Literal["allow", "hold", "block"] | None = None
    rule: str | None = None
    ruleset_version: str | None = None
    shadow: list[dict[str, Any]] | None = None
    category: str | None = None
    actions: list[str] | None = None


class FamilyScore(Payload):
    """A risk family's score and the behaviours seen so far."""

    score: float
    behaviours: list[dict[str, Any]]


class ConversationFlagged(Payload):
    """A rule asked a person to look at a conversation (`review` action): a risk family's warning
    fired (grooming or sextortion), or a message was held."""

    conversation_id: str
    family: str
    sender: str
    recipients: list[str]
    participants: list[str]
    turn: int
    grooming: FamilyScore
    sextortion: FamilyScore
    relationship: list[str]
    priority: str
    preserved: bool
    #: The rule that decided the message, and its verdict (allow, hold or block).
    rule: str | None = None
    action: str | None = None


class SafetyNudge(Payload):
    """A minor in a flagged conversation is shown a safety message."""

    account_id: str
    #: The flagged conversation, when the nudge comes from one (a payment's nudge names it if known).
    conversation_id: str | None = None
    turn: int | None = None
    #: The payment that triggered a financial sextortion intervention.
    transaction_id: str | None = None
    message: dict[str, Any]
    #: "test" when caused by a test-mode key's traffic (docs/integration.md, test mode).
    mode: str | None = None


class SafetyNudgeOutcome(Payload):
    """The service told Haven what the child did with a safety message (`POST
    /v1/nudges/{event_id}/outcome`): opened it, dismissed it, or reported or blocked from it."""

    nudge_event_id: str
    action: Literal["clicked", "dismissed", "reported", "blocked"]
    conversation_id: str
    family: str


MESSAGE_RECEIVED = declare("message.received", CONVERSATION, MessageReceived)
CONVERSATION_FLAGGED = declare("conversation.flagged", CONVERSATION, ConversationFlagged)
SAFETY_NUDGE = declare("safety.nudge", ACCOUNT, SafetyNudge, disclosed=True)
SAFETY_NUDGE_OUTCOME = declare("safety.nudge_outcome", ACCOUNT, SafetyNudgeOutcome, disclosed=True)


# --- youth (age assurance, protections, guardians) ----------------------------------------------


class AgeSignalReceived(Payload):
    """An age-assurance result was stored for an account (a result only: no document or image)."""

    signal_id: str
    method: str
    provider: str
    level: str
    age_band: str


class AgeAssured(Payload):
    """An account's assured age changed (band, level or method), derived from its signals."""

    age_band: str
    level: str
    method: str | None
    previous_band: str | None
    previous_level: str | None


class AgeReassuranceRequested(Payload):
    """Haven asks the service to re-check an account's age, saying why."""

    request_id: str
    reason_code: str
    reason: str
    required_level: str | None


class AgeOverride(Payload):
    """A staff member set an account's assured age by hand (reason required)."""

    age_band: str
    level: str
    previous_band: str | None
    reason: str


class AgePurged(Payload):
    """A staff member purged an account's age data (signals and assured age)."""

    signals: int
    reason: str


class ProtectionsChanged(Payload):
    """The settings the service must apply to an account changed."""

    age_band: str
    profile: str
    settings: dict[str, Any]
    changed: list[str]


class ConnectionChanged(Payload):
    """The service told Haven that `other` is (or is no longer) among the account's connections."""

    other: str
    kind: str


class GuardianLink(Payload):
    """A guardian link was created, confirmed by the teen, or revoked by either side."""

    guardian_id: str
    teen_id: str
    by: str | None = None


class GuardianApprovalRequested(Payload):
    """A guardian's approval was asked for (a purchase above the cap, or loosening a default)."""

    approval_id: str
    kind: str
    setting: str | None
    amount: int | None
    currency: str | None


class GuardianApprovalAnswered(Payload):
    """A guardian approved or declined a request (or it needed no approval)."""

    approval_id: str
    kind: str
    status: str


class GuardianDigest(Payload):
    """A weekly digest of a teen's activity metadata was sent to the guardian (no message text)."""

    period_start: str
    period_end: str
    counts: dict[str, int]


AGE_SIGNAL_RECEIVED = declare("age.signal_received", ACCOUNT, AgeSignalReceived, disclosed=True)
AGE_ASSURED = declare("age.assured", ACCOUNT, AgeAssured, disclosed=True)
AGE_REASSURANCE_REQUESTED = declare("age.reassurance_requested", ACCOUNT, AgeReassuranceRequested, disclosed=True)
AGE_OVERRIDE = declare("age.override", ACCOUNT, AgeOverride, disclosed=True)
AGE_PURGED = declare("age.purged", ACCOUNT, AgePurged, disclosed=True)
PROTECTIONS_CHANGED = declare("youth.protections_changed", ACCOUNT, ProtectionsChanged, disclosed=True)
CONNECTION_SET = declare("youth.connection_set", ACCOUNT, ConnectionChanged, disclosed=True)
CONNECTION_REMOVED = declare("youth.connection_removed", ACCOUNT, ConnectionChanged, disclosed=True)
GUARDIAN_LINK_CREATED = declare("guardian.link_created", GUARDIANSHIP, GuardianLink)
GUARDIAN_LINK_CONFIRMED = declare("guardian.link_confirmed", GUARDIANSHIP, GuardianLink)
GUARDIAN_LINK_REVOKED = declare("guardian.link_revoked", GUARDIANSHIP, GuardianLink)
GUARDIAN_APPROVAL_REQUESTED = declare("guardian.approval_requested", GUARDIANSHIP, GuardianApprovalRequested)
GUARDIAN_APPROVAL_ANSWERED = declare("guardian.approval_answered", GUARDIANSHIP, GuardianApprovalAnswered)
GUARDIAN_DIGEST = declare("guardian.digest", GUARDIANSHIP, GuardianDigest)


# --- finance ------------------------------------------------------------------------------------


class TransactionFlagged(Payload):
    """A payment was held, declined or sent to review by a financial rule (approvals are kept on
    the transaction row): the financial review task opens from this."""

    external_id: str
    outcome: str
    rule: str
    reason: str
    category: str | None
    actions: list[str]
    indicators: list[str]
    payer: str
    payee: str
    payer_band: str
    payee_band: str
    amount: str
    currency: str
    kind: str
    #: Flagged conversations of the payer or the payee (shown to the reviewer beside the money).
    conversations: list[str]
    #: "test" when caused by a test-mode key's traffic (docs/integration.md, test mode).
    mode: str | None = None


class TransactionSettled(Payload):
    """A reviewer's decision on a held payment: released (it goes through) or kept (declined)."""

    status: str
    decision_id: str
    reviewer: str


class FinanceRestricted(Payload):
    """A financial restriction was put on an account (payouts frozen, new payees limited)."""

    kind: str
    transaction_id: str
    rule: str
    reason: str
    #: "test" when caused by a test-mode key's traffic (docs/integration.md, test mode).
    mode: str | None = None


class FinanceRestrictionLifted(Payload):
    """A financial restriction was lifted by a reviewer's decision."""

    kind: str
    decision_id: str
    #: "test" when caused by a test-mode key's traffic (docs/integration.md, test mode).
    mode: str | None = None


class FinanceSarExported(Payload):
    """A SAR/STR support package was exported: what it contains, for whom."""

    export_id: str
    regime: str
    transactions: int
    files: list[str]
    fields: list[str]


TRANSACTION_FLAGGED = declare("transaction.flagged", TRANSACTION, TransactionFlagged)
TRANSACTION_SETTLED = declare("transaction.settled", TRANSACTION, TransactionSettled)
FINANCE_RESTRICTED = declare("finance.restricted", ACCOUNT, FinanceRestricted)
FINANCE_RESTRICTION_LIFTED = declare("finance.restriction_lifted", ACCOUNT, FinanceRestrictionLifted)
FINANCE_SAR_EXPORTED = declare("finance.sar_exported", ACCOUNT, FinanceSarExported)


# --- review -------------------------------------------------------------------------------------


class ReviewTaskCreated(Payload):
    """A review task was created in a queue."""

    task_id: str
    queue: str
    priority: int
    child_safety: bool


class ReviewTaskRaised(Payload):
    """A waiting review task was raised in priority by new information."""

    task_id: str
    queue: str
    priority: int
    source_key: str


class ReviewTaskHandled(Payload):
    """A reviewer claimed or released a task."""

    task_id: str
    queue: str


class ReviewDecided(Payload):
    """A reviewer decided a task (violation, no violation, escalation, ...)."""

    decision_id: str
    task_id: str
    queue: str
    decision: str
    category: str | None
    classification: str | None
    annotations: list[str]
    reviewer: str
    uploader: str | None
    content_ids: list[str]
    automated: bool
    overturns: str | None
    appeal_id: str | None = None


class ReviewTaskResolved(Payload):
    """An open task was closed without a decision of its own, because a decision on another
    task already settled its subject (a report case closed by the conversation's decision)."""

    task_id: str
    queue: str
    resolved_by: str | None
    reason: str


class ReviewTaskUnstaffed(Payload):
    """A new task that no enabled staff member may take (roles, training, exclusions): admins
    must give someone the role or training before its deadline."""

    task_id: str
    queue: str
    reason: str
    due_at: str | None


REVIEW_TASK_CREATED = declare("review.task_created", REVIEWABLE, ReviewTaskCreated)
REVIEW_TASK_RAISED = declare("review.task_raised", REVIEWABLE, ReviewTaskRaised)
REVIEW_TASK_CLAIMED = declare("review.task_claimed", REVIEWABLE, ReviewTaskHandled)
REVIEW_TASK_RELEASED = declare("review.task_released", REVIEWABLE, ReviewTaskHandled)
REVIEW_DECISION = declare("review.decision", REVIEWABLE, ReviewDecided)
REVIEW_TASK_RESOLVED = declare("review.task_resolved", REVIEWABLE, ReviewTaskResolved)
REVIEW_TASK_UNSTAFFED = declare("review.task_unstaffed", REVIEWABLE, ReviewTaskUnstaffed)


# --- policy -------------------------------------------------------------------------------------


class PolicyRulesetAdded(Payload):
    """A rule set was installed, or a new revision promoted shadow rules to active."""

    revision: int
    version: str
    active: bool
    promoted: list[str]
    shadow: list[str]


POLICY_RULES_INSTALLED = declare("policy.rules_installed", POLICY_RULESET, PolicyRulesetAdded)
POLICY_RULE_PROMOTED = declare("policy.rule_promoted", POLICY_RULESET, PolicyRulesetAdded)


# --- enforcement --------------------------------------------------------------------------------


class EnforcementDecided(Payload):
    """An enforcement decision: what was decided about the subject and the actions taken."""

    decision_id: str
    source: str
    source_ref: str
    category: str
    account_id: str | None
    content_ids: list[str]
    source_type: str
    automated_detection: bool
    automated_decision: str
    ladder: dict[str, Any] | None
    restrictions: list[str]


class EnforcementConfirmed(Payload):
    """A human decision confirmed an existing (automated) decision: no second set of actions."""

    decision_id: str
    source_ref: str
    source: str


class EnforcementNoViolation(Payload):
    """A user-report case was decided as no violation."""

    decision_id: str
    case_id: str
    category: str
    source_type: str


class EnforcementOverturned(Payload):
    """A decision was overturned (on appeal or by a later review); what was reversed."""

    decision_id: str
    reason: str
    reversed: list[str]
    category: str


class EnforcementRefused(Payload):
    """Enforcement could not act on an event (e.g. no target); the error it met."""

    event_id: str
    code: str
    message: str


ENFORCEMENT_DECIDED = declare("enforcement.decided", REVIEWABLE, EnforcementDecided)
ENFORCEMENT_CONFIRMED = declare("enforcement.confirmed", REVIEWABLE, EnforcementConfirmed)
ENFORCEMENT_NO_VIOLATION = declare("enforcement.no_violation", REVIEWABLE, EnforcementNoViolation)
ENFORCEMENT_OVERTURNED = declare("enforcement.overturned", REVIEWABLE, EnforcementOverturned)
ENFORCEMENT_REFUSED = declare("enforcement.refused", REVIEWABLE, EnforcementRefused)


class StrikeAdded(Payload):
    """A strike was added to an account."""

    strike_id: str
    decision_id: str
    category: str
    severity: str
    points: int
    expires_at: str | None
    points_after: int


class StrikeRemoved(Payload):
    """A strike was removed (its decision overturned)."""

    strike_id: str
    decision_id: str
    points: int
    reason: str


STRIKE_ADDED = declare("strike.added", ACCOUNT, StrikeAdded, disclosed=True)
STRIKE_REMOVED = declare("strike.removed", ACCOUNT, StrikeRemoved, disclosed=True)


class StatementCreated(Payload):
    """A statement of reasons was written for a decision."""

    statement_id: str
    puid: str
    category: str
    source_type: str


class NoticeHeld(Payload):
    """A statement of reasons was held back (a notice hold on the account)."""

    statement_id: str
    hold_id: str


class NoticeHoldPlaced(Payload):
    """Notices to an account are held back (e.g. at law enforcement's request) until a date or release."""

    hold_id: str
    until: str | None


class NoticeHoldReleased(Payload):
    """A notice hold ended; the statements it held back are delivered."""

    hold_id: str


class DsaStatementsSubmitted(Payload):
    """A batch of statements of reasons was sent to the DSA Transparency Database."""

    submitted: int
    rejected: int
    #: Always 0 in the event: the count of statements still pending is taken afterwards.
    remaining: int


STATEMENT_CREATED = declare("statement.created", DECISION, StatementCreated)
NOTICE_HELD = declare("notice.held", ACCOUNT, NoticeHeld)
NOTICE_HOLD_PLACED = declare("notice_hold.placed", ACCOUNT, NoticeHoldPlaced)
NOTICE_HOLD_RELEASED = declare("notice_hold.released", ACCOUNT, NoticeHoldReleased)
DSA_STATEMENTS_SUBMITTED = declare("dsa.statements_submitted", TDB, DsaStatementsSubmitted)


class WebhookConfigured(Payload):
    """The service's webhook endpoint was set."""

    url: str


class WebhookQueued(Payload):
    """A webhook action was queued for the service (the outbox)."""

    delivery_id: str
    action: str
    decision_id: str | None


class WebhookDelivered(Payload):
    """A webhook action was delivered."""

    delivery_id: str
    action: str
    attempts: int


class WebhookDeadLettered(Payload):
    """A webhook action failed for good; the last error."""

    delivery_id: str
    action: str
    attempts: int
    error: str


class WebhookReplayed(Payload):
    """A staff member sent a webhook action again."""

    delivery_id: str
    action: str
    replay: int


class WebhookSecretRotated(Payload):
    """The endpoint's signing secret was replaced; the old one signs too until `previous_until`
    (ISO time, or None when it stopped at once). Never the secrets."""

    previous_until: str | None


WEBHOOK_CONFIGURED = declare("webhook.configured", WEBHOOK_ENDPOINT, WebhookConfigured)
WEBHOOK_QUEUED = declare("webhook.queued", WEBHOOK_SUBJECTS, WebhookQueued)
WEBHOOK_DELIVERED = declare("webhook.delivered", WEBHOOK_SUBJECTS, WebhookDelivered)
WEBHOOK_DEAD_LETTERED = declare("webhook.dead_lettered", WEBHOOK_SUBJECTS, WebhookDeadLettered)
WEBHOOK_REPLAYED = declare("webhook.replayed", WEBHOOK_SUBJECTS, WebhookReplayed)
WEBHOOK_SECRET_ROTATED = declare("webhook.secret_rotated", WEBHOOK_ENDPOINT, WebhookSecretRotated)


# --- appeals and user reports (DSA notices) -----------------------------------------------------


class AppealFiled(Payload):
    """An appeal against a decision was filed."""

    appeal_id: str
    decision_id: str
    source_ref: str
    category: str
    account_id: str | None
    content_ids: list[str]
    original_deciders: list[str]
    priority: int
    automated_decision: str


class AppealDecided(Payload):
    """An appeal was decided (by a reviewer who did not take the original decision)."""

    appeal_id: str
    decision_id: str
    outcome: str
    reversed: list[str]
    category: str
    filed_at: str


APPEAL_FILED = declare("appeal.filed", APPEAL, AppealFiled)
APPEAL_DECIDED = declare("appeal.decided", APPEAL, AppealDecided)


class UserReportReceived(Payload):
    """A user report (DSA notice) was received, and opened or joined a case about its target."""

    case_id: str
    report_id: str
    merged: bool
    priority: int
    category: str
    report_category: str
    child_safety: bool
    imminent_risk: bool
    trusted_flagger: bool
    anonymous: bool
    target_type: str
    target_id: str
    reports_count: int
    verdict: str
    rule: str
    #: The reporter's account at the service, when the report names one (to tell that a safety
    #: message was followed by a report from the same account; haven.transparency.nudges).
    reporter_id: str | None = None


class NoticeCaseClosed(Payload):
    """A user-report case was closed; how many reporters were told the outcome."""

    outcome: str
    decision_id: str | None
    reports: int
    reporters_told: int
    trusted_reports: int
    priority: int
    category: str


class ReporterStandingChanged(Payload):
    """A reporter was warned, or suspended, for manifestly unfounded reports (DSA art. 23)."""

    invalidated: int
    until: str | None
    art23: bool


USER_REPORT_RECEIVED = declare("user_report.received", NOTICE_CASE, UserReportReceived)


class ConversationConsented(Payload):
    """A reporter who reported from a chat agreed that the conversation be attached to the report
    (hosted report form, `/report`): reviewers may read it for this case."""

    report_id: str
    conversation_id: str


REPORT_CONVERSATION_CONSENTED = declare("user_report.conversation_consented", NOTICE_CASE, ConversationConsented)
NOTICE_CASE_CLOSED = declare("notice_case.closed", NOTICE_CASE, NoticeCaseClosed)
REPORTER_WARNED = declare("reporter.warned", REPORTER, ReporterStandingChanged)
REPORTER_SUSPENDED = declare("reporter.suspended", REPORTER, ReporterStandingChanged)


# --- CyberTipline report cases ------------------------------------------------------------------


class ReportCaseOpened(Payload):
    """A CyberTipline report case was opened from a decision."""

    decision_id: str | None
    category: str
    content_ids: list[str]


class ReportConversationAttached(Payload):
    """Conversation rows were attached to a report case (by the system, or edited by staff)."""

    rows: int
    conversation_id: str | None = None
    evidence_object_id: str | None = None
    source: str | None = None


class ReportCaseUpdated(Payload):
    """Fields of a report case changed: by staff, or by a further decision on the same incident
    merged into the open draft (`decision_id`)."""

    fields: list[str]
    decision_id: str | None = None


class ReportQueued(Payload):
    """A report case was queued for submission."""

    environment: str
    files: int


class ReportReason(Payload):
    """Staff asked to cancel a report case."""

    reason: str | None


class ReportCancelled(Payload):
    """A report case was cancelled (e.g. its decision was overturned before submission)."""

    reason: str | None = None
    by_decision: str | None = None


class ReportOverturnedAfterSubmission(Payload):
    """A submitted report's decision was overturned: a person must decide whether to retract."""

    status: str


class ReportMaterialMissing(Payload):
    """Content to report was no longer in quarantine."""

    content_id: str


class ReportOpened(Payload):
    """The CyberTipline opened a report (its report id)."""

    environment: str
    ncmec_report_id: str | None
    submission: str


class ReportFileUploaded(Payload):
    """A file was uploaded to an open CyberTipline report."""

    submission: str
    file: str
    ncmec_file_id: str | None


class ReportUploadHashMismatch(Payload):
    """The CyberTipline's hash of an uploaded file differs from ours."""

    file: str
    ours: str
    theirs: str | None


class ReportSubmission(Payload):
    """A submission attempt was lost (the process stopped mid-way) and is started again."""

    submission: str


class ReportExpired(Payload):
    """An open CyberTipline report expired before it was finished."""

    submission: str
    ncmec_report_id: str | None = None
    code: int | None = None


class ReportUncertainStep(Payload):
    """A step's outcome is unknown (the process stopped mid-call): a person must check."""

    submission: str
    file: str
    stage: str


class ReportRetracted(Payload):
    """An open CyberTipline report was retracted."""

    submission: str
    ncmec_report_id: str | None


class ReportFinished(Payload):
    """A CyberTipline report was finished (submitted), with the time since first knowledge."""

    environment: str
    ncmec_report_id: str | None
    files: list[str | None]
    seconds_since_knowledge: float
    category: str


class ReportError(Payload):
    """The CyberTipline refused the credentials (the machine pauses), or the submission failed."""

    code: int | None
    message: str


REPORT_CASE_OPENED = declare("report.case_opened", REPORT_CASE, ReportCaseOpened)
REPORT_CONVERSATION_ATTACHED = declare("report.conversation_attached", REPORT_CASE, ReportConversationAttached)
REPORT_CASE_UPDATED = declare("report.case_updated", REPORT_CASE, ReportCaseUpdated)
REPORT_QUEUED = declare("report.queued", REPORT_CASE, ReportQueued)
REPORT_CANCEL_REQUESTED = declare("report.cancel_requested", REPORT_CASE, ReportReason)
REPORT_RESUMED = declare("report.resumed", REPORT_CASE, NoData)
REPORT_CANCELLED = declare("report.cancelled", REPORT_CASE, ReportCancelled)
REPORT_OVERTURNED_AFTER_SUBMISSION = declare(
    "report.overturned_after_submission", REPORT_CASE, ReportOverturnedAfterSubmission
)
REPORT_MATERIAL_MISSING = declare("report.material_missing", REPORT_CASE, ReportMaterialMissing)
REPORT_OPENED = declare("report.opened", REPORT_CASE, ReportOpened)
REPORT_FILE_UPLOADED = declare("report.file_uploaded", REPORT_CASE, ReportFileUploaded)
REPORT_UPLOAD_HASH_MISMATCH = declare("report.upload_hash_mismatch", REPORT_CASE, ReportUploadHashMismatch)
REPORT_SUBMISSION_LOST = declare("report.submission_lost", REPORT_CASE, ReportSubmission)
REPORT_EXPIRED = declare("report.expired", REPORT_CASE, ReportExpired)
REPORT_UNCERTAIN_STEP = declare("report.uncertain_step", REPORT_CASE, ReportUncertainStep)
REPORT_RETRACTED = declare("report.retracted", REPORT_CASE, ReportRetracted)
REPORT_FINISHED = declare("report.finished", REPORT_CASE, ReportFinished)
REPORT_CREDENTIAL_ALERT = declare("report.credential_alert", REPORT_CASE, ReportError)
REPORT_FAILED = declare("report.failed", REPORT_CASE, ReportError)
REPORT_SCRUBBED = declare("report.scrubbed", REPORT_CASE, NoData)


# --- evidence and legal requests ----------------------------------------------------------------


class EvidencePreserved(Payload):
    """An object was sealed into the evidence vault."""

    case_id: str | None
    kind: str
    sha256: str


class EvidenceRetentionStarted(Payload):
    """A report case's evidence retention period started (when the report was finished)."""

    retain_until: str
    days: int


class EvidenceDestroyed(Payload):
    """An evidence object was destroyed before its retention ended (e.g. by legal order)."""

    reason: str
    legal_request_id: str | None
    case_id: str | None


class EvidenceExported(Payload):
    """Evidence objects were exported (for a legal request, or another stated purpose)."""

    objects: list[str]
    purpose: str


class EvidencePurged(Payload):
    """An evidence object was purged at the end of its retention period."""

    case_id: str | None
    retain_until: str | None


class EvidenceHoldPlaced(Payload):
    """A legal hold was placed on a case, an object or an account's evidence."""

    case_id: str | None
    object_id: str | None
    account_id: str | None
    reason: str


class EvidenceHoldReleased(Payload):
    """A legal hold was released."""

    reason: str | None = None


EVIDENCE_PRESERVED = declare("evidence.preserved", EVIDENCE_OBJECT, EvidencePreserved)
EVIDENCE_RETENTION_STARTED = declare("evidence.retention_started", REPORT_CASE, EvidenceRetentionStarted)
EVIDENCE_DESTROYED = declare("evidence.destroyed", EVIDENCE_OBJECT, EvidenceDestroyed)
EVIDENCE_EXPORTED = declare("evidence.exported", (LEGAL_REQUEST, EVIDENCE), EvidenceExported)
EVIDENCE_PURGED = declare("evidence.purged", EVIDENCE_OBJECT, EvidencePurged)
EVIDENCE_HOLD_PLACED = declare("evidence.hold_placed", LEGAL_HOLD, EvidenceHoldPlaced)
EVIDENCE_HOLD_RELEASED = declare("evidence.hold_released", LEGAL_HOLD, EvidenceHoldReleased)


class LegalRequestReceived(Payload):
    """A law-enforcement request was logged."""

    kind: str
    targets: int
    country: str
    due_at: str | None


class LegalRequestVerified(Payload):
    """A request's authenticity was checked."""

    verified: bool


class LegalPreservationRenewed(Payload):
    """A preservation request was renewed."""

    until: str


class LegalUserNotice(Payload):
    """Whether the user is told of the request was decided."""

    decision: str


class LegalProduced(Payload):
    """Records were produced in answer to a request (only the categories the process allows)."""

    categories: list[str]
    objects: int
    kind: str


LEGAL_REQUEST_RECEIVED = declare("legal.request_received", LEGAL_REQUEST, LegalRequestReceived)
LEGAL_REQUEST_VERIFIED = declare("legal.request_verified", LEGAL_REQUEST, LegalRequestVerified)
LEGAL_PRESERVATION_RENEWED = declare("legal.preservation_renewed", LEGAL_REQUEST, LegalPreservationRenewed)
LEGAL_USER_NOTICE = declare("legal.user_notice", LEGAL_REQUEST, LegalUserNotice)
LEGAL_REQUEST_CLOSED = declare("legal.request_closed", LEGAL_REQUEST, NoData)
LEGAL_PRODUCED = declare("legal.produced", LEGAL_REQUEST, LegalProduced)


# --- staff, training, terms ---------------------------------------------------------------------


class StaffCreated(Payload):
    """A staff account was created with roles."""

    roles: list[str]


class StaffRolesChanged(Payload):
    """A staff member's roles changed."""

    before: list[str]
    after: list[str]


class TrainingModuleEdited(Payload):
    """A training module got a new version (which may require staff to take it again)."""

    version_id: str
    requires_refresh: bool


class TrainingCompleted(Payload):
    """A staff member completed a training module (passing its quiz, when it has one)."""

    module: str
    version_id: str | None
    score: float | None = None


class TermsPublished(Payload):
    """A version of the terms of service was published."""

    version: str
    effective_at: str
    summary: str
    default: bool


class TermsAccepted(Payload):
    """An account accepted a version of the terms of service."""

    version: str
    accepted_at: str


STAFF_CREATED = declare("staff.created", STAFF, StaffCreated)
STAFF_ROLES_CHANGED = declare("staff.roles_changed", STAFF, StaffRolesChanged)
STAFF_RESET = declare("staff.reset", STAFF, NoData)
STAFF_DISABLED = declare("staff.disabled", STAFF, NoData)
STAFF_TOTP_ENROLLED = declare("staff.totp_enrolled", STAFF, NoData)
TRAINING_MODULE_EDITED = declare("training.module_edited", TRAINING_MODULE, TrainingModuleEdited)
TRAINING_COMPLETED = declare("training.completed", STAFF, TrainingCompleted)
TOS_PUBLISHED = declare("tos.published", TERMS, TermsPublished)
TOS_ACCEPTED = declare("tos.accepted", ACCOUNT, TermsAccepted, disclosed=True)


# --- the generated document ---------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    return getattr(annotation, "__name__", str(annotation))


def _fields(model: type[Payload]) -> list[str]:
    rows = []
    for name, f in model.model_fields.items():
        required = "yes" if f.is_required() else "no"
        rows.append(f"| `{f.alias or name}` | {_type_name(f.annotation)} | {required} |")
    return rows


def document() -> str:
    """`docs/events.md`, generated from the catalogue."""
    out = [
        "# Ledger events",
        "",
        "<!-- Generated by `python -m haven.core.events > docs/events.md`; do not edit by hand. -->",
        "",
        "Every state change in Haven appends an event to the ledger (`haven.core.ledger.record_event`,",
        "in the same transaction as the change). Each event has a type, a subject (a kind and an id),",
        "an actor and a payload (`data`). The catalogue in `src/haven/core/events.py` declares every",
        "type with the subject kinds it may be about and its payload's fields; an event that does not",
        "fit is refused. Dates in payloads are ISO 8601 strings in UTC.",
        "",
        "## Subject kinds",
        "",
        "| kind | table | what it is |",
        "|---|---|---|",
    ]
    for k in sorted(SUBJECT_KINDS.values(), key=lambda k: k.name):
        out.append(f"| `{k.name}` | {f'`{k.table}`' if k.table else '(none)'} | {k.doc} |")
    out += ["", "## Event types", ""]
    for e in sorted(CATALOGUE.values(), key=lambda e: e.name):
        out.append(f"| [`{e.name}`](#{e.name.replace('.', '')}) | {', '.join(f'`{s}`' for s in e.subjects)} |")
    out.insert(len(out) - len(CATALOGUE), "| type | subject kinds |")
    out.insert(len(out) - len(CATALOGUE), "|---|---|")
    for e in sorted(CATALOGUE.values(), key=lambda e: e.name):
        told = " Shown to the account in an access request." if e.disclosed else ""
        out += ["", f"### {e.name}", "", e.doc, "", f"Subject: {', '.join(f'`{s}`' for s in e.subjects)}.{told}", ""]
        rows = _fields(e.payload)
        if rows:
            out += ["| field | type | required |", "|---|---|---|", *rows]
        else:
            out.append("No payload.")
        nested = [
            a
            for f in e.payload.model_fields.values()
            for a in (*typing.get_args(f.annotation), f.annotation)
            if isinstance(a, type) and issubclass(a, Payload)
        ]
        for model in dict.fromkeys(nested):
            out += ["", f"`{model.__name__}`: {' '.join((model.__doc__ or '').split())}", ""]
            out += ["| field | type | required |", "|---|---|---|", *_fields(model)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document())
