"""SAR/STR support package for a confirmed case: what a service hands its payments partner or
compliance team to file a suspicious activity (FinCEN), suspicious transaction (FINTRAC) or
suspicious matter (AUSTRAC) report. Haven does not file: the regulated institution does.

The package holds only what the report needs (data minimisation): the flagged and held payments
of the subject (as payee or payer) and the payments between the same parties, the subjects with
their age band, the indicators and rules that fired, and a narrative template with the keywords
the regulators ask for. No message text, no media. It lists exactly what it contains
(`manifest.json`), and the export is audited and recorded (`finance.sar_exported`).
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.core.clock import new_id, now
from haven.core.errors import Invalid, NotFound
from haven.core.ledger import audit, record_event
from haven.core.models import Integration
from haven.finance.models import SarExport, Transaction

#: The keywords regulators ask to see in the narrative (and in field 2 of FinCEN's SAR).
KEYWORDS = {
    "fincen": ["OCSE-FIN-2021-NTC3", "FIN-2025-SEXTORTION"],
    "fintrac": ["Project PROTECT", "PROTECT"],  # FINTRAC asks STRs on OCSE to cite #Project PROTECT
    "austrac": ["child exploitation"],  # AUSTRAC SMR: "suspected offence: child exploitation"
}
REGIMES = tuple(KEYWORDS)
FIELDS = [
    "transaction_id",
    "external_id",
    "occurred_at",
    "kind",
    "amount",
    "currency",
    "payer",
    "payee",
    "payer_country",
    "payee_country",
    "method",
    "merchant_category",
    "outcome",
    "status",
    "rule",
    "indicators",
]
#: Where a regime's form differs (field names the compliance team maps the CSV onto).
REGIME_FIELDS = {
    "fincen": {"amount": "Part II item 29 (amount involved)", "occurred_at": "Part II item 30 (date range)"},
    "fintrac": {
        "amount": "Part C amount of transaction",
        "currency": "Part C currency code",
        "occurred_at": "Part C date/time of transaction",
        "method": "Part C method of transaction",
    },
    "austrac": {
        "amount": "SMR transaction amount (AUD equivalent to be added)",
        "payee_country": "SMR country of beneficiary",
    },
}


def _narrative(regime: str, subject: str, txs: list[Transaction], bands: dict[str, str]) -> str:
    kw = ", ".join(KEYWORDS[regime])
    total = sorted({t.currency for t in txs})
    minors = sorted(a for a, b in bands.items() if b in ("under_13", "13_15", "16_17"))
    rules = sorted({t.rule for t in txs})
    inds = sorted({i for t in txs for i in t.indicators})
    first = min(t.occurred_at for t in txs).isoformat()
    last = max(t.occurred_at for t in txs).isoformat()
    return (
        f"{kw}. Between {first} and {last}, account {subject} was party to {len(txs)} payment(s) "
        f"(currencies: {', '.join(total)}) flagged by the platform's child-safety screening. "
        f"Accounts with a minor's age band involved: {', '.join(minors) or 'none'}. "
        f"Rules: {', '.join(rules)}. Indicators: {', '.join(inds)}. "
        "[Describe here: how the activity was detected, the relationship between the parties, what the "
        "platform did (holds, frozen payouts), and the report to NCMEC if one was made.]"
    )


def build(session: Session, subject: str, *, regime: str, actor: str, out_dir: Path) -> dict[str, Any]:
    """Write the package into `out_dir` (created, must be empty) and answer with its manifest."""
    if regime not in REGIMES:
        raise Invalid(f"regime is one of {', '.join(REGIMES)}", code="invalid_regime")
    # Payments of test-mode keys are never part of a package (they are not real money).
    live = Transaction.integration_id.not_in(select(Integration.id).where(Integration.mode == "test"))
    flagged = list(
        session.scalars(
            select(Transaction)
            .where(
                or_(Transaction.payee == subject, Transaction.payer == subject), Transaction.outcome != "approve", live
            )
            .order_by(Transaction.occurred_at)
        )
    )
    if not flagged:
        raise NotFound(f"no flagged payment of account '{subject}'", code="no_flagged_transactions")
    parties = {t.payer for t in flagged} | {t.payee for t in flagged}
    # The payments between the same parties (approved ones too: the trail), nothing else.
    txs = list(
        session.scalars(
            select(Transaction)
            .where(Transaction.payer.in_(parties), Transaction.payee.in_(parties), live)
            .order_by(Transaction.occurred_at)
        )
    )
    bands = {a.id: a.age_band for a in session.scalars(select(Account).where(Account.id.in_(parties)))}
    if out_dir.exists() and any(out_dir.iterdir()):
        raise Invalid(f"{out_dir} is not empty", code="output_not_empty")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    export_id = new_id()
    rows = [
        {
            **{f: getattr(t, f) for f in FIELDS if f not in ("transaction_id", "indicators", "occurred_at")},
            "transaction_id": t.id,
            "occurred_at": t.occurred_at.isoformat(),
            "indicators": ";".join(t.indicators),
        }
        for t in txs
    ]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r[k] is None else r[k]) for k in FIELDS})
    narrative = _narrative(regime, subject, txs, bands)
    package = {
        "export_id": export_id,
        "regime": regime,
        "subject": subject,
        "created_at": now().isoformat(),
        "keywords": KEYWORDS[regime],
        "subjects": [
            {"account_id": a, "age_band": bands.get(a, "unknown"), "role": _role(a, subject)} for a in sorted(parties)
        ],
        "indicators": sorted({i for t in txs for i in t.indicators}),
        "rules": sorted({t.rule for t in txs}),
        "transactions": rows,
        "regime_fields": REGIME_FIELDS[regime],
        "narrative_template": narrative,
    }
    files = {
        "transactions.csv": buf.getvalue(),
        "package.json": json.dumps(package, indent=2, default=str),
        "summary.html": _html(package),
    }
    manifest = {
        "export_id": export_id,
        "files": sorted([*files, "manifest.json"]),
        "transactions": len(rows),
        "transaction_ids": [r["transaction_id"] for r in rows],
        "subjects": sorted(parties),
        "fields": FIELDS,
        "not_included": ["message text", "media", "memo text", "IP addresses", "accounts outside the parties"],
    }
    files["manifest.json"] = json.dumps(manifest, indent=2)
    for name, text in files.items():
        p = out_dir / name
        p.write_text(text)
        p.chmod(0o600)
    session.add(SarExport(id=export_id, subject=subject, regime=regime, actor=actor, manifest=manifest))
    record_event(
        session,
        "finance.sar_exported",
        subject_type="account",
        subject_id=subject,
        actor=actor,
        data={
            "export_id": export_id,
            "regime": regime,
            "transactions": len(rows),
            "files": manifest["files"],
            "fields": FIELDS,
        },
    )
    audit(session, actor=actor, action="finance.sar_export", object_type="account", object_id=subject)
    return manifest


def _role(account: str, subject: str) -> str:
    return "subject" if account == subject else "counterparty"


def _html(p: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(r[k] or ''))}</td>"
            for k in ("occurred_at", "kind", "amount", "currency", "payer", "payee", "outcome", "rule")
        )
        + "</tr>"
        for r in p["transactions"]
    )
    subjects = "".join(
        f"<li>{e(s['account_id'])} ({e(s['role'])}, age band {e(s['age_band'])})</li>" for s in p["subjects"]
    )
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>SAR support package</title>"
        f"<h1>SAR/STR support package ({e(p['regime'])})</h1><p>Export {e(p['export_id'])}, {e(p['created_at'])}.</p>"
        f"<h2>Subjects</h2><ul>{subjects}</ul><h2>Indicators</h2><p>{e(', '.join(p['indicators']))}</p>"
        f"<h2>Narrative template</h2><p>{e(p['narrative_template'])}</p>"
        "<h2>Transactions</h2><table><tr><th>occurred</th><th>kind</th><th>amount</th><th>currency</th><th>payer</th>"
        f"<th>payee</th><th>outcome</th><th>rule</th></tr>{rows}</table></html>"
    )
