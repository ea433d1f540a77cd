"""StopNCII.org hash exchange (REST, JSON), following python-threatexchange's `StopNCIIAPI`
(`threatexchange/exchanges/clients/stopncii/api.py`, 1.2.x) request for request:

- every call carries `Ocp-Apim-Subscription-Key` (the subscription) and `x-functions-key` (a key
  per endpoint: FetchHashes, SubmitFeedback);
- `GET {base}/FetchHashes?startTimestamp=&pageSize=&nextPageToken=` returns `count`,
  `nextPageToken`, `nextSetTimestamp`, `hasMoreRecords` and `hashRecords` (`lastModtimestamp`,
  `signalType` ImagePDQ/VideoMD5/..., `hashValue`, `hashStatus`, `caseNumbers`, `CSPFeedbacks`);
  a record replaces any earlier one of the same hash, and `Withdrawn`/`Deleted` remove it;
- `POST {base}/SubmitFeedback` `{"count": n, "hashFeedbacks": [{"hashValue", "feedbackValue",
  "tags"}]}`: `Blocked` when a reviewer confirmed NCII, `NotBlocked` when not.

The page token is short-lived, so the checkpoint keeps `startTimestamp` too; once a fetch is
complete the next one starts at `nextSetTimestamp`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from haven.exchange import http
from haven.exchange.base import ExchangeError, FeedbackItem, Page, UpstreamEntry

KIND = "stopncii"
DEFAULT_START = 10
REMOVED = {"Withdrawn", "Deleted"}


def parse_fetch(body: bytes) -> tuple[list[UpstreamEntry], dict[str, Any]]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ExchangeError(f"the StopNCII response is not JSON: {exc}", code="malformed_response") from None
    if not isinstance(data, dict) or not isinstance(data.get("hashRecords", []), list):
        raise ExchangeError("the StopNCII response has no hashRecords list", code="malformed_response")
    for key, typ in (("hasMoreRecords", bool), ("nextSetTimestamp", int)):
        if not isinstance(data.get(key), typ):
            raise ExchangeError(f"the StopNCII response lacks {key}", code="malformed_response")
    entries: list[UpstreamEntry] = []
    for rec in data.get("hashRecords", []):
        if not isinstance(rec, dict) or not isinstance(rec.get("hashValue"), str) or not rec.get("signalType"):
            raise ExchangeError("a StopNCII hash record without signalType/hashValue", code="malformed_response")
        status = str(rec.get("hashStatus") or "Unknown")
        cases = rec.get("caseNumbers") or {}
        entries.append(
            UpstreamEntry(
                upstream_id=f"{rec['signalType']}:{rec['hashValue'].lower()}",
                upstream_type=str(rec["signalType"]),
                value=rec["hashValue"],
                list_name="stopncii",
                deleted=status in REMOVED,
                contributor="StopNCII.org",
                labels=("ncii", status, *sorted(str(c) for c in cases)),
            )
        )
    return entries, data


class StopNCIIConnector:
    kind = KIND

    def __init__(self, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.subscription_key = str(credentials.get("subscription_key", ""))
        self.fetch_key = str(credentials.get("fetch_function_key", ""))
        self.feedback_key = str(credentials.get("feedback_function_key", ""))
        if not self.subscription_key or not self.fetch_key:
            raise ExchangeError("StopNCII needs subscription_key and fetch_function_key", code="missing_credentials")
        self.page_size = int(config.get("page_size", 800))

    def _headers(self, function_key: str) -> dict[str, str]:
        return {"x-functions-key": function_key, "Ocp-Apim-Subscription-Key": self.subscription_key}

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        start = int(checkpoint.get("start", DEFAULT_START))
        params: dict[str, Any] = {"startTimestamp": start, "pageSize": self.page_size}
        if checkpoint.get("next"):
            params["nextPageToken"] = checkpoint["next"]
        body = http.request("GET", f"{self.base_url}/FetchHashes", params=params, headers=self._headers(self.fetch_key))
        entries, data = parse_fetch(body)
        if data["hasMoreRecords"] and data.get("nextPageToken"):
            return Page(entries, {"start": start, "next": data["nextPageToken"]}, has_more=True)
        return Page(entries, {"start": int(data["nextSetTimestamp"])}, has_more=False)

    def submit_feedback(self, item: FeedbackItem) -> None:
        if not self.feedback_key:
            raise ExchangeError("no SubmitFeedback function key is configured", code="feedback_unsupported")
        value = "Blocked" if item.sentiment == "confirm" else "NotBlocked"
        payload = {"count": 1, "hashFeedbacks": [{"tags": [], "feedbackValue": value, "hashValue": item.value}]}
        http.request("POST", f"{self.base_url}/SubmitFeedback", json=payload, headers=self._headers(self.feedback_key))
