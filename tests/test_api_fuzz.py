"""schemathesis over the OpenAPI schema, against the real server on loopback: whatever the
input, the API answers with the documented error shape and never a 5xx.

(schemathesis's pytest plugin does not work with pytest 9, so the operations are driven with
its hypothesis strategies directly.)
"""

from __future__ import annotations

import hypothesis
import schemathesis

from tests.conftest import LiveServer


def test_no_server_errors_on_any_operation(server: LiveServer, api_key: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {api_key}"}
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
            database=None,
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
            content_type = response.headers.get("content-type") or [""]
            if isinstance(content_type, list):
                content_type = content_type[0]
            if (
                response.status_code < 500
                and response.status_code >= 400
                and content_type.startswith("application/json")
            ):
                body = response.json()
                if set(body) != {"error"} or not {"code", "message", "details"} <= set(body["error"]):
                    failures.append(f"{case.method} {case.formatted_path}: error shape {body}")

        check()
    assert failures == []
    # Every operation was exercised, and some inputs got past validation.
    assert len(calls) >= 5 * len(operations) and any(c < 300 for c in calls), sorted(set(calls))
