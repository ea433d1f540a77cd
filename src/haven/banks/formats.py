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


def _problem(entry: EntryIn) -> str | None:
    problem = validate_signal(entry.signal_type, entry.value)
    if problem is None and entry.classification and len(entry.classification) > MAX_LABEL:
        problem = f"classification longer than {MAX_LABEL} characters"
    if problem is None and entry.source_ref and len(entry.source_ref) > 400:
        problem = "source_ref longer than 400 characters"
    return problem


def _invalid(problems: list[dict[str, object]], total: int) -> Invalid:
    first = problems[0]
    return Invalid(
        f"{total} invalid entr{'y' if total == 1 else 'ies'}; line {first['line']}: {first['problem']}",
        code="invalid_entries",
        details={"problems": problems[:100]},
    )


def check_entries(entries: Iterable[tuple[int, EntryIn | str]]) -> list[EntryIn]:
    """Normalise and validate; raise one error listing every bad line."""
    return [e for batch in check_batches(entries, size=1 << 62) for e in batch]


def check_batches(rows: Iterable[tuple[int, EntryIn | str]], size: int) -> Iterator[list[EntryIn]]:
    """Normalised, validated entries in lists of `size`, streamed: a file of millions of lines is
    never held whole. After the first bad line nothing more is yielded, the rest is still read
    to report every problem, and the end raises one error (the caller's transaction then rolls
    back whatever it did with earlier batches: all-or-nothing)."""
    batch: list[EntryIn] = []
    problems: list[dict[str, object]] = []
    total = 0
    for line, raw in rows:
        if isinstance(raw, str):  # a line the parser could not read (JSON lines)
            problem: str | None = raw
            entry = None
        else:
            entry = normalise(raw)
            problem = _problem(entry)
        if problem:
            total += 1
            if len(problems) < 100:
                problems.append({"line": line, "problem": problem})
            batch = []
            continue
        if total or entry is None:
            continue
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if total:
        raise _invalid(problems, total)
    if batch:
        yield batch


def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, EntryIn | str]]:
    """(line number, raw entry) of a CSV with a header, read lazily."""
    reader = csv.DictReader(iter(lines))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "signal_type" not in header or "value" not in header:
        raise Invalid(
            "the CSV needs a header line with at least signal_type,value "
            "(full form: signal_type,value,classification,source_ref)",
            code="invalid_csv_header",
        )
    reader.fieldnames = header
    for row in reader:
        yield (
            reader.line_num,
            EntryIn(
                row.get("signal_type") or "", row.get("value") or "", row.get("classification"), row.get("source_ref")
            ),
        )


def jsonl_rows(lines: Iterable[str]) -> Iterator[tuple[int, EntryIn | str]]:
    """(line number, raw entry) of JSON lines, read lazily; a line that is not an object comes
    as its problem (a string), for `check_batches` to report."""
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            yield i, f"not a JSON object: {exc}"
            continue
        yield (
            i,
            EntryIn(
                str(obj.get("signal_type", "")),
                str(obj.get("value", "")),
                obj.get("classification"),
                obj.get("source_ref"),
            ),
        )


def rows(lines: Iterable[str], fmt: str) -> Iterator[tuple[int, EntryIn | str]]:
    """The raw rows of an import file in `fmt` (csv or jsonl), lazily: feed them to
    `check_batches` (or `banks.service.import_rows`)."""
    if fmt == "csv":
        return csv_rows(lines)
    if fmt in ("jsonl", "json"):
        return jsonl_rows(lines)
    raise Invalid(f"unknown format '{fmt}' (csv or jsonl)", code="unknown_format")


def parse_csv(text: str) -> list[EntryIn]:
    return parse(text, "csv")


def parse_jsonl(text: str) -> list[EntryIn]:
    return parse(text, "jsonl")


def parse(text: str, fmt: str) -> list[EntryIn]:
    """A whole import file, validated (small files; large ones stream through `rows`)."""
    return check_entries(rows(io.StringIO(text), fmt))


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
