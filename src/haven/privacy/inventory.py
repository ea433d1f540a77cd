"""The inventory collected from every capability's declarations, checked against the models.

`declarations()` reads the `DATA` of each module named in a manifest's `data` (plus core's own
tables, which belong to no capability), so a branch merged later adds its tables by adding its
own `data_inventory` module and one manifest line, nothing here.
"""

from __future__ import annotations

from haven.core.capability import load
from haven.core.inventory import BASES, TableData


def declarations() -> list[TableData]:
    from haven.capabilities import CAPABILITIES

    refs = [ref for cap in CAPABILITIES for ref in cap.data]
    out: list[TableData] = []
    for ref in refs:
        out.extend(load(ref).DATA)
    return out


def by_table() -> dict[str, TableData]:
    return {d.table: d for d in declarations()}


def model_columns() -> dict[str, list[str]]:
    """Every table of the real models and its columns (Base.metadata, all capabilities imported)."""
    import haven.models  # noqa: F401  (registers every capability's tables)
    from haven.core.db import Base

    return {name: [c.name for c in table.columns] for name, table in Base.metadata.tables.items()}


def render_markdown() -> str:
    """docs/data-inventory.md."""
    from haven.privacy.classes import CLASSES

    decls = sorted(declarations(), key=lambda d: d.table)
    lines = [
        "# Data inventory",
        "",
        "Generated from the declarations (`data_inventory.py` of each capability, `haven.core.inventory`):",
        "`python -m haven.privacy.docs`. Do not edit by hand. A column the models have and no",
        "declaration names fails `tests/privacy/test_inventory.py`.",
        "",
        "## Retention sweeps (data classes)",
        "",
        "One scheduled job per class (`privacy.sweep`, daily); the period is configurable per deployment",
        "with `HAVEN_PRIVACY_RETENTION_DAYS` (a JSON object, class -> days). Legal holds, preserved",
        "reports, open report cases and open law-enforcement requests always win.",
        "",
        "| class | default | what happens | enforced by |",
        "|---|---|---|---|",
    ]
    for c in CLASSES.values():
        days = "at the decision" if c.default_days == 0 else f"{c.default_days} days"
        lines.append(f"| `{c.name}` | {days} | {c.what} | {c.enforced_by} |")
    lines += ["", "## Legal bases", ""]
    for k, v in BASES.items():
        lines.append(f"- `{k}`: {v}")
    lines += ["", "## Tables", ""]
    lines += [
        "| table | purpose | basis | retention | at the end | class | who sees it |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in decls:
        dc = f"`{d.data_class}`" if d.data_class else ""
        lines.append(f"| `{d.table}` | {d.purpose} | {d.basis} | {d.retention} | {d.end} | {dc} | {d.access} |")
    lines += ["", "## Personal fields", ""]
    for d in decls:
        if not d.personal:
            continue
        lines += [f"### `{d.table}`", ""]
        if d.subject:
            lines.append(f"Identifies the account by: {', '.join(f'`{s}`' for s in d.subject)}.")
            lines.append("")
        lines += ["| field | what it is | withheld from an access request |", "|---|---|---|"]
        for name, what in d.personal.items():
            lines.append(f"| `{name}` | {what} | {d.withheld.get(name, '')} |")
        lines.append("")
    n_cols = sum(len(d.declared()) for d in decls)
    n_personal = sum(len(d.personal) for d in decls)
    lines += [f"{len(decls)} tables, {n_cols} columns, {n_personal} of them personal data.", ""]
    return "\n".join(lines)
