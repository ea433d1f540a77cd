"""Backtest: replay stored transactions through a rules file and say what would have changed.

Aggregates are recomputed in memory with the same definitions as `haven.finance.aggregates`
(buckets of W/60, distinct counterparties in (t - W, t]), starting one longest window before
`since` so the first replayed payments see their history. Links (conversations, bank hits) are
read as they are now; restrictions are left out (they are consequences of the outcomes being
compared). Payments of test-mode keys are left out. Read-only: nothing is written but the audit
record of the run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haven.accounts.models import Account
from haven.core.models import Integration
from haven.finance.aggregates import BUCKETS, width, window_seconds
from haven.finance.lists import Lists
from haven.finance.models import Transaction
from haven.finance.rules import FinanceRules
from haven.finance.service import OUTCOMES, relations_of
from haven.policy import PolicyInput, TransactionView, WindowView, evaluate


class MemoryAggregates:
    """The aggregates of `haven.finance.aggregates`, in memory (backtests and the bench's recount)."""

    def __init__(self, windows: list[str]) -> None:
        self.windows = windows
        self.buckets: dict[tuple[str, str, str, int, int], list[int]] = defaultdict(lambda: [0, 0])
        self.pairs: dict[tuple[str, str], dict[str, Any]] = {}
        self.last_by: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
        self.corridors: set[tuple[str, str, str]] = set()
        self.widths = sorted({width(w) for w in windows})

    def add(
        self,
        payer: str,
        payee: str,
        amount: int,
        at: datetime,
        pc: str | None,
        qc: str | None,
        *,
        answer: bool = True,
    ) -> dict[str, Any]:
        """Count one payment; with `answer`, also the features it is screened with (a replay's
        history before `since`, or the bench's seed, only counts)."""
        t = int(at.timestamp())
        pair = self.pairs.get((payer, payee))
        new_payee = pair is None
        if pair is None:
            pair = self.pairs[(payer, payee)] = {"last": amount, "rising": 1}
        else:
            pair["rising"] = pair["rising"] + 1 if amount > pair["last"] else 1
            pair["last"] = amount
        for key, other in ((("payer", payer), payee), (("payee", payee), payer)):
            prev = self.last_by[key].get(other)
            self.last_by[key][other] = max(prev, at) if prev else at
        new_corridor = False
        if pc and qc:
            new_corridor = (payer, pc, qc) not in self.corridors
            self.corridors.add((payer, pc, qc))
        for wd in self.widths:
            for scope, acc, cp in (("o", payer, ""), ("i", payee, ""), ("p", payer, payee)):
                b = self.buckets[(scope, acc, cp, wd, t // wd)]
                b[0] += 1
                b[1] += amount
        if not answer:
            return {"new_payee": new_payee, "new_corridor": new_corridor, "escalation": pair["rising"]}

        def sums(scope: str, acc: str, cp: str, distinct_key: tuple[str, str] | None) -> dict[str, WindowView]:
            out = {}
            for w in self.windows:
                wd = width(w)
                c = tot = 0
                for b in range(t // wd - BUCKETS + 1, t // wd + 1):
                    v = self.buckets.get((scope, acc, cp, wd, b))
                    if v:
                        c, tot = c + v[0], tot + v[1]
                n = 0
                if distinct_key:
                    lo = at - timedelta(seconds=window_seconds(w))
                    n = sum(1 for last in self.last_by[distinct_key].values() if last > lo)
                out[w] = WindowView(c, Decimal(tot) / 100, n)
            return out

        return {
            "new_payee": new_payee,
            "new_corridor": new_corridor,
            "escalation": pair["rising"],
            "payer": sums("o", payer, "", ("payer", payer)),
            "payee": sums("i", payee, "", ("payee", payee)),
            "pair": sums("p", payer, payee, None),
        }


@dataclass
class BacktestResult:
    replayed: int = 0
    changed: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    shadow: Counter[str] = field(default_factory=Counter)
    shadow_would_decide: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)


def backtest(
    session: Session, rules: FinanceRules, lists: Lists, *, since: datetime, limit_examples: int = 20
) -> BacktestResult:
    longest = max(window_seconds(w) for w in rules.windows)
    agg = MemoryAggregates(rules.windows)
    res = BacktestResult()
    bands: dict[str, str] = {}
    restricted = {"payer.new_payees_limited", "payee.payouts_frozen"}
    q = (
        select(Transaction)
        .where(
            Transaction.occurred_at >= since - timedelta(seconds=longest),
            # Test-mode keys' payments live in a namespace of their own: not replayed.
            Transaction.integration_id.not_in(select(Integration.id).where(Integration.mode == "test")),
        )
        .order_by(Transaction.occurred_at, Transaction.received_at)
        .execution_options(yield_per=2000)
    )
    for tx in session.scalars(q):
        replay = tx.occurred_at >= since
        f = agg.add(
            tx.payer, tx.payee, tx.amount_ref_minor, tx.occurred_at, tx.payer_country, tx.payee_country, answer=replay
        )
        if not replay:
            continue
        for acc in (tx.payer, tx.payee):
            if acc not in bands:
                row = session.get(Account, acc)
                bands[acc] = row.age_band if row else "unknown"
        linked, contact = relations_of(session, tx.payer, tx.payee, lists)
        view = TransactionView(
            kind=tx.kind,
            amount=Decimal(tx.amount_ref_minor) / 100,
            payer_band=bands[tx.payer],
            payee_band=bands[tx.payee],
            cross_border=bool(tx.payer_country and tx.payee_country and tx.payer_country != tx.payee_country),
            payee_country_lists=lists.countries_lists(tx.payee_country),
            new_payee=f["new_payee"],
            prior_contact=contact,
            new_corridor=f["new_corridor"],
            memo=lists.memo_categories(tx.memo),
            merchant=lists.merchant_lists(tx.merchant_category, tx.merchant),
            linked=tuple(k for k in linked if k not in restricted),
            payer=f["payer"],
            payee=f["payee"],
            pair=f["pair"],
            escalation=f["escalation"],
        )
        d = evaluate(rules.ruleset, PolicyInput(surface="payment", transaction=view))
        outcome = OUTCOMES[d.verdict.action]
        res.replayed += 1
        res.by_rule[d.verdict.rule] += 1
        for h in d.shadow:
            res.shadow[h.rule] += 1
            if h.would_decide:
                res.shadow_would_decide[h.rule] += 1
        if outcome != tx.outcome:
            res.changed[(tx.outcome, outcome)] += 1
            if len(res.examples) < limit_examples:
                res.examples.append(
                    {
                        "transaction_id": tx.id,
                        "external_id": tx.external_id,
                        "was": tx.outcome,
                        "now": outcome,
                        "was_rule": tx.rule,
                        "now_rule": d.verdict.rule,
                    }
                )
    return res
