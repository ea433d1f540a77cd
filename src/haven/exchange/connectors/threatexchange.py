"""Meta ThreatExchange (Graph API), following python-threatexchange's `ThreatExchangeAPI` and
`FBThreatExchangeSignalExchangeAPI` (`threatexchange/exchanges/clients/fb_threatexchange/api.py`,
`threat_updates.py`, `exchanges/impl/fb_threatexchange_api.py`, 1.2.17) request for request:

- `GET {base}/{privacy group}/threat_updates/` with `access_token` (the app token `app-id|secret`),
  `fields` (the library's `te_threat_updates_fields`: `id,indicator,type,last_updated,
  should_delete,descriptors{...}`, plus the descriptor `id` reactions are posted to), `limit`,
  `start_time`, `stop_time`; the answer is `{"data": [...], "paging": {"cursors": {"before",
  "after"}, "next": <url>}}`, the last page without `next`;
- an update is an indicator (`id`, `indicator`, `type` `HASH_PDQ`/`HASH_VIDEO_MD5`/`HASH_MD5`/
  `HASH_TMK`..., `last_updated`) with the privacy group's descriptors of it (`descriptors.data`:
  `id`, `owner{id}`, `tags`, `status`, `reactions`); it is a tombstone when `should_delete` is
  true **or `descriptors` is absent** (the library's rule, ThreatExchange issue #834);
- reactions: `POST {base}/{descriptor id}/?access_token=...` with `reactions=<REACTION>` (what
  `react_to_threat_descriptor` sends): `SAW_THIS_TOO` when a reviewer confirmed a match,
  `DISAGREE_WITH_TAGS` when one overturned it (the library reads that reaction as a false
  positive), `NOT_HELPFUL` when the entry reached the dispute threshold here;
- errors are Graph error JSON `{"error": {"message", "type", "code", "error_subcode",
  "fbtrace_id"}}`: 190/102 (and `OAuthException` 10, 200-299) are `auth_failed`; 4, 17, 32, 613
  and 80001-80014 (or HTTP 429) are `rate_limited`, waiting the largest
  `estimated_time_to_regain_access` (minutes) of `x-business-use-case-usage`, else Retry-After.

Departure from the library, on purpose: it follows `paging.next`, a URL that carries the access
token; Haven stores only the `after` cursor in the checkpoint (the database never holds the
token in clear) and repeats the same query with it, which the Graph API documents as equivalent.
The checkpoint keeps the window (start_time, stop_time) the cursor belongs to.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from haven.exchange import http
from haven.exchange.base import ExchangeError, FeedbackItem, FeedbackUnsupported, Page, UpstreamEntry

KIND = "threatexchange"
FIELDS = "id,indicator,type,last_updated,should_delete,descriptors{id,reactions,owner{id},tags,status}"
REACTIONS = {"confirm": "SAW_THIS_TOO", "overturn": "DISAGREE_WITH_TAGS", "dispute": "NOT_HELPFUL"}
#: Label prefix keeping the descriptor ids of an indicator (reactions are posted to descriptors).
DESCRIPTOR_LABEL = "td:"
AUTH_CODES = {102, 190, 10}
RATE_CODES = {4, 17, 32, 613, *range(80001, 80015)}


def _retry_after(headers: httpx.Headers) -> float | None:
    raw = headers.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
            minutes = [
                float(u.get("estimated_time_to_regain_access") or 0)
                for rows in usage.values()
                for u in (rows if isinstance(rows, list) else [])
                if isinstance(u, dict)
            ]
            if minutes and max(minutes) > 0:
                return max(minutes) * 60.0
        except (ValueError, AttributeError, TypeError):
            pass
    try:
        return float(headers["Retry-After"]) if "Retry-After" in headers else None
    except ValueError:
        return None


def graph_error(token: str) -> http.ErrorHook:
    """Reads a Graph API error answer into Haven's codes (the token is scrubbed from messages)."""

    def hook(status: int, headers: httpx.Headers, body: bytes) -> ExchangeError | None:
        try:
            err = json.loads(body).get("error") or {}
            code = int(err["code"])
        except (ValueError, AttributeError, TypeError, KeyError):
            return None
        kind = str(err.get("type") or "")
        message = str(err.get("message") or "").replace(token, "***")[:300] if token else ""
        text = f"ThreatExchange answered HTTP {status}, Graph error {code} ({kind}): {message}"
        if status == 429 or code in RATE_CODES:
            return ExchangeError(text, code="rate_limited", retry_after=_retry_after(headers) or 60.0)
        if code in AUTH_CODES or (kind == "OAuthException" and 200 <= code < 300) or status in (401, 403):
            return ExchangeError(text, code="auth_failed")
        if code in (1, 2) or status >= 500:
            return ExchangeError(text, code="upstream_unavailable")
        return ExchangeError(text, code="upstream_error")

    return hook


def _tags(raw: Any) -> list[str]:
    """Descriptor tags come as a list of names or as `{"data": [{"text": ...}]}` (the library
    handles both)."""
    if isinstance(raw, dict):
        raw = [t.get("text") for t in raw.get("data") or [] if isinstance(t, dict)]
    return [str(t) for t in raw or [] if isinstance(t, str) and t]


def parse_updates(body: bytes, group: str) -> tuple[list[UpstreamEntry], dict[str, Any]]:
    try:
        data = json.loads(body)
        rows = data["data"]
        if not isinstance(rows, list):
            raise TypeError("data is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise ExchangeError(f"the ThreatExchange response is malformed: {exc}", code="malformed_response") from None
    entries = []
    for row in rows:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("id", "indicator", "type")):
            raise ExchangeError("a threat update without id/indicator/type", code="malformed_response")
        descriptors = row.get("descriptors")
        deleted = bool(row.get("should_delete")) or descriptors is None
        items = (descriptors or {}).get("data") if isinstance(descriptors, dict) else None
        if not deleted and not isinstance(items, list):
            raise ExchangeError(f"threat update {row['id']}: descriptors.data is not a list", code="malformed_response")
        owners: list[str] = []
        labels: list[str] = []
        for d in items or []:
            if not isinstance(d, dict) or not isinstance(d.get("id"), str):
                raise ExchangeError(f"threat update {row['id']}: a descriptor without id", code="malformed_response")
            owner = (d.get("owner") or {}).get("id") if isinstance(d.get("owner"), dict) else None
            if owner is None:
                continue  # the library drops descriptors whose owner is not visible
            owners.append(str(owner))
            labels += [t for t in _tags(d.get("tags")) if t not in labels]
            if isinstance(d.get("status"), str) and d["status"] not in labels:
                labels.append(d["status"])
            labels.append(DESCRIPTOR_LABEL + d["id"])
        entries.append(
            UpstreamEntry(
                upstream_id=row["id"],
                upstream_type=row["type"],
                value=row["indicator"],
                list_name=f"privacy_group:{group}",
                deleted=deleted,
                contributor=",".join(f"app:{o}" for o in sorted(set(owners))) or None,
                labels=tuple(labels),
            )
        )
    return entries, data


class ThreatExchangeConnector:
    kind = KIND

    def __init__(self, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = str(credentials.get("access_token", ""))
        self.group = str(config.get("privacy_group", ""))
        self.page_size = int(config.get("page_size", 100))  # the library's page size
        self.types = [str(t) for t in config.get("types", [])]
        if not self.token:
            raise ExchangeError("ThreatExchange needs an access_token (app id|secret)", code="missing_credentials")
        if not self.group.isdigit():
            raise ExchangeError("ThreatExchange needs a numeric privacy_group", code="invalid_config")

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        start = int(checkpoint.get("start_time", 0))
        stop = int(checkpoint.get("stop_time") or 0) or int(time.time())
        params: dict[str, Any] = {
            "access_token": self.token,
            "start_time": start,
            "stop_time": stop,
            "limit": self.page_size,
            "fields": FIELDS,
        }
        if self.types:
            params["types"] = ",".join(self.types)
        if checkpoint.get("after"):
            params["after"] = checkpoint["after"]
        body = http.request(
            "GET", f"{self.base_url}/{self.group}/threat_updates/", params=params, on_error=graph_error(self.token)
        )
        entries, data = parse_updates(body, self.group)
        raw_paging = data.get("paging")
        paging: dict[str, Any] = raw_paging if isinstance(raw_paging, dict) else {}
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if paging.get("next") and isinstance(after, str) and after:
            return Page(entries, {"start_time": start, "stop_time": stop, "after": after}, has_more=True)
        return Page(entries, {"start_time": stop}, has_more=False)

    def submit_feedback(self, item: FeedbackItem) -> None:
        reaction = REACTIONS[item.sentiment]
        descriptors = [label[len(DESCRIPTOR_LABEL) :] for label in item.labels if label.startswith(DESCRIPTOR_LABEL)]
        if not descriptors:
            raise FeedbackUnsupported(f"indicator {item.upstream_id} has no visible descriptor to react to")
        for td in descriptors:
            body = http.request(
                "POST",
                f"{self.base_url}/{td}/",
                params={"access_token": self.token, "reactions": reaction},
                content=f"reactions={reaction}".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                on_error=graph_error(self.token),
            )
            try:
                ok = json.loads(body).get("success") is True
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                raise ExchangeError(f"ThreatExchange did not confirm the reaction on {td}", code="upstream_error")
