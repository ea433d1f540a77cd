"""Generated from Haven's OpenAPI document by scripts/generate_clients.py: do not edit.

Every schema is a TypedDict (what the API sends and accepts, as plain dicts); `Client` and
`AsyncClient` have one method per operation. Transport, retries and errors: `_transport.py`.
"""

# ruff: noqa: E501
from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from haven_client._transport import AsyncTransport, FileInput, SyncTransport, _q

__all__ = ["AsyncClient", "Client", "FileInput"]

class AcceptanceIn(TypedDict):
    version: str
    accepted_at: NotRequired[str | None]


class AcceptanceOut(TypedDict):
    account_id: str
    version: str
    accepted_at: str
    url: str


class AccountIn(TypedDict):
    age_band: Literal["under_13", "13_15", "16_17", "adult", "unknown"]


class ActivityIn(TypedDict):
    kind: Literal["time_spent", "group_joined", "purchase", "report_filed"]
    amount: NotRequired[int | None]
    currency: NotRequired[str | None]
    ref: NotRequired[str | None]
    at: NotRequired[str | None]


class AgeSignalIn(TypedDict):
    """`POST /v1/accounts/{id}/age-signals`: a result, never the evidence itself."""

    method: str
    provider: str
    level: Literal["asserted", "standard", "enhanced", "strict"]
    age_band: NotRequired[Literal["under_13", "13_15", "16_17", "adult"] | None]
    over: NotRequired[int | None]
    under: NotRequired[int | None]
    observed_at: str
    expires_at: NotRequired[str | None]
    evidence_ref: NotRequired[str | None]


class AnswerIn(TypedDict):
    guardian_id: str
    approve: bool


class AppealIn(TypedDict):
    decision_id: str
    appellant: str
    statement: str


class AppealOut(TypedDict):
    id: str
    decision_id: str
    appellant: str
    status: str
    filed_at: str
    decided_at: str | None
    reason: str | None
    decided_by_handle: NotRequired[str | None]


class ApprovalIn(TypedDict):
    kind: Literal["purchase", "loosen_default"]
    setting: NotRequired[str | None]
    value: NotRequired[bool | int | str | None]
    amount: NotRequired[int | None]
    currency: NotRequired[str | None]
    description: NotRequired[str]


class Attachment(TypedDict):
    content_id: NotRequired[str | None]
    media_kind: NotRequired[str | None]
    sha256: NotRequired[str | None]


class BankCreate(TypedDict):
    name: str
    kind: Literal["known_csam", "known_exploitation", "ncii", "local_confirmed", "allowlist"]
    description: NotRequired[str]
    default_classification: NotRequired[str | None]
    pdq_threshold: NotRequired[int]
    enabled: NotRequired[bool]
    robustness: NotRequired[Literal["off", "standard", "strong"]]


class BankOut(TypedDict):
    id: str
    name: str
    kind: str
    description: str
    default_classification: str | None
    pdq_threshold: int
    enabled: bool
    robustness: str
    provenance: str
    entries: int
    created_at: str
    updated_at: str


class BankUpdate(TypedDict):
    name: NotRequired[str | None]
    kind: NotRequired[Literal["known_csam", "known_exploitation", "ncii", "local_confirmed", "allowlist"] | None]
    description: NotRequired[str | None]
    default_classification: NotRequired[str | None]
    pdq_threshold: NotRequired[int | None]
    enabled: NotRequired[bool | None]
    robustness: NotRequired[Literal["off", "standard", "strong"] | None]


class BatchIn(TypedDict):
    transactions: list[TransactionIn]


class BlockIn(TypedDict):
    blocked: str


class CaseChanges(TypedDict):
    content_ids: NotRequired[list[str] | None]
    incident_description: NotRequired[str | None]
    escalation_reason: NotRequired[str | None]
    annotations: NotRequired[list[str] | None]
    reported_account: NotRequired[dict[str, Any] | None]
    recipients: NotRequired[list[dict[str, Any]] | None]
    victims: NotRequired[list[dict[str, Any]] | None]
    classifications: NotRequired[dict[str, str] | None]
    file_annotations: NotRequired[dict[str, list[str]] | None]
    prior_reports: NotRequired[list[int] | None]
    additional_info: NotRequired[str | None]


class CaseOut(TypedDict):
    id: str
    target_type: str
    target_id: str
    status: str
    priority: int
    category: str
    reports_count: int
    trusted_reports: int
    opened_at: str
    outcome: str | None


class ChildReportIn(TypedDict):
    reporter: str
    note: NotRequired[str]


class ConfirmIn(TypedDict):
    teen_id: str
    code: str


class ConnectionIn(TypedDict):
    kind: NotRequired[Literal["follow", "friend", "accepted_request", "connection"]]


class ContentResult(TypedDict):
    id: str
    external_id: str | None
    media_kind: str
    mime: str
    hashes: Hashes
    matches: list[MatchOut]
    verdict: VerdictOut


class ConversationRowIn(TypedDict):
    sent_at: NotRequired[str | None]
    sender: NotRequired[str | None]
    recipient: NotRequired[str | None]
    text: str


class DeliveryOut(TypedDict):
    id: str
    action_type: str
    idempotency_key: str
    subject_type: str
    subject_id: str
    decision_id: str | None
    status: str
    attempts: int
    replays: int
    last_status: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None


class EntriesAdd(TypedDict):
    entries: list[EntryInModel]


class EntriesAdded(TypedDict):
    added: int
    ids: list[str]


class EntryInModel(TypedDict):
    signal_type: Literal["md5", "sha1", "sha256", "pdq"]
    value: str
    classification: NotRequired[str | None]
    source_ref: NotRequired[str | None]


class EntryOut(TypedDict):
    id: str
    bank_id: str
    signal_type: str
    value: str
    classification: str | None
    source_ref: str | None
    added_by: str
    created_at: str
    enabled: bool
    quarantined_at: str | None
    quarantine_reason: str | None


class EntryPatch(TypedDict):
    enabled: NotRequired[bool | None]
    release_quarantine: NotRequired[bool]


class GuardianshipIn(TypedDict):
    guardian_id: str
    teen_id: str


class HTTPValidationError(TypedDict):
    detail: NotRequired[list[ValidationError]]


class HashQuery(TypedDict):
    signal_type: Literal["md5", "sha1", "sha256", "pdq"]
    value: str
    quality: NotRequired[int | None]


class Hashes(TypedDict):
    md5: str
    sha1: str
    sha256: str
    pdq: NotRequired[str | None]
    pdq_quality: NotRequired[int | None]


class LegalHoldIn(TypedDict):
    reason: str
    case_id: NotRequired[str | None]
    object_id: NotRequired[str | None]
    account_id: NotRequired[str | None]
    expires_at: NotRequired[str | None]


class LookupRequest(TypedDict):
    hashes: list[HashQuery]


class LookupResponse(TypedDict):
    results: list[LookupResult]


class LookupResult(TypedDict):
    signal_type: str
    value: str
    matches: list[MatchOut]
    verdict: VerdictOut


class MatchOut(TypedDict):
    bank: str
    bank_id: str
    bank_kind: str
    entry_id: str
    signal_type: str
    distance: int
    classification: str | None
    status: Literal["active", "quarantined", "allowlisted", "low_quality"]
    query_variant: NotRequired[str | None]


class MessageIn(TypedDict):
    """`POST /v1/messages`."""

    message_id: NotRequired[str | None]
    conversation_id: str
    sender: str
    recipients: list[str]
    text: NotRequired[str]
    sent_at: NotRequired[str | None]
    attachments: NotRequired[list[Attachment]]
    connected: NotRequired[bool | None]


class NoticeHoldIn(TypedDict):
    account_id: str
    reference: str
    reason: NotRequired[str]
    until: NotRequired[str | None]


class NoticeHoldOut(TypedDict):
    id: str
    account_id: str
    reference: str
    until: str | None
    released_at: str | None


class NoticeIn(TypedDict):
    decision: str
    reason: str


class OutcomeIn(TypedDict):
    action: Literal["clicked", "dismissed", "reported", "blocked"]


class Reason(TypedDict):
    reason: str


class ReceiptOut(TypedDict):
    report_id: str
    case_id: str
    received_at: str
    merged: bool
    priority: int
    trusted_flagger: bool
    message: str


class ReportIn(TypedDict):
    reporter: NotRequired[Reporter | None]
    target: Target
    category: str
    explanation: str
    good_faith: bool
    imminent_risk: NotRequired[bool]
    notify_outcome: NotRequired[bool]


class Reporter(TypedDict):
    id: NotRequired[str | None]
    name: NotRequired[str | None]
    email: NotRequired[str | None]


class RequestIn(TypedDict):
    kind: str
    agency: str
    requester_name: str
    targets: list[str]
    requester_email: NotRequired[str | None]
    requester_phone: NotRequired[str | None]
    reference: NotRequired[str | None]
    country: NotRequired[str]
    due_at: NotRequired[str | None]
    nondisclosure_until: NotRequired[str | None]
    notes: NotRequired[str | None]


class RevokeIn(TypedDict):
    by: str


class RotateIn(TypedDict):
    secret: NotRequired[str | None]
    grace_hours: NotRequired[float]


class StandingOut(TypedDict):
    account_id: str
    state: str
    active_points: int
    strikes: list[StrikeOut]
    decisions: list[dict[str, Any]]


class StatementOut(TypedDict):
    id: str
    decision_id: str
    puid: str
    locale: str
    subject: str
    text: str
    html: str
    fields: dict[str, Any]
    notice_status: str
    tdb_status: str


class StrikeOut(TypedDict):
    id: str
    decision_id: str
    category: str
    severity: str
    points: int
    created_at: str
    expires_at: str | None
    removed_at: str | None


class Target(TypedDict):
    type: Literal["content", "account"]
    id: str
    location_url: NotRequired[str | None]


class TermsIn(TypedDict):
    version: str
    title: NotRequired[str]
    markdown: str
    summary: NotRequired[str]
    effective_at: str


class TermsOut(TypedDict):
    version: str
    title: str
    summary: str
    effective_at: str
    published_at: str
    url: str


class TransactionIn(TypedDict):
    external_id: str
    kind: Literal["p2p", "tip", "subscription", "payout", "purchase", "gift_card", "crypto", "withdrawal"]
    payer: str
    payee: str
    amount: str
    currency: str
    payer_country: NotRequired[str | None]
    payee_country: NotRequired[str | None]
    method: NotRequired[str | None]
    memo: NotRequired[str | None]
    merchant_category: NotRequired[str | None]
    merchant: NotRequired[str | None]
    occurred_at: str


class TransactionOut(TypedDict):
    transaction_id: str
    external_id: str
    outcome: Literal["approve", "review", "hold", "decline"]
    rules: list[str]
    indicators: list[str]
    reason: str
    actions: list[str]
    shadow: NotRequired[list[dict[str, Any]]]


class UnfoundedIn(TypedDict):
    reason: str


class UnfoundedOut(TypedDict):
    reporter_id: str
    action: Literal["warned", "suspended"]
    invalidated: list[str]
    suspended_until: str | None


class ValidationError(TypedDict):
    loc: list[str | int]
    msg: str
    type: str
    input: NotRequired[Any]
    ctx: NotRequired[dict[str, Any]]


class VerdictOut(TypedDict):
    action: Literal["allow", "review", "block"]
    rule: str
    reason: str


class VerifyIn(TypedDict):
    verified: bool
    note: str


class WebhookIn(TypedDict):
    url: str
    secret: NotRequired[str | None]


class WebhookOut(TypedDict):
    url: str | None
    secret_set: bool
    source: str
    secret: NotRequired[str | None]
    previous_secret_until: NotRequired[str | None]



class Client(SyncTransport):
    """Haven's API, synchronous: `Client(base_url, api_key)`; see SyncTransport for options."""

    def healthz(self) -> dict[str, str]:
        """GET /healthz: Liveness: the process answers."""
        return self._request("GET", "/healthz", expect="json")  # type: ignore[no-any-return]

    def readyz(self) -> Any:
        """GET /readyz: Readiness: the match index is loaded and no older than the refresh window."""
        return self._request("GET", "/readyz", expect="json")

    def submit_content(self, file: FileInput, *, metadata: str | None = None, idempotency_key: str | None = None) -> ContentResult:
        """POST /v1/content: Hash an upload, match it against every enabled bank, and answer with a verdict."""
        return self._request("POST", "/v1/content", files={"file": file}, data={"metadata": metadata}, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def lookup_hashes(self, body: LookupRequest, *, idempotency_key: str | None = None) -> LookupResponse:
        """POST /v1/hashes/lookup: Match up to 1,000 hashes computed on the service's side (the media never leaves it)."""
        return self._request("POST", "/v1/hashes/lookup", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def submit_message(self, body: MessageIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/messages: Update the conversation's detector with this message."""
        return self._request("POST", "/v1/messages", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_banks(self) -> list[BankOut]:
        """GET /v1/banks: List Banks"""
        return self._request("GET", "/v1/banks", expect="json")  # type: ignore[no-any-return]

    def create_bank(self, body: BankCreate, *, idempotency_key: str | None = None) -> BankOut:
        """POST /v1/banks: Create Bank"""
        return self._request("POST", "/v1/banks", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_bank(self, bank: str) -> BankOut:
        """GET /v1/banks/{bank}: Get Bank"""
        return self._request("GET", f"/v1/banks/{_q(bank)}", expect="json")  # type: ignore[no-any-return]

    def update_bank(self, bank: str, body: BankUpdate, *, idempotency_key: str | None = None) -> BankOut:
        """PATCH /v1/banks/{bank}: Update Bank"""
        return self._request("PATCH", f"/v1/banks/{_q(bank)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def delete_bank(self, bank: str, *, idempotency_key: str | None = None) -> None:
        """DELETE /v1/banks/{bank}: Delete Bank"""
        self._request("DELETE", f"/v1/banks/{_q(bank)}", idempotency_key=idempotency_key, expect="none")

    def add_entries(self, bank: str, body: EntriesAdd, *, idempotency_key: str | None = None) -> EntriesAdded:
        """POST /v1/banks/{bank}/entries: Add Entries"""
        return self._request("POST", f"/v1/banks/{_q(bank)}/entries", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_entries(self, bank: str, *, after: str | None = None, limit: int | None = None) -> list[EntryOut]:
        """GET /v1/banks/{bank}/entries: List Entries"""
        return self._request("GET", f"/v1/banks/{_q(bank)}/entries", params={"after": after, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    def patch_entry(self, bank: str, entry_id: str, body: EntryPatch, *, idempotency_key: str | None = None) -> EntryOut:
        """PATCH /v1/banks/{bank}/entries/{entry_id}: Patch Entry"""
        return self._request("PATCH", f"/v1/banks/{_q(bank)}/entries/{_q(entry_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def export_bank(self, bank: str, *, format: Literal["csv", "jsonl"] | None = None) -> Any:
        """GET /v1/banks/{bank}/export: Export Bank"""
        return self._request("GET", f"/v1/banks/{_q(bank)}/export", params={"format": format}, expect="json")

    def import_entries(self, bank: str, *, format: Literal["csv", "jsonl"] | None = None, idempotency_key: str | None = None) -> EntriesAdded:
        """POST /v1/banks/{bank}/import: Import a CSV (`signal_type,value,classification,source_ref` with a header) or JSON lines"""
        return self._request("POST", f"/v1/banks/{_q(bank)}/import", params={"format": format}, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def feed(self, *, after: str | None = None, limit: int | None = None) -> bytes:
        """GET /v1/exchanges/feed: The signed Haven feed published to this partner"""
        return self._request("GET", "/v1/exchanges/feed", params={"after": after, "limit": limit}, expect="bytes")  # type: ignore[no-any-return]

    def list_exchanges(self) -> list[dict[str, Any]]:
        """GET /v1/exchanges: Every exchange with its state"""
        return self._request("GET", "/v1/exchanges", expect="json")  # type: ignore[no-any-return]

    def show(self, exchange: str) -> dict[str, Any]:
        """GET /v1/exchanges/{exchange}: One exchange's state"""
        return self._request("GET", f"/v1/exchanges/{_q(exchange)}", expect="json")  # type: ignore[no-any-return]

    def fetch_now(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/fetch: Fetch now (queued for the worker)"""
        return self._request("POST", f"/v1/exchanges/{_q(exchange)}/fetch", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def disable(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/disable: Stop fetching (entries stay as they are)"""
        return self._request("POST", f"/v1/exchanges/{_q(exchange)}/disable", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def enable(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/enable: Fetch again on the exchange's interval"""
        return self._request("POST", f"/v1/exchanges/{_q(exchange)}/enable", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def put_account(self, account_id: str, body: AccountIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/accounts/{account_id}: Set the account's declared age band; it feeds relationship signals and priorities."""
        return self._request("PUT", f"/v1/accounts/{_q(account_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_block(self, account_id: str, body: BlockIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/blocks: Tell Haven that this account blocked another: later contact from it is a risk signal."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/blocks", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def terms_page(self, version: str, *, format: str | None = None) -> bytes:
        """GET /terms/{version}: A terms version, public: HTML by default, `?format=md` for the Markdown source."""
        return self._request("GET", f"/terms/{_q(version)}", params={"format": format}, expect="bytes")  # type: ignore[no-any-return]

    def list_terms(self) -> list[TermsOut]:
        """GET /v1/terms: Every published version, oldest first."""
        return self._request("GET", "/v1/terms", expect="json")  # type: ignore[no-any-return]

    def publish_terms(self, body: TermsIn, *, idempotency_key: str | None = None) -> TermsOut:
        """POST /v1/terms: Publish a new version; the service is told through the `tos.updated` webhook."""
        return self._request("POST", "/v1/terms", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def accept_terms(self, account_id: str, body: AcceptanceIn, *, idempotency_key: str | None = None) -> AcceptanceOut:
        """POST /v1/accounts/{account_id}/tos-acceptances: Record that an account accepted a terms version (200 when it was already recorded)."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/tos-acceptances", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_acceptances(self, account_id: str) -> list[AcceptanceOut]:
        """GET /v1/accounts/{account_id}/tos-acceptances: List Acceptances"""
        return self._request("GET", f"/v1/accounts/{_q(account_id)}/tos-acceptances", expect="json")  # type: ignore[no-any-return]

    def post_outcome(self, event_id: str, body: OutcomeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/nudges/{event_id}/outcome: Record what the child did with the nudge: `clicked` (opened a link or action), `dismissed`,"""
        return self._request("POST", f"/v1/nudges/{_q(event_id)}/outcome", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_webhook(self) -> WebhookOut:
        """GET /v1/webhook: Get Webhook"""
        return self._request("GET", "/v1/webhook", expect="json")  # type: ignore[no-any-return]

    def set_webhook(self, body: WebhookIn, *, idempotency_key: str | None = None) -> WebhookOut:
        """PUT /v1/webhook: Set the service's webhook endpoint and Standard Webhooks signing secret. A secret you send"""
        return self._request("PUT", "/v1/webhook", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def rotate_webhook_secret(self, body: RotateIn, *, idempotency_key: str | None = None) -> WebhookOut:
        """POST /v1/webhook/rotate-secret: Replace the signing secret; the old one keeps signing (a second `v1,` signature in"""
        return self._request("POST", "/v1/webhook/rotate-secret", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def deliveries(self, *, status: str | None = None, limit: int | None = None) -> list[DeliveryOut]:
        """GET /v1/webhook/deliveries: Deliveries, newest first; `?status=dead` is the dead-letter list."""
        return self._request("GET", "/v1/webhook/deliveries", params={"status": status, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    def replay(self, delivery_id: str, *, idempotency_key: str | None = None) -> DeliveryOut:
        """POST /v1/webhook/deliveries/{delivery_id}/replay: Send a dead letter again, with the same body and idempotency key."""
        return self._request("POST", f"/v1/webhook/deliveries/{_q(delivery_id)}/replay", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def file_appeal(self, body: AppealIn, *, idempotency_key: str | None = None) -> AppealOut:
        """POST /v1/appeals: File an appeal (DSA Art 20) against a decision, within the window, once per decision."""
        return self._request("POST", "/v1/appeals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_appeal(self, appeal_id: str) -> AppealOut:
        """GET /v1/appeals/{appeal_id}: Get Appeal"""
        return self._request("GET", f"/v1/appeals/{_q(appeal_id)}", expect="json")  # type: ignore[no-any-return]

    def get_statement(self, decision_id: str) -> StatementOut:
        """GET /v1/decisions/{decision_id}/statement: The statement of reasons of a decision, as delivered to the user and in machine form."""
        return self._request("GET", f"/v1/decisions/{_q(decision_id)}/statement", expect="json")  # type: ignore[no-any-return]

    def standing(self, account_id: str) -> StandingOut:
        """GET /v1/accounts/{account_id}/enforcement: An account's state, active strike points, strikes and decisions."""
        return self._request("GET", f"/v1/accounts/{_q(account_id)}/enforcement", expect="json")  # type: ignore[no-any-return]

    def place_hold(self, body: NoticeHoldIn, *, idempotency_key: str | None = None) -> NoticeHoldOut:
        """POST /v1/notice-holds: Hold notices to an account at law enforcement's request (audited)."""
        return self._request("POST", "/v1/notice-holds", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def release_hold(self, hold_id: str, *, idempotency_key: str | None = None) -> NoticeHoldOut:
        """POST /v1/notice-holds/{hold_id}/release: Release Hold"""
        return self._request("POST", f"/v1/notice-holds/{_q(hold_id)}/release", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_ladder(self) -> dict[str, Any]:
        """GET /v1/enforcement/ladder: The strike ladder in force (severity levels, category severities, thresholds)."""
        return self._request("GET", "/v1/enforcement/ladder", expect="json")  # type: ignore[no-any-return]

    def reports_submit_report(self, body: ReportIn, *, idempotency_key: str | None = None) -> ReceiptOut:
        """POST /v1/reports: Receive a notice; the answer is the acknowledgement of receipt (Art 16(4))."""
        return self._request("POST", "/v1/reports", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_cases(self, *, status: str | None = None, limit: int | None = None) -> list[CaseOut]:
        """GET /v1/report-cases: Cases in queue order: priority first, then oldest."""
        return self._request("GET", "/v1/report-cases", params={"status": status, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    def reporter_unfounded(self, reporter_id: str, body: UnfoundedIn, *, idempotency_key: str | None = None) -> UnfoundedOut:
        """POST /v1/reporters/{reporter_id}/unfounded: Mark a reporter's reports manifestly unfounded (Art 23): pending reports are invalidated;"""
        return self._request("POST", f"/v1/reporters/{_q(reporter_id)}/unfounded", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def screen_transaction(self, body: TransactionIn, *, idempotency_key: str | None = None) -> TransactionOut:
        """POST /v1/transactions: Screen one payment before it goes through: `approve`, `review` (approve, a person looks),"""
        return self._request("POST", "/v1/transactions", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def screen_batch(self, body: BatchIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/transactions/batch: Up to 500 payments in order, each screened (and committed) on its own: one bad item"""
        return self._request("POST", "/v1/transactions/batch", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_reports(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/cybertipline/reports: Report cases, newest first."""
        return self._request("GET", "/v1/cybertipline/reports", params={"status": status}, expect="json")  # type: ignore[no-any-return]

    def get_report(self, case_id: str) -> dict[str, Any]:
        """GET /v1/cybertipline/reports/{case_id}: One case with every field, its submissions, files, receipt and the open report's deadline."""
        return self._request("GET", f"/v1/cybertipline/reports/{_q(case_id)}", expect="json")  # type: ignore[no-any-return]

    def edit_report(self, case_id: str, body: CaseChanges, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PATCH /v1/cybertipline/reports/{case_id}: Edit Report"""
        return self._request("PATCH", f"/v1/cybertipline/reports/{_q(case_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_report_xml(self, case_id: str) -> Any:
        """GET /v1/cybertipline/reports/{case_id}/xml: The `<report>` XML as it would be sent now (validated against the schema)."""
        return self._request("GET", f"/v1/cybertipline/reports/{_q(case_id)}/xml", expect="json")

    def escalate_report(self, case_id: str, body: Reason, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/escalate: Escalate Report"""
        return self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/escalate", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def put_conversation(self, case_id: str, body: list[ConversationRowIn], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/cybertipline/reports/{case_id}/conversation: Put Conversation"""
        return self._request("PUT", f"/v1/cybertipline/reports/{_q(case_id)}/conversation", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def cybertipline_submit_report(self, case_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/submit: Queue the case; the worker submits it and the status shows progress and the receipt."""
        return self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/submit", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def cancel_report(self, case_id: str, body: Reason, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/cancel: Cancel Report"""
        return self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/cancel", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def objects(self, *, case_id: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/evidence: Objects"""
        return self._request("GET", "/v1/evidence", params={"case_id": case_id, "account_id": account_id}, expect="json")  # type: ignore[no-any-return]

    def holds(self, *, include_released: bool | None = None) -> list[dict[str, Any]]:
        """GET /v1/evidence/holds: Holds"""
        return self._request("GET", "/v1/evidence/holds", params={"include_released": include_released}, expect="json")  # type: ignore[no-any-return]

    def create_hold(self, body: LegalHoldIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/evidence/holds: Create Hold"""
        return self._request("POST", "/v1/evidence/holds", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def release(self, hold_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/evidence/holds/{hold_id}/release: Release"""
        return self._request("POST", f"/v1/evidence/holds/{_q(hold_id)}/release", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def create(self, body: RequestIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests: Create"""
        return self._request("POST", "/v1/legal/requests", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def list_requests(self, *, overdue: bool | None = None, include_closed: bool | None = None) -> list[dict[str, Any]]:
        """GET /v1/legal/requests: Requests with deadlines; overdue first (`overdue=true` for only those)."""
        return self._request("GET", "/v1/legal/requests", params={"overdue": overdue, "include_closed": include_closed}, expect="json")  # type: ignore[no-any-return]

    def get(self, request_id: str) -> dict[str, Any]:
        """GET /v1/legal/requests/{request_id}: Get"""
        return self._request("GET", f"/v1/legal/requests/{_q(request_id)}", expect="json")  # type: ignore[no-any-return]

    def verify(self, request_id: str, body: VerifyIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/verify: Verify"""
        return self._request("POST", f"/v1/legal/requests/{_q(request_id)}/verify", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def renew(self, request_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/renew: Renew"""
        return self._request("POST", f"/v1/legal/requests/{_q(request_id)}/renew", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def notice(self, request_id: str, body: NoticeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/notice: Notice"""
        return self._request("POST", f"/v1/legal/requests/{_q(request_id)}/notice", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_age_signal(self, account_id: str, body: AgeSignalIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/age-signals: Store an age-assurance result and answer with the account's assured age."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/age-signals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_age(self, account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/age: The assured age (band, level, method, since, why), its signals and pending re-assurance."""
        return self._request("GET", f"/v1/accounts/{_q(account_id)}/age", expect="json")  # type: ignore[no-any-return]

    def get_protections(self, account_id: str, *, region: str | None = None) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/protections: The settings the service must apply to this account and the rule that gave each. A region"""
        return self._request("GET", f"/v1/accounts/{_q(account_id)}/protections", params={"region": region}, expect="json")  # type: ignore[no-any-return]

    def put_connection(self, account_id: str, other: str, body: ConnectionIn | None | None = None, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/accounts/{account_id}/connections/{other}: `other` is among this account's connections (the account follows, befriended or accepted"""
        return self._request("PUT", f"/v1/accounts/{_q(account_id)}/connections/{_q(other)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def delete_connection(self, account_id: str, other: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """DELETE /v1/accounts/{account_id}/connections/{other}: Delete Connection"""
        return self._request("DELETE", f"/v1/accounts/{_q(account_id)}/connections/{_q(other)}", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_child_report(self, account_id: str, body: ChildReportIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/child-reports: A user reported "this is a child": ask the service to re-check the account's age."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/child-reports", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_activity(self, account_id: str, body: ActivityIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/activity: Metadata of a teen's use that a guardian may see (never text or media)."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/activity", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_guardianship(self, body: GuardianshipIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships: A pending guardian link; `code` (shown once) is for the teen to confirm it."""
        return self._request("POST", "/v1/guardianships", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_confirm(self, link_id: str, body: ConfirmIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/confirm: Post Confirm"""
        return self._request("POST", f"/v1/guardianships/{_q(link_id)}/confirm", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_revoke(self, link_id: str, body: RevokeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/revoke: Post Revoke"""
        return self._request("POST", f"/v1/guardianships/{_q(link_id)}/revoke", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def get_links_of_teen(self, account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/guardianships: Every guardian link of a teen, in any state: what the teen sees at all times."""
        return self._request("GET", f"/v1/accounts/{_q(account_id)}/guardianships", expect="json")  # type: ignore[no-any-return]

    def get_summary(self, link_id: str, *, guardian_id: str | None = None, days: int | None = None) -> dict[str, Any]:
        """GET /v1/guardianships/{link_id}/summary: Metadata only (new contacts, groups, time, purchases, whether the teen reported something);"""
        return self._request("GET", f"/v1/guardianships/{_q(link_id)}/summary", params={"guardian_id": guardian_id, "days": days}, expect="json")  # type: ignore[no-any-return]

    def post_approval(self, link_id: str, body: ApprovalIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/approvals: Ask the guardian to approve a purchase above the cap or a loosened default"""
        return self._request("POST", f"/v1/guardianships/{_q(link_id)}/approvals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_answer(self, link_id: str, approval_id: str, body: AnswerIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/approvals/{approval_id}: Post Answer"""
        return self._request("POST", f"/v1/guardianships/{_q(link_id)}/approvals/{_q(approval_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_adapter_result(self, account_id: str, adapter: str, body: dict[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/age-signals/{adapter}: A provider's own result payload (`apple`, `google`, `eu-blueprint`), verified by its adapter."""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/age-signals/{_q(adapter)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def provider_webhook(self, provider: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /hooks/age-providers/{provider}: A commercial provider's signed result (`Haven-Provider-Signature: t=<unix>,v1=<hex>`)."""
        return self._request("POST", f"/hooks/age-providers/{_q(provider)}", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_dsar(self, account_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/dsar: Access request: what Haven holds about the account (declared personal fields only), and"""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/dsar", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    def post_erasure(self, account_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/erasure: Erasure request: erase or pseudonymise everything not under a hold, a preserved report or"""
        return self._request("POST", f"/v1/accounts/{_q(account_id)}/erasure", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]


class AsyncClient(AsyncTransport):
    """Haven's API, asynchronous: `async with AsyncClient(base_url, api_key) as c: ...`."""

    async def healthz(self) -> dict[str, str]:
        """GET /healthz: Liveness: the process answers."""
        return await self._request("GET", "/healthz", expect="json")  # type: ignore[no-any-return]

    async def readyz(self) -> Any:
        """GET /readyz: Readiness: the match index is loaded and no older than the refresh window."""
        return await self._request("GET", "/readyz", expect="json")

    async def submit_content(self, file: FileInput, *, metadata: str | None = None, idempotency_key: str | None = None) -> ContentResult:
        """POST /v1/content: Hash an upload, match it against every enabled bank, and answer with a verdict."""
        return await self._request("POST", "/v1/content", files={"file": file}, data={"metadata": metadata}, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def lookup_hashes(self, body: LookupRequest, *, idempotency_key: str | None = None) -> LookupResponse:
        """POST /v1/hashes/lookup: Match up to 1,000 hashes computed on the service's side (the media never leaves it)."""
        return await self._request("POST", "/v1/hashes/lookup", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def submit_message(self, body: MessageIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/messages: Update the conversation's detector with this message."""
        return await self._request("POST", "/v1/messages", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_banks(self) -> list[BankOut]:
        """GET /v1/banks: List Banks"""
        return await self._request("GET", "/v1/banks", expect="json")  # type: ignore[no-any-return]

    async def create_bank(self, body: BankCreate, *, idempotency_key: str | None = None) -> BankOut:
        """POST /v1/banks: Create Bank"""
        return await self._request("POST", "/v1/banks", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_bank(self, bank: str) -> BankOut:
        """GET /v1/banks/{bank}: Get Bank"""
        return await self._request("GET", f"/v1/banks/{_q(bank)}", expect="json")  # type: ignore[no-any-return]

    async def update_bank(self, bank: str, body: BankUpdate, *, idempotency_key: str | None = None) -> BankOut:
        """PATCH /v1/banks/{bank}: Update Bank"""
        return await self._request("PATCH", f"/v1/banks/{_q(bank)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def delete_bank(self, bank: str, *, idempotency_key: str | None = None) -> None:
        """DELETE /v1/banks/{bank}: Delete Bank"""
        await self._request("DELETE", f"/v1/banks/{_q(bank)}", idempotency_key=idempotency_key, expect="none")

    async def add_entries(self, bank: str, body: EntriesAdd, *, idempotency_key: str | None = None) -> EntriesAdded:
        """POST /v1/banks/{bank}/entries: Add Entries"""
        return await self._request("POST", f"/v1/banks/{_q(bank)}/entries", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_entries(self, bank: str, *, after: str | None = None, limit: int | None = None) -> list[EntryOut]:
        """GET /v1/banks/{bank}/entries: List Entries"""
        return await self._request("GET", f"/v1/banks/{_q(bank)}/entries", params={"after": after, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    async def patch_entry(self, bank: str, entry_id: str, body: EntryPatch, *, idempotency_key: str | None = None) -> EntryOut:
        """PATCH /v1/banks/{bank}/entries/{entry_id}: Patch Entry"""
        return await self._request("PATCH", f"/v1/banks/{_q(bank)}/entries/{_q(entry_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def export_bank(self, bank: str, *, format: Literal["csv", "jsonl"] | None = None) -> Any:
        """GET /v1/banks/{bank}/export: Export Bank"""
        return await self._request("GET", f"/v1/banks/{_q(bank)}/export", params={"format": format}, expect="json")

    async def import_entries(self, bank: str, *, format: Literal["csv", "jsonl"] | None = None, idempotency_key: str | None = None) -> EntriesAdded:
        """POST /v1/banks/{bank}/import: Import a CSV (`signal_type,value,classification,source_ref` with a header) or JSON lines"""
        return await self._request("POST", f"/v1/banks/{_q(bank)}/import", params={"format": format}, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def feed(self, *, after: str | None = None, limit: int | None = None) -> bytes:
        """GET /v1/exchanges/feed: The signed Haven feed published to this partner"""
        return await self._request("GET", "/v1/exchanges/feed", params={"after": after, "limit": limit}, expect="bytes")  # type: ignore[no-any-return]

    async def list_exchanges(self) -> list[dict[str, Any]]:
        """GET /v1/exchanges: Every exchange with its state"""
        return await self._request("GET", "/v1/exchanges", expect="json")  # type: ignore[no-any-return]

    async def show(self, exchange: str) -> dict[str, Any]:
        """GET /v1/exchanges/{exchange}: One exchange's state"""
        return await self._request("GET", f"/v1/exchanges/{_q(exchange)}", expect="json")  # type: ignore[no-any-return]

    async def fetch_now(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/fetch: Fetch now (queued for the worker)"""
        return await self._request("POST", f"/v1/exchanges/{_q(exchange)}/fetch", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def disable(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/disable: Stop fetching (entries stay as they are)"""
        return await self._request("POST", f"/v1/exchanges/{_q(exchange)}/disable", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def enable(self, exchange: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/exchanges/{exchange}/enable: Fetch again on the exchange's interval"""
        return await self._request("POST", f"/v1/exchanges/{_q(exchange)}/enable", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def put_account(self, account_id: str, body: AccountIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/accounts/{account_id}: Set the account's declared age band; it feeds relationship signals and priorities."""
        return await self._request("PUT", f"/v1/accounts/{_q(account_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_block(self, account_id: str, body: BlockIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/blocks: Tell Haven that this account blocked another: later contact from it is a risk signal."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/blocks", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def terms_page(self, version: str, *, format: str | None = None) -> bytes:
        """GET /terms/{version}: A terms version, public: HTML by default, `?format=md` for the Markdown source."""
        return await self._request("GET", f"/terms/{_q(version)}", params={"format": format}, expect="bytes")  # type: ignore[no-any-return]

    async def list_terms(self) -> list[TermsOut]:
        """GET /v1/terms: Every published version, oldest first."""
        return await self._request("GET", "/v1/terms", expect="json")  # type: ignore[no-any-return]

    async def publish_terms(self, body: TermsIn, *, idempotency_key: str | None = None) -> TermsOut:
        """POST /v1/terms: Publish a new version; the service is told through the `tos.updated` webhook."""
        return await self._request("POST", "/v1/terms", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def accept_terms(self, account_id: str, body: AcceptanceIn, *, idempotency_key: str | None = None) -> AcceptanceOut:
        """POST /v1/accounts/{account_id}/tos-acceptances: Record that an account accepted a terms version (200 when it was already recorded)."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/tos-acceptances", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_acceptances(self, account_id: str) -> list[AcceptanceOut]:
        """GET /v1/accounts/{account_id}/tos-acceptances: List Acceptances"""
        return await self._request("GET", f"/v1/accounts/{_q(account_id)}/tos-acceptances", expect="json")  # type: ignore[no-any-return]

    async def post_outcome(self, event_id: str, body: OutcomeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/nudges/{event_id}/outcome: Record what the child did with the nudge: `clicked` (opened a link or action), `dismissed`,"""
        return await self._request("POST", f"/v1/nudges/{_q(event_id)}/outcome", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_webhook(self) -> WebhookOut:
        """GET /v1/webhook: Get Webhook"""
        return await self._request("GET", "/v1/webhook", expect="json")  # type: ignore[no-any-return]

    async def set_webhook(self, body: WebhookIn, *, idempotency_key: str | None = None) -> WebhookOut:
        """PUT /v1/webhook: Set the service's webhook endpoint and Standard Webhooks signing secret. A secret you send"""
        return await self._request("PUT", "/v1/webhook", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def rotate_webhook_secret(self, body: RotateIn, *, idempotency_key: str | None = None) -> WebhookOut:
        """POST /v1/webhook/rotate-secret: Replace the signing secret; the old one keeps signing (a second `v1,` signature in"""
        return await self._request("POST", "/v1/webhook/rotate-secret", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def deliveries(self, *, status: str | None = None, limit: int | None = None) -> list[DeliveryOut]:
        """GET /v1/webhook/deliveries: Deliveries, newest first; `?status=dead` is the dead-letter list."""
        return await self._request("GET", "/v1/webhook/deliveries", params={"status": status, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    async def replay(self, delivery_id: str, *, idempotency_key: str | None = None) -> DeliveryOut:
        """POST /v1/webhook/deliveries/{delivery_id}/replay: Send a dead letter again, with the same body and idempotency key."""
        return await self._request("POST", f"/v1/webhook/deliveries/{_q(delivery_id)}/replay", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def file_appeal(self, body: AppealIn, *, idempotency_key: str | None = None) -> AppealOut:
        """POST /v1/appeals: File an appeal (DSA Art 20) against a decision, within the window, once per decision."""
        return await self._request("POST", "/v1/appeals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_appeal(self, appeal_id: str) -> AppealOut:
        """GET /v1/appeals/{appeal_id}: Get Appeal"""
        return await self._request("GET", f"/v1/appeals/{_q(appeal_id)}", expect="json")  # type: ignore[no-any-return]

    async def get_statement(self, decision_id: str) -> StatementOut:
        """GET /v1/decisions/{decision_id}/statement: The statement of reasons of a decision, as delivered to the user and in machine form."""
        return await self._request("GET", f"/v1/decisions/{_q(decision_id)}/statement", expect="json")  # type: ignore[no-any-return]

    async def standing(self, account_id: str) -> StandingOut:
        """GET /v1/accounts/{account_id}/enforcement: An account's state, active strike points, strikes and decisions."""
        return await self._request("GET", f"/v1/accounts/{_q(account_id)}/enforcement", expect="json")  # type: ignore[no-any-return]

    async def place_hold(self, body: NoticeHoldIn, *, idempotency_key: str | None = None) -> NoticeHoldOut:
        """POST /v1/notice-holds: Hold notices to an account at law enforcement's request (audited)."""
        return await self._request("POST", "/v1/notice-holds", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def release_hold(self, hold_id: str, *, idempotency_key: str | None = None) -> NoticeHoldOut:
        """POST /v1/notice-holds/{hold_id}/release: Release Hold"""
        return await self._request("POST", f"/v1/notice-holds/{_q(hold_id)}/release", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_ladder(self) -> dict[str, Any]:
        """GET /v1/enforcement/ladder: The strike ladder in force (severity levels, category severities, thresholds)."""
        return await self._request("GET", "/v1/enforcement/ladder", expect="json")  # type: ignore[no-any-return]

    async def reports_submit_report(self, body: ReportIn, *, idempotency_key: str | None = None) -> ReceiptOut:
        """POST /v1/reports: Receive a notice; the answer is the acknowledgement of receipt (Art 16(4))."""
        return await self._request("POST", "/v1/reports", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_cases(self, *, status: str | None = None, limit: int | None = None) -> list[CaseOut]:
        """GET /v1/report-cases: Cases in queue order: priority first, then oldest."""
        return await self._request("GET", "/v1/report-cases", params={"status": status, "limit": limit}, expect="json")  # type: ignore[no-any-return]

    async def reporter_unfounded(self, reporter_id: str, body: UnfoundedIn, *, idempotency_key: str | None = None) -> UnfoundedOut:
        """POST /v1/reporters/{reporter_id}/unfounded: Mark a reporter's reports manifestly unfounded (Art 23): pending reports are invalidated;"""
        return await self._request("POST", f"/v1/reporters/{_q(reporter_id)}/unfounded", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def screen_transaction(self, body: TransactionIn, *, idempotency_key: str | None = None) -> TransactionOut:
        """POST /v1/transactions: Screen one payment before it goes through: `approve`, `review` (approve, a person looks),"""
        return await self._request("POST", "/v1/transactions", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def screen_batch(self, body: BatchIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/transactions/batch: Up to 500 payments in order, each screened (and committed) on its own: one bad item"""
        return await self._request("POST", "/v1/transactions/batch", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_reports(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/cybertipline/reports: Report cases, newest first."""
        return await self._request("GET", "/v1/cybertipline/reports", params={"status": status}, expect="json")  # type: ignore[no-any-return]

    async def get_report(self, case_id: str) -> dict[str, Any]:
        """GET /v1/cybertipline/reports/{case_id}: One case with every field, its submissions, files, receipt and the open report's deadline."""
        return await self._request("GET", f"/v1/cybertipline/reports/{_q(case_id)}", expect="json")  # type: ignore[no-any-return]

    async def edit_report(self, case_id: str, body: CaseChanges, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PATCH /v1/cybertipline/reports/{case_id}: Edit Report"""
        return await self._request("PATCH", f"/v1/cybertipline/reports/{_q(case_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_report_xml(self, case_id: str) -> Any:
        """GET /v1/cybertipline/reports/{case_id}/xml: The `<report>` XML as it would be sent now (validated against the schema)."""
        return await self._request("GET", f"/v1/cybertipline/reports/{_q(case_id)}/xml", expect="json")

    async def escalate_report(self, case_id: str, body: Reason, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/escalate: Escalate Report"""
        return await self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/escalate", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def put_conversation(self, case_id: str, body: list[ConversationRowIn], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/cybertipline/reports/{case_id}/conversation: Put Conversation"""
        return await self._request("PUT", f"/v1/cybertipline/reports/{_q(case_id)}/conversation", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def cybertipline_submit_report(self, case_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/submit: Queue the case; the worker submits it and the status shows progress and the receipt."""
        return await self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/submit", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def cancel_report(self, case_id: str, body: Reason, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/cybertipline/reports/{case_id}/cancel: Cancel Report"""
        return await self._request("POST", f"/v1/cybertipline/reports/{_q(case_id)}/cancel", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def objects(self, *, case_id: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
        """GET /v1/evidence: Objects"""
        return await self._request("GET", "/v1/evidence", params={"case_id": case_id, "account_id": account_id}, expect="json")  # type: ignore[no-any-return]

    async def holds(self, *, include_released: bool | None = None) -> list[dict[str, Any]]:
        """GET /v1/evidence/holds: Holds"""
        return await self._request("GET", "/v1/evidence/holds", params={"include_released": include_released}, expect="json")  # type: ignore[no-any-return]

    async def create_hold(self, body: LegalHoldIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/evidence/holds: Create Hold"""
        return await self._request("POST", "/v1/evidence/holds", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def release(self, hold_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/evidence/holds/{hold_id}/release: Release"""
        return await self._request("POST", f"/v1/evidence/holds/{_q(hold_id)}/release", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def create(self, body: RequestIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests: Create"""
        return await self._request("POST", "/v1/legal/requests", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def list_requests(self, *, overdue: bool | None = None, include_closed: bool | None = None) -> list[dict[str, Any]]:
        """GET /v1/legal/requests: Requests with deadlines; overdue first (`overdue=true` for only those)."""
        return await self._request("GET", "/v1/legal/requests", params={"overdue": overdue, "include_closed": include_closed}, expect="json")  # type: ignore[no-any-return]

    async def get(self, request_id: str) -> dict[str, Any]:
        """GET /v1/legal/requests/{request_id}: Get"""
        return await self._request("GET", f"/v1/legal/requests/{_q(request_id)}", expect="json")  # type: ignore[no-any-return]

    async def verify(self, request_id: str, body: VerifyIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/verify: Verify"""
        return await self._request("POST", f"/v1/legal/requests/{_q(request_id)}/verify", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def renew(self, request_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/renew: Renew"""
        return await self._request("POST", f"/v1/legal/requests/{_q(request_id)}/renew", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def notice(self, request_id: str, body: NoticeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/legal/requests/{request_id}/notice: Notice"""
        return await self._request("POST", f"/v1/legal/requests/{_q(request_id)}/notice", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_age_signal(self, account_id: str, body: AgeSignalIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/age-signals: Store an age-assurance result and answer with the account's assured age."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/age-signals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_age(self, account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/age: The assured age (band, level, method, since, why), its signals and pending re-assurance."""
        return await self._request("GET", f"/v1/accounts/{_q(account_id)}/age", expect="json")  # type: ignore[no-any-return]

    async def get_protections(self, account_id: str, *, region: str | None = None) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/protections: The settings the service must apply to this account and the rule that gave each. A region"""
        return await self._request("GET", f"/v1/accounts/{_q(account_id)}/protections", params={"region": region}, expect="json")  # type: ignore[no-any-return]

    async def put_connection(self, account_id: str, other: str, body: ConnectionIn | None | None = None, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """PUT /v1/accounts/{account_id}/connections/{other}: `other` is among this account's connections (the account follows, befriended or accepted"""
        return await self._request("PUT", f"/v1/accounts/{_q(account_id)}/connections/{_q(other)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def delete_connection(self, account_id: str, other: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """DELETE /v1/accounts/{account_id}/connections/{other}: Delete Connection"""
        return await self._request("DELETE", f"/v1/accounts/{_q(account_id)}/connections/{_q(other)}", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_child_report(self, account_id: str, body: ChildReportIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/child-reports: A user reported "this is a child": ask the service to re-check the account's age."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/child-reports", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_activity(self, account_id: str, body: ActivityIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/activity: Metadata of a teen's use that a guardian may see (never text or media)."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/activity", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_guardianship(self, body: GuardianshipIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships: A pending guardian link; `code` (shown once) is for the teen to confirm it."""
        return await self._request("POST", "/v1/guardianships", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_confirm(self, link_id: str, body: ConfirmIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/confirm: Post Confirm"""
        return await self._request("POST", f"/v1/guardianships/{_q(link_id)}/confirm", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_revoke(self, link_id: str, body: RevokeIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/revoke: Post Revoke"""
        return await self._request("POST", f"/v1/guardianships/{_q(link_id)}/revoke", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def get_links_of_teen(self, account_id: str) -> dict[str, Any]:
        """GET /v1/accounts/{account_id}/guardianships: Every guardian link of a teen, in any state: what the teen sees at all times."""
        return await self._request("GET", f"/v1/accounts/{_q(account_id)}/guardianships", expect="json")  # type: ignore[no-any-return]

    async def get_summary(self, link_id: str, *, guardian_id: str | None = None, days: int | None = None) -> dict[str, Any]:
        """GET /v1/guardianships/{link_id}/summary: Metadata only (new contacts, groups, time, purchases, whether the teen reported something);"""
        return await self._request("GET", f"/v1/guardianships/{_q(link_id)}/summary", params={"guardian_id": guardian_id, "days": days}, expect="json")  # type: ignore[no-any-return]

    async def post_approval(self, link_id: str, body: ApprovalIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/approvals: Ask the guardian to approve a purchase above the cap or a loosened default"""
        return await self._request("POST", f"/v1/guardianships/{_q(link_id)}/approvals", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_answer(self, link_id: str, approval_id: str, body: AnswerIn, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/guardianships/{link_id}/approvals/{approval_id}: Post Answer"""
        return await self._request("POST", f"/v1/guardianships/{_q(link_id)}/approvals/{_q(approval_id)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_adapter_result(self, account_id: str, adapter: str, body: dict[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/age-signals/{adapter}: A provider's own result payload (`apple`, `google`, `eu-blueprint`), verified by its adapter."""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/age-signals/{_q(adapter)}", json=body, idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def provider_webhook(self, provider: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /hooks/age-providers/{provider}: A commercial provider's signed result (`Haven-Provider-Signature: t=<unix>,v1=<hex>`)."""
        return await self._request("POST", f"/hooks/age-providers/{_q(provider)}", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_dsar(self, account_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/dsar: Access request: what Haven holds about the account (declared personal fields only), and"""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/dsar", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]

    async def post_erasure(self, account_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """POST /v1/accounts/{account_id}/erasure: Erasure request: erase or pseudonymise everything not under a hold, a preserved report or"""
        return await self._request("POST", f"/v1/accounts/{_q(account_id)}/erasure", idempotency_key=idempotency_key, expect="json")  # type: ignore[no-any-return]
