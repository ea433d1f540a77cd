"""Import and export formats of bank entries: CSV with a header and JSON lines.

CSV columns: `signal_type,value,classification,source_ref`. Parsing is all-or-nothing and
reports every bad line with its number, so an operator fixes the file once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from haven.core.errors import Invalid
from haven.signals.types import REGISTRY

CSV_FIELDS = ("signal_type", "value", "classification", "source_ref")
MAX_LABEL = 80
#: `bank_entries.value` holds at most this many characters.
MAX_VALUE = 128


@dataclass(frozen=True)
class EntryIn:
    signal_type: str
    value: str
    classification: str | None = None
    source_ref: str | None = None


def validate_signal(signal_type: str, value: str) -> str | None:
    """The problem with a (signal type, normalised value) pair for a bank, or None when it can be
    banked: the registry decides (unknown types, types that cannot be banked yet such as vPDQ,
    malformed values)."""
    problem = REGISTRY.problem(signal_type, value, "bank")
    if problem is None and len(value) > MAX_VALUE:
        problem = f"a {signal_type} value longer than {MAX_VALUE} characters cannot be banked"
    return problem


def normalise(entry: EntryIn) -> EntryIn:
    st = entry.signal_type.strip().lower()
    t = REGISTRY.get(st)
    value = t.normalise(entry.value) if t is not None else entry.value.strip().lower()
    cls = (entry.classification or "").strip() or None
    ref = (entry.source_ref or "").strip() or None
    return EntryIn(st, value, cls, ref)


def check_entries(entries: Iterable[tuple[int, EntryIn]]) -> list[EntryIn]:
    """Normalise and validate; raise one error listing every bad line."""
    good: list[EntryIn] = []
    problems: list[dict[str, object]] = []
    for line, raw in entries:
        entry = normalise(raw)
        problem = validate_signal(entry.signal_type, entry.value)
        if problem is None and entry.classification and len(entry.classification) > MAX_LABEL:
            problem = f"classification longer than {MAX_LABEL} characters"
        if problem is None and entry.source_ref and len(entry.source_ref) > 400:
            problem = "source_ref longer than 400 characters"
        if problem:
            problems.append({"line": line, "problem": problem})
        else:
            good.append(entry)
    if problems:
        first = problems[0]
        raise Invalid(
            f"{len(problems)} invalid entr{'y' if len(problems) == 1 else 'ies'}; "
            f"line {first['line']}: {first['problem']}",
            code="invalid_entries",
            details={"problems": problems[:100]},
        )
    return good


def parse_csv(text: str) -> list[EntryIn]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "signal_type" not in header or "value" not in header:
        raise Invalid(
            "the CSV needs a header line with at least signal_type,value "
            "(full form: signal_type,value,classification,source_ref)",
            code="invalid_csv_header",
        )
    reader.fieldnames = header
    rows = []
    for i, row in enumerate(reader, start=2):
        rows.append(
            (
                i,
                EntryIn(
                    row.get("signal_type") or "",
                    row.get("value") or "",
                    row.get("classification"),
                    row.get("source_ref"),
                ),
            )
        )
    return check_entries(rows)


def parse_jsonl(text: str) -> list[EntryIn]:
    rows: list[tuple[int, EntryIn]] = []
    problems: list[dict[str, object]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            rows.append(
                (
                    i,
                    EntryIn(
                        str(obj.get("signal_type", "")),
                        str(obj.get("value", "")),
                        obj.get("classification"),
                        obj.get("source_ref"),
                    ),
                )
            )
        except ValueError as exc:
            problems.append({"line": i, "problem": f"not a JSON object: {exc}"})
    if problems:
        raise Invalid(
            f"line {problems[0]['line']}: {problems[0]['problem']}",
            code="invalid_entries",
            details={"problems": problems[:100]},
        )
    return check_entries(rows)


def parse(text: str, fmt: str) -> list[EntryIn]:
    if fmt == "csv":
        return parse_csv(text)
    if fmt in ("jsonl", "json"):
        return parse_jsonl(text)
    raise Invalid(f"unknown format '{fmt}' (csv or jsonl)", code="unknown_format")


def guess_format(filename: str) -> str:
    return "jsonl" if filename.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv"


def dump(entries: Iterable[EntryIn], fmt: str) -> Iterator[str]:
    """Lines of an export in the same formats the import reads."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        yield buf.getvalue()
        for e in entries:
            buf.seek(0)
            buf.truncate()
            writer.writerow([e.signal_type, e.value, e.classification or "", e.source_ref or ""])
            yield buf.getvalue()
    elif fmt in ("jsonl", "json"):
        for e in entries:
            yield json.dumps(asdict(e)) + "\n"
    else:
        raise Invalid(f"unknown format '{fmt}' (csv or jsonl)", code="unknown_format")
