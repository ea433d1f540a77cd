"""NCMEC hash sharing, XML API v2 (https://report.cybertip.org/hashsharing/v2/documentation.pdf).

Haven's own client following python-threatexchange's `NCMECHashAPI`
(`threatexchange/exchanges/clients/ncmec/hash_api.py`, 1.2.x) request for request:

- HTTP Basic auth with the ESP's hash-sharing user; base URL per environment (`ENVIRONMENTS`);
- `GET {base}/v2/entries?from=<ts>&to=<ts>` returns `<queryResult>` with `<images
  maxTimestamp=...>` and `<videos ...>` holding `<image>`/`<video>` and `<deletedImage>`/
  `<deletedVideo>` records (`<id>`, `<member id=...>`, `<classification>`, `<fingerprints>` with
  `<md5>`, `<sha1>`, `<pdq>`, `<pdna>`, `<tmk_pdqf>`, ...), and `<paging><next>` a relative URL
  (with `start`, `size`, `max`) to follow until it is absent;
- a paging URL is only valid with the from/to it came with (HMA #1744): the checkpoint keeps
  both, and the next time window starts at the end of the last completed one;
- feedback: `PUT {base}/v2/entries/{esp id}/{entry id}/{TYPE}/feedback` with a
  `<feedbackSubmission>` of `<affirmative/>` or `<negative><reasonIds><guid>`, the reason from
  `GET {base}/v2/feedback/{TYPE}/reasons`.

Why not wrap the library: it uses `requests` (outside Haven's SSRF guard, no byte cap on a
response, ElementTree over the whole body) and pulls faiss-cpu, dacite and weighted-levenshtein
in as runtime dependencies; the formats are small enough to follow exactly.

Ids are per member, so an entry's upstream id is `<member id>-<entry id>`. PhotoDNA (`pdna`)
values are stored and exported with their provenance but never matched: PhotoDNA matching needs
Microsoft's licensed library (a plug-in signal type), which Haven does not ship.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from haven.exchange import http
from haven.exchange.base import ExchangeError, FeedbackItem, Page, UpstreamEntry

KIND = "ncmec"
NS = "https://hashsharing.ncmec.org/hashsharing/v2"
DATE = "%Y-%m-%dT%H:%M:%SZ"

#: The documented environments (who may read and write differs per environment).
ENVIRONMENTS = {
    "industry": "https://report.cybertip.org/hashsharing",
    "industry_exploitative": "https://report.cybertip.org/exploitative-hashsharing",
    "ngo": "https://hashsharing.ncmec.org/npo",
    "exploitative": "https://hashsharing.ncmec.org/exploitative",
    "test_industry": "https://exttest.cybertip.org/hashsharing",
    "test_industry_exploitative": "https://exttest.cybertip.org/exploitative-hashsharing",
}

#: NCMEC fingerprint tag -> the feedback path's type name.
FEEDBACK_TYPES = {
    "md5": "MD5",
    "sha1": "SHA1",
    "pdq": "PDQ",
    "pdna": "PDNA",
    "netclean": "NETCLEAN",
    "videntifier": "VIDENTIFIER",
    "tmk_pdqf": "TMK_PDQF",
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _fmt(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(DATE)


def parse_entries(body: bytes) -> tuple[list[UpstreamEntry], str, int]:
    """Entries, the next paging URL ("" when done) and the response's max timestamp, or
    `ExchangeError(code="malformed_response")` for anything that is not the documented shape."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ExchangeError(f"the NCMEC response is not XML: {exc}", code="malformed_response") from None
    if _local(root.tag) != "queryResult":
        raise ExchangeError(f"expected <queryResult>, got <{_local(root.tag)}>", code="malformed_response")
    entries: list[UpstreamEntry] = []
    max_ts = 0
    for block in root:
        name = _local(block.tag)
        if name not in ("images", "videos"):
            continue
        if block.get("maxTimestamp"):
            try:
                ts = datetime.strptime(str(block.get("maxTimestamp")), DATE).replace(tzinfo=UTC)
            except ValueError:
                raise ExchangeError("maxTimestamp is not a timestamp", code="malformed_response") from None
            max_ts = max(max_ts, int(ts.timestamp()))
        for record in block:
            tag = _local(record.tag)
            deleted = tag.startswith("deleted")
            kind = tag[len("deleted") :].lower() if deleted else tag
            if kind not in ("image", "video"):
                raise ExchangeError(f"unknown record <{tag}> in <{name}>", code="malformed_response")
            fields = {_local(c.tag): c for c in record}
            if "id" not in fields or "member" not in fields or not (fields["id"].text or "").strip():
                raise ExchangeError(f"a <{tag}> without <id> or <member>", code="malformed_response")
            member_id = fields["member"].get("id") or ""
            if not member_id.isdigit():
                raise ExchangeError(f"a <{tag}> with a member without a numeric id", code="malformed_response")
            upstream_id = f"{member_id}-{fields['id'].text.strip()}"  # type: ignore[union-attr]
            classification = (
                (fields["classification"].text or "").strip() or None if "classification" in fields else None
            )
            fps = fields.get("fingerprints")
            for fp in fps if fps is not None else []:
                if fp.text is None or not fp.text.strip():
                    continue
                entries.append(
                    UpstreamEntry(
                        upstream_id=upstream_id,
                        upstream_type=f"{kind}:{_local(fp.tag).lower()}",
                        value=fp.text.strip(),
                        list_name=f"member:{member_id}",
                        deleted=deleted,
                        contributor=(fields["member"].text or "").strip() or member_id,
                        classification=classification,
                        labels=(kind,) + ((classification,) if classification else ()),
                    )
                )
    next_url = ""
    for block in root:
        if _local(block.tag) == "paging":
            for child in block:
                if _local(child.tag) == "next":
                    next_url = (child.text or "").strip()
    return entries, next_url, max_ts


class NCMECConnector:
    """`GET /v2/entries` page by page from a checkpoint; feedback by PUT."""

    kind = KIND

    def __init__(self, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = (str(credentials.get("username", "")), str(credentials.get("password", "")))
        if not all(self.auth):
            raise ExchangeError("NCMEC needs a username and a password", code="missing_credentials")
        self.only_members = {str(m) for m in config.get("only_member_ids", [])}
        self.esp_id = str(config.get("esp_id", ""))

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        start = int(checkpoint.get("from", 0))
        end = int(checkpoint.get("to") or 0) or int(time.time())
        nxt = str(checkpoint.get("next") or "")
        if nxt:
            # Relative to the environment's base; only its query is taken, on the same path.
            query = urlsplit(nxt).query
            params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        else:
            params = {"from": _fmt(start), "to": _fmt(end)}
        body = http.request("GET", f"{self.base_url}/v2/entries", params=params, auth=self.auth)
        entries, next_url, _max_ts = parse_entries(body)
        if self.only_members:
            entries = [e for e in entries if e.list_name.split(":", 1)[1] in self.only_members]
        if next_url:
            return Page(entries, {"from": start, "to": end, "next": next_url}, has_more=True)
        return Page(entries, {"from": end}, has_more=False)

    def _reason_guid(self, fp_type: str) -> str:
        body = http.request("GET", f"{self.base_url}/v2/feedback/{fp_type}/reasons", auth=self.auth)
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            raise ExchangeError("the feedback reasons are not XML", code="malformed_response") from None
        guids = [r.get("guid") for r in root.iter() if _local(r.tag) == "reason" and r.get("guid")]
        if not guids:
            raise ExchangeError(f"NCMEC lists no negative feedback reason for {fp_type}", code="feedback_unsupported")
        return str(guids[0])

    def submit_feedback(self, item: FeedbackItem) -> None:
        fp = item.upstream_type.split(":", 1)[-1]
        fp_type = FEEDBACK_TYPES.get(fp)
        if fp_type is None:
            raise ExchangeError(f"NCMEC takes no feedback on {fp}", code="feedback_unsupported")
        member, _, entry_id = item.upstream_id.partition("-")
        if item.sentiment == "confirm":
            vote = "<affirmative/>"
        else:
            vote = f"<negative><reasonIds><guid>{escape(self._reason_guid(fp_type))}</guid></reasonIds></negative>"
        body = f'<feedbackSubmission xmlns="{NS}">{vote}</feedbackSubmission>'.encode()
        http.request(
            "PUT",
            f"{self.base_url}/v2/entries/{member}/{entry_id}/{fp_type}/feedback",
            content=body,
            headers={"Content-Type": "application/xml; charset=utf-8"},
            auth=self.auth,
        )
