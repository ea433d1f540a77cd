"""Small-count suppression: no published figure may single out a person.

A count from 1 to `threshold - 1` is published as `<threshold` (zero stays zero: it reveals no
one). When exactly one count of a breakdown is suppressed, the next smallest published count
of that breakdown is suppressed too (secondary suppression), so the hidden one cannot be worked
out by subtracting the others from the total. Medians, percentiles and rates are not counts and
are published only when the count they summarise is at least the threshold.
"""

from __future__ import annotations

from typing import Any

from haven.transparency.stats import Figure

Published = int | float | str | None


def cell(value: float | None, threshold: int) -> Published:
    if value is None:
        return None
    if 0 < value < threshold:
        return f"<{threshold}"
    return int(value) if float(value).is_integer() else value


def breakdown(values: dict[str, float], threshold: int) -> dict[str, Published]:
    out: dict[str, Published] = {k: cell(v, threshold) for k, v in values.items()}
    hidden = [k for k, v in out.items() if isinstance(v, str)]
    if len(hidden) == 1:
        shown = sorted((v, k) for k, v in values.items() if not isinstance(out[k], str) and v > 0)
        if shown:
            out[shown[0][1]] = f"<{threshold}" if shown[0][0] < threshold else "suppressed"
    return out


def figure(f: Figure, threshold: int) -> dict[str, Any]:
    """A figure as published: counts suppressed, summaries withheld under the threshold."""
    d = f.to_dict()
    if f.status != "ok":
        return d
    d["total"] = cell(f.total, threshold)
    summary_rows = {"overall", "rate", "seconds_since_knowledge"}
    out: dict[str, Any] = {}
    for name, values in f.breakdowns.items():
        if f.unit == "seconds" or name in summary_rows:
            n = values.get("n", f.total or 0)
            out[name] = {k: (v if (n or 0) >= threshold else "suppressed") for k, v in values.items() if k != "n"}
            if "n" in values:
                out[name]["n"] = cell(values["n"], threshold)
        else:
            out[name] = breakdown(values, threshold)
    d["breakdowns"] = out
    d["suppression_threshold"] = threshold
    return d
