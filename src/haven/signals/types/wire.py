"""Pydantic field types whose allowed signal types are read from the registry.

`Literal["md5", "sha1", ...]` froze the list in each schema; `BankSignalType` checks
membership in `REGISTRY` when a request is validated (so a type registered later is accepted),
fails with pydantic's own `literal_error` (same 422 shape and message as the Literal did) for an
unknown name, with the registry's reason for a known type the door does not accept (vPDQ), and
shows the accepted names as an `enum` in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from haven.signals.types import REGISTRY, Purpose


class _AcceptedNames:
    """Annotation metadata: the enum of accepted names, read when the JSON schema is built."""

    def __init__(self, purpose: Purpose) -> None:
        self.purpose = purpose

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["enum"] = list(REGISTRY.names(self.purpose))
        return out


def _checker(purpose: Purpose) -> Any:
    accepted = REGISTRY.accepted[purpose]  # kept current by the registry: later types count

    def check(name: str) -> str:
        if name in accepted:  # the hot path: 1,000 of these per lookup request
            return name
        t = REGISTRY.get(name)
        if t is not None:
            raise PydanticCustomError("signal_type_unsupported", "{reason}", {"reason": t.unsupported_reason})
        names = [repr(n) for n in REGISTRY.names(purpose)]
        expected = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})

    return check


#: A `str` field accepting the registered types that can be banked (entries, imports).
BankSignalType = Annotated[str, AfterValidator(_checker("bank")), _AcceptedNames("bank")]
#: A `str` field accepting the registered types that `POST /v1/hashes/lookup` takes.
LookupSignalType = Annotated[str, AfterValidator(_checker("lookup")), _AcceptedNames("lookup")]

__all__ = ["BankSignalType", "LookupSignalType"]
