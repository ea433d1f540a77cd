"""The one error shape of the API: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any


class HavenError(Exception):
    """An error meant for the caller: a stable machine-readable code and a human message."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(HavenError):
    status_code = 404
    code = "not_found"


class Conflict(HavenError):
    status_code = 409
    code = "conflict"


class Invalid(HavenError):
    status_code = 422
    code = "invalid"


class Unauthorized(HavenError):
    status_code = 401
    code = "unauthorized"


class Forbidden(HavenError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(HavenError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(HavenError):
    status_code = 415
    code = "unsupported_media_type"


class UndecodableMedia(HavenError):
    status_code = 422
    code = "undecodable_media"


class ServiceBusy(HavenError):
    """The server is at its limit for this kind of work; retry after `Retry-After` seconds."""

    status_code = 503
    code = "busy"
