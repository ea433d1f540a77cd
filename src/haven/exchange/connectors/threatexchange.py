"""Meta ThreatExchange (Graph API), following python-threatexchange's `ThreatExchangeAPI`
(`threatexchange/exchanges/clients/fb_threatexchange/api.py`, 1.2.x): the descriptors of a
privacy group are read from `GET {base}/{privacy group}/threat_updates` with `access_token`,
`fields=id,indicator,type,last_updated,should_delete,tags,creation_time`, `limit` and `start_time`,
following `paging.next`/`paging.cursors.after` until it is absent; `should_delete` removes an
indicator. Reactions (feedback) are `POST {base}/{descriptor id}/reactions` with `reaction`
`SAW_THIS_TOO` (confirmed) or `DISAGREE_WITH_TAGS` (overturned), as the library's
`react_to_threat_descriptor` does."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from haven.exchange import http
from haven.exchange.base import ExchangeError, FeedbackItem, Page, UpstreamEntry

KIND = "threatexchange"
FIELDS = "id,indicator,type,last_updated,should_delete,tags,creation_time"


class ThreatExchangeConnector:
    kind = KIND

    def __init__(self, base_url: str, credentials: Mapping[str, str], config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = str(credentials.get("access_token", ""))
        self.group = str(config.get("privacy_group", ""))
        self.page_size = int(config.get("page_size", 500))
        if not self.token:
            raise ExchangeError("ThreatExchange needs an access_token (app id|secret)", code="missing_credentials")
        if not self.group.isdigit():
            raise ExchangeError("ThreatExchange needs a numeric privacy_group", code="invalid_config")

    def fetch_page(self, checkpoint: Mapping[str, Any]) -> Page:
        start = int(checkpoint.get("start_time", 0))
        stop = int(checkpoint.get("stop_time") or 0) or int(time.time())
        params: dict[str, Any] = {
            "access_token": self.token,
            "fields": FIELDS,
            "limit": self.page_size,
            "start_time": start,
            "stop_time": stop,
        }
        if checkpoint.get("after"):
            params["after"] = checkpoint["after"]
        body = http.request("GET", f"{self.base_url}/{self.group}/threat_updates", params=params)
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
            tags = row.get("tags") or []
            entries.append(
                UpstreamEntry(
                    upstream_id=row["id"],
                    upstream_type=row["type"],
                    value=row["indicator"],
                    list_name=f"privacy_group:{self.group}",
                    deleted=bool(row.get("should_delete")),
                    contributor=None,
                    labels=tuple(str(t) for t in tags if isinstance(t, str)),
                )
            )
        after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
        if (data.get("paging") or {}).get("next") and after:
            return Page(entries, {"start_time": start, "stop_time": stop, "after": after}, has_more=True)
        return Page(entries, {"start_time": stop}, has_more=False)

    def submit_feedback(self, item: FeedbackItem) -> None:
        reaction = "SAW_THIS_TOO" if item.sentiment == "confirm" else "DISAGREE_WITH_TAGS"
        http.request(
            "POST",
            f"{self.base_url}/{item.upstream_id}/reactions",
            params={"access_token": self.token, "reaction": reaction},
        )
