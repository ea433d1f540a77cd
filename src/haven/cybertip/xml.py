"""The CyberTipline XML: building `<report>` and `<fileDetails>` in schema sequence order,
validating them against the shipped XSD, and reading the API's response documents.

Pure functions over plain data; no database. Elements are appended in the order of the XSD's
`xs:sequence` (out-of-order XML is rejected with 4100); absent optional elements are omitted,
never sent empty; flags are empty elements present only when true; booleans are true/false;
date-times carry a time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from haven.core.clock import now
from haven.core.errors import Invalid

SHIPPED_XSD = Path(__file__).with_name("cybertipline.xsd")

REPORT_ANNOTATIONS = (
    "sextortion",
    "csamSolicitation",
    "minorToMinorInteraction",
    "spam",
    "sadisticOnlineExploitation",
    "informational",
)
FILE_ANNOTATIONS = (
    "animeDrawingVirtualHentai",
    "potentialMeme",
    "viral",
    "possibleSelfProduction",
    "physicalHarm",
    "violenceGore",
    "bestiality",
    "liveStreaming",
    "infant",
    "generativeAi",
)
INDUSTRY_CLASSIFICATIONS = ("A1", "A2", "B1", "B2")
EVENT_NAMES = ("Login", "Registration", "Purchase", "Upload", "Other", "Unknown")
_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def xml_datetime(t: datetime) -> str:
    """xs:dateTime in UTC with milliseconds and Z."""
    if t.tzinfo is None:
        raise ValueError("naive datetime")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.astimezone(UTC).microsecond // 1000:03d}Z"


def clean_url(url: str) -> str:
    """Strip whitespace and control characters from URL elements (they give 4100)."""
    return _CONTROL.sub("", url)


def _el(parent: etree._Element, tag: str, value: Any = None, **attrs: Any) -> etree._Element:
    e = etree.SubElement(parent, tag)
    for k, v in attrs.items():
        if v is not None:
            e.set(k, _text(v))
    if value is not None:
        e.text = _text(value)
    return e


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return xml_datetime(v)
    return str(v)


def _opt(parent: etree._Element, tag: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return
    _el(parent, tag, value.strip() if isinstance(value, str) else value)


def _many(parent: etree._Element, tag: str, values: list[Any] | None) -> None:
    for v in values or []:
        _opt(parent, tag, v)


@dataclass
class IpEvent:
    ip: str
    event: str = "Unknown"
    at: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@dataclass
class PersonInfo:
    """An account on the service (reported user, intended recipient, victim)."""

    esp_identifier: str | None = None
    screen_name: str | None = None
    display_names: list[str] = field(default_factory=list)
    profile_urls: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    first_name: str | None = None
    last_name: str | None = None
    age: int | None = None
    date_of_birth: str | None = None
    ip_events: list[IpEvent] = field(default_factory=list)
    disabled_at: datetime | None = None
    permanently_disabled: bool = False
    country_code: str | None = None
    additional_info: str | None = None


@dataclass
class ReportData:
    incident_type: str
    incident_at: datetime
    reporter_email: str
    incident_description: str | None = None
    platform: str | None = None
    esp_service: str | None = None
    escalation_reason: str | None = None
    annotations: list[str] = field(default_factory=list)
    chat_client: str | None = None
    reporter_first_name: str | None = None
    reporter_last_name: str | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None
    reported: PersonInfo | None = None
    recipients: list[PersonInfo] = field(default_factory=list)
    victims: list[PersonInfo] = field(default_factory=list)
    prior_reports: list[int] = field(default_factory=list)
    additional_info: str | None = None


@dataclass
class FileData:
    report_id: str
    file_id: str
    file_name: str | None = None
    original_file_name: str | None = None
    uploaded_at: datetime | None = None
    location: str | None = None
    viewed_by_esp: bool = False
    exif_viewed_by_esp: bool = False
    publicly_available: bool | None = None
    relevance: str = "Reported"
    annotations: list[str] = field(default_factory=list)
    classification: str | None = None
    hashes: list[tuple[str, str]] = field(default_factory=list)
    ip_event: IpEvent | None = None
    additional_info: list[str] = field(default_factory=list)


def _ip_event(parent: etree._Element, ev: IpEvent) -> None:
    e = _el(parent, "ipCaptureEvent")
    _el(e, "ipAddress", ev.ip)
    _el(e, "eventName", ev.event if ev.event in EVENT_NAMES else "Unknown")
    if ev.at is not None:
        _el(e, "dateTime", ev.at)
    if ev.possible_proxy is not None:
        _el(e, "possibleProxy", ev.possible_proxy)
    if ev.port is not None:
        _el(e, "port", ev.port)


def _person(parent: etree._Element, tag: str, p: PersonInfo, *, required: bool = False) -> None:
    has = p.first_name or p.last_name or p.emails or p.phones or p.age is not None or p.date_of_birth
    if not has and not required:
        return
    e = _el(parent, tag)
    _opt(e, "firstName", p.first_name)
    _opt(e, "lastName", p.last_name)
    _many(e, "phone", p.phones)
    _many(e, "email", p.emails)
    _opt(e, "age", p.age)
    _opt(e, "dateOfBirth", p.date_of_birth)


def _account_fields(e: etree._Element, p: PersonInfo, esp_service: str | None) -> None:
    """espIdentifier .. deviceId, shared by the three people elements in the same order."""
    _opt(e, "espIdentifier", p.esp_identifier)
    _opt(e, "espService", esp_service)
    _opt(e, "screenName", p.screen_name)
    _many(e, "displayName", p.display_names)
    _many(e, "profileUrl", [clean_url(u) for u in p.profile_urls])
    for ev in p.ip_events:
        _ip_event(e, ev)


def _disabled(e: etree._Element, p: PersonInfo) -> None:
    if p.disabled_at is not None:
        tag = "accountPermanentlyDisabled" if p.permanently_disabled else "accountTemporarilyDisabled"
        _el(e, tag, True, disabledDate=p.disabled_at)


def _location(e: etree._Element, p: PersonInfo) -> None:
    if p.country_code:
        loc = _el(e, "estimatedLocation")
        _el(loc, "countryCode", p.country_code)


def build_report(r: ReportData) -> bytes:
    """The `<report>` document for /submit."""
    if not r.reporter_email:
        raise Invalid(
            "the CyberTipline needs the reporting person's email: set HAVEN_CYBERTIP_REPORTER_EMAIL",
            code="reporter_email_missing",
        )
    root = etree.Element("report")
    s = _el(root, "incidentSummary")
    _el(s, "incidentType", r.incident_type)
    _opt(s, "platform", r.platform)
    _opt(s, "escalateToHighPriority", r.escalation_reason)
    flags = [a for a in REPORT_ANNOTATIONS if a in r.annotations]
    if flags:
        ann = _el(s, "reportAnnotations")
        for a in flags:
            _el(ann, a)
    # Never in the future: clamp against clock skew (NCMEC rejects future dates with 4100).
    _el(s, "incidentDateTime", min(r.incident_at, now() - timedelta(seconds=1)))
    _opt(s, "incidentDateTimeDescription", r.incident_description)
    if r.chat_client:
        d = _el(root, "internetDetails")
        chat = _el(d, "chatImIncident")
        _el(chat, "chatClient", r.chat_client)
    rep = _el(root, "reporter")
    rp = _el(rep, "reportingPerson")
    _opt(rp, "firstName", r.reporter_first_name)
    _opt(rp, "lastName", r.reporter_last_name)
    _el(rp, "email", r.reporter_email)
    _opt(rep, "companyTemplate", r.company_template)
    _opt(rep, "termsOfService", r.terms_of_service)
    if r.legal_url:
        _el(rep, "legalURL", clean_url(r.legal_url))
    if r.reported is not None:
        p = r.reported
        e = _el(root, "personOrUserReported")
        _person(e, "personOrUserReportedPerson", p)
        _account_fields(e, p, r.esp_service)
        for prior in r.prior_reports:
            _el(e, "priorCTReports", prior)
        _disabled(e, p)
        _location(e, p)
        _opt(e, "additionalInfo", p.additional_info)
    for p in r.recipients:
        e = _el(root, "intendedRecipient")
        _person(e, "intendedRecipientPerson", p)
        _account_fields(e, p, r.esp_service)
        _disabled(e, p)
        _location(e, p)
        _opt(e, "additionalInfo", p.additional_info)
    for p in r.victims:
        e = _el(root, "victim")
        _person(e, "victimPerson", p, required=True)
        _account_fields(e, p, r.esp_service)
        _location(e, p)
        _opt(e, "additionalInfo", p.additional_info)
    _opt(root, "additionalInfo", r.additional_info)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_file_details(f: FileData) -> bytes:
    """The `<fileDetails>` document for /fileinfo."""
    supplemental = f.relevance == "Supplemental Reported"
    if supplemental and (f.classification or "potentialMeme" in f.annotations):
        raise Invalid(
            "industry classification and potentialMeme apply only to Reported files", code="supplemental_file"
        )
    root = etree.Element("fileDetails")
    _el(root, "reportId", f.report_id)
    _el(root, "fileId", f.file_id)
    _opt(root, "fileName", f.file_name)
    _opt(root, "originalFileName", f.original_file_name)
    if f.uploaded_at is not None:
        _el(root, "uploadedToEspTimestamp", f.uploaded_at)
    if f.location:
        _el(root, "locationOfFile", clean_url(f.location))
    _el(root, "fileViewedByEsp", f.viewed_by_esp)
    _el(root, "exifViewedByEsp", f.exif_viewed_by_esp)
    if f.publicly_available is not None:
        _el(root, "publiclyAvailable", f.publicly_available)
    _el(root, "fileRelevance", f.relevance)
    flags = [a for a in FILE_ANNOTATIONS if a in f.annotations]
    if flags:
        ann = _el(root, "fileAnnotations")
        for a in flags:
            _el(ann, a)
    if f.classification in INDUSTRY_CLASSIFICATIONS:
        _el(root, "industryClassification", f.classification)
    for hash_type, value in f.hashes:
        _el(root, "originalFileHash", value, hashType=hash_type)
    if f.ip_event is not None:
        _ip_event(root, f.ip_event)
    for info in f.additional_info:
        _opt(root, "additionalInfo", info)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# -- validation ---------------------------------------------------------------------------


def active_xsd_path(var_dir: Path | None = None) -> Path:
    """The schema fetched from the API by `haven report refresh-xsd` when present, else the shipped one."""
    if var_dir is not None:
        fetched = var_dir / "cybertipline.xsd"
        if fetched.exists():
            return fetched
    return SHIPPED_XSD


@lru_cache(maxsize=4)
def _schema(path: str, mtime: float) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def schema(path: Path = SHIPPED_XSD) -> etree.XMLSchema:
    return _schema(str(path), path.stat().st_mtime)


def validation_errors(xml: bytes, path: Path = SHIPPED_XSD) -> list[str]:
    """Schema errors of a document (empty when valid); malformed XML is one error."""
    try:
        doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [f"malformed XML: {exc}"]
    s = schema(path)
    if s.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in s.error_log]  # type: ignore[attr-defined]


def validate(xml: bytes, path: Path = SHIPPED_XSD) -> None:
    errors = validation_errors(xml, path)
    if errors:
        raise Invalid(
            "the XML does not validate against the CyberTipline schema: " + errors[0],
            code="schema_invalid",
            details={"errors": errors[:20]},
        )


# -- responses ----------------------------------------------------------------------------


@dataclass
class ApiResponse:
    """A parsed reportResponse or reportDoneResponse. Unknown codes round-trip as ints."""

    code: int
    description: str | None = None
    report_id: str | None = None
    file_id: str | None = None
    hash: str | None = None
    files: list[str] = field(default_factory=list)
    root: str = "reportResponse"


def parse_response(body: bytes) -> ApiResponse:
    doc = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))

    def text(tag: str) -> str | None:
        e = doc.find(tag)
        return e.text.strip() if e is not None and e.text else None

    code = text("responseCode")
    if code is None:
        raise ValueError("response without responseCode")
    return ApiResponse(
        code=int(code),
        description=text("responseDescription"),
        report_id=text("reportId"),
        file_id=text("fileId"),
        hash=text("hash"),
        files=[e.text.strip() for e in doc.findall("files/fileId") if e.text],
        root=str(doc.tag),
    )


def response_document(
    code: int,
    description: str | None = None,
    *,
    report_id: str | None = None,
    file_id: str | None = None,
    hash: str | None = None,
    done_files: list[str] | None = None,
) -> bytes:
    """Build a response document (used by the local double)."""
    if done_files is not None:
        root = etree.Element("reportDoneResponse")
        _el(root, "responseCode", code)
        _opt(root, "reportId", report_id)
        files = _el(root, "files")
        for fid in done_files:
            _el(files, "fileId", fid)
    else:
        root = etree.Element("reportResponse")
        _el(root, "responseCode", code)
        _opt(root, "responseDescription", description)
        _opt(root, "reportId", report_id)
        _opt(root, "fileId", file_id)
        _opt(root, "hash", hash)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
