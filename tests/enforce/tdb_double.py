"""A local double of the DSA Transparency Database API (spec 2.5), written from the documented
rules independently of Haven's own checks: Bearer token, at most 100 statements per call,
all-or-nothing with errors keyed `statement_<n>`, required fields and enumerations, lengths,
dates, and duplicate `puid`s refused with `existing`."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

VIS = {
    f"DECISION_VISIBILITY_{x}"
    for x in [
        "CONTENT_REMOVED",
        "CONTENT_DISABLED",
        "CONTENT_DEMOTED",
        "CONTENT_AGE_RESTRICTED",
        "CONTENT_INTERACTION_RESTRICTED",
        "CONTENT_LABELLED",
        "OTHER",
    ]
}
MON = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
PROV = {
    f"DECISION_PROVISION_{x}"
    for x in ["PARTIAL_SUSPENSION", "TOTAL_SUSPENSION", "PARTIAL_TERMINATION", "TOTAL_TERMINATION"]
}
ACC = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
GROUND = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CTYPE = {f"CONTENT_TYPE_{x}" for x in ["APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER"]}
CATS = {
    f"STATEMENT_CATEGORY_{x}"
    for x in [
        "ANIMAL_WELFARE",
        "CONSUMER_INFORMATION",
        "CYBER_VIOLENCE",
        "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE",
        "OTHER_VIOLATION_TC",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "UNSAFE_AND_PROHIBITED_PRODUCTS",
        "VIOLENCE",
    ]
}
KEYWORDS = {
    f"KEYWORD_{x}"
    for x in [
        "CHILD_SEXUAL_ABUSE_MATERIAL",
        "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "UNSAFE_CHALLENGES",
        "HUMAN_TRAFFICKING",
        "TRAFFICKING_WOMEN_GIRLS",
        "NUDITY",
        "ADULT_SEXUAL_MATERIAL",
        "NON_CONSENSUAL_IMAGE_SHARING",
        "OTHER",
    ]
}
SOURCE = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
AUTO = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
EEA = set(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)
KNOWN_FIELDS = {
    "decision_visibility",
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_type_other",
    "category",
    "category_addition",
    "category_specification",
    "category_specification_other",
    "territorial_scope",
    "content_language",
    "content_date",
    "application_date",
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
    "decision_facts",
    "source_type",
    "source_identity",
    "automated_detection",
    "automated_decision",
    "puid",
    "content_id",
}
MAXLEN = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}


def errors_of(s: dict[str, Any]) -> dict[str, list[str]]:
    e: dict[str, list[str]] = {}

    def bad(field: str, why: str) -> None:
        e.setdefault(field, []).append(why)

    for k in s:
        if k not in KNOWN_FIELDS:
            bad(k, "unknown field")
    if not (
        s.get("decision_visibility")
        or s.get("decision_monetary")
        or s.get("decision_provision")
        or s.get("decision_account")
    ):
        bad("decision_visibility", "required when no monetary, provision or account decision")
    for field, allowed in (
        ("decision_visibility", VIS),
        ("content_type", CTYPE),
        ("category_addition", CATS),
        ("category_specification", KEYWORDS),
        ("territorial_scope", EEA),
    ):
        v = s.get(field)
        if v is not None and (not isinstance(v, list) or any(x not in allowed for x in v)):
            bad(field, "invalid value")
    for field, allowed in (
        ("decision_monetary", MON),
        ("decision_provision", PROV),
        ("decision_account", ACC),
        ("account_type", {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}),
    ):
        if s.get(field) is not None and s[field] not in allowed:
            bad(field, "invalid value")
    for field, allowed in (
        ("decision_ground", GROUND),
        ("category", CATS),
        ("source_type", SOURCE),
        ("automated_detection", {"Yes", "No"}),
        ("automated_decision", AUTO),
    ):
        if s.get(field) not in allowed:
            bad(field, "required, one of the documented values")
    if s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        for f in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not s.get(f):
                bad(f, "required for illegal content")
    if s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for f in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not s.get(f):
                bad(f, "required for incompatible content")
    if s.get("incompatible_content_illegal") not in (None, "Yes", "No"):
        bad("incompatible_content_illegal", "Yes or No")
    if not s.get("content_type"):
        bad("content_type", "required")
    if "CONTENT_TYPE_OTHER" in (s.get("content_type") or []) and not s.get("content_type_other"):
        bad("content_type_other", "required with OTHER")
    for f, floor in (("content_date", date(2000, 1, 1)), ("application_date", date(2020, 1, 1))):
        v = s.get(f)
        if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) or date.fromisoformat(v) < floor:
            bad(f, f"required date YYYY-MM-DD >= {floor}")
    for f in (
        "end_date_visibility_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_account_restriction",
    ):
        v = s.get(f)
        if v is not None and not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
            bad(f, "date YYYY-MM-DD")
    if not s.get("decision_facts"):
        bad("decision_facts", "required")
    if not isinstance(s.get("puid"), str) or not re.fullmatch(r"^[a-zA-Z0-9-_]+$", s["puid"]):
        bad("puid", "required, [a-zA-Z0-9-_]+")
    for f, n in MAXLEN.items():
        if isinstance(s.get(f), str) and len(s[f]) > n:
            bad(f, f"at most {n} characters")
    return e


class TransparencyDatabase:
    def __init__(self, token: str) -> None:
        self.token = token
        self.stored: dict[str, dict[str, Any]] = {}
        self.calls: list[int] = []
        self.fail_next = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        def authorised(request: Request) -> bool:
            return request.headers.get("authorization") == f"Bearer {self.token}"

        @app.post("/api/v1/statements")
        async def statements(request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"message": "Unauthenticated."}, status_code=401)
            if request.headers.get("accept") != "application/json":
                return JSONResponse({"message": "Accept: application/json"}, status_code=406)
            if self.fail_next:
                self.fail_next -= 1
                return JSONResponse({"message": "Server Error"}, status_code=503)
            body = await request.json()
            items = body.get("statements")
            if not isinstance(items, list) or not 1 <= len(items) <= 100:
                return JSONResponse({"errors": {"statements": ["1 to 100 statements"]}}, status_code=422)
            self.calls.append(len(items))
            errors: dict[str, Any] = {}
            for i, s in enumerate(items):
                e: dict[str, Any] = errors_of(s)
                if s.get("puid") in self.stored:
                    e = {"puid": ["already taken"], "existing": {"uuid": self.stored[s["puid"]]["uuid"]}}
                if e:
                    errors[f"statement_{i}"] = e
            if errors:
                return JSONResponse({"message": "invalid", "errors": errors}, status_code=422)
            out = []
            for s in items:
                row = dict(s, uuid=str(uuid.uuid4()))
                self.stored[s["puid"]] = row
                out.append(row)
            return JSONResponse({"statements": out}, status_code=201)

        @app.get("/api/v1/statement/existing-puid/{puid}")
        async def existing(puid: str, request: Request) -> Response:
            if not authorised(request):
                return JSONResponse({"message": "Unauthenticated."}, status_code=401)
            return Response(status_code=302 if puid in self.stored else 404)

        return app
