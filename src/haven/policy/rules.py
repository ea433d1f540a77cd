"""Declarative policy rules: a YAML file, versioned with the terms of service, maps signals to a
verdict and actions.

Pure logic: `evaluate(ruleset, inputs)` depends only on its arguments, so the same inputs always
give the same verdict, and every verdict names the rule that fired. Rules are tried in order;
the first *active* rule whose conditions hold decides. Rules in `shadow` mode are evaluated and
reported next to the verdict (would they have fired, and would they have decided?) without any
effect, so a new rule can be watched on live traffic before it is promoted.

A rule's `when` is a conjunction of conditions (`any:` holds a list of alternatives):

- `match`: a bank match exists with the given bank kinds, statuses and near-threshold flag;
- `score`: a classifier (or any, `*`) scored one of the labels at least `gte`;
- `reports`: user reports on the subject (count, categories, trusted flaggers, imminent risk);
- `account`: the uploader's age band, account age, active strikes and prior violations;
- `conversation`: a message's conversation: which detector family warns (or first warned on this
  message), behaviours seen, relationship signals, the sender's and recipients' age bands, and
  `recipient:` some one recipient's assured band, assurance level and whether the sender is
  among its connections (the social graph the service tells Haven, `youth/`);
- `surfaces` / `media_kinds`: where the content was posted and what it is;
- `transaction`: a payment as the finance capability sees it (`haven.finance`): kind, amount in
  the reference currency, age bands, countries, memo and merchant indicators, links Haven's own
  detectors found between payer and payee, and windowed aggregates of payer, payee and pair.

Payments are decided by a rule set of the same shape, evaluated by this same engine: a
transaction rule's `hold` keeps the payment until a person looks, `block` declines it, and it may
ask to freeze the payee's payouts (`payee.freeze`), limit a minor's new payees
(`payer.limit_new_payees`) and nudge the minor who pays (`nudge`).

Messages are decided by the same rules as content (so shadow mode and `haven policy test` cover
them). A message verdict may also be `hold` (the service keeps the message from its recipients
until a person looks), and an `allow` of a message may carry `review`, `nudge` and `preserve`:
deliver it, but flag the conversation, send minors a safety nudge, keep the conversation.

`check()` enforces the invariants that the engine relies on and that the law asks for: names are
unique, the last rule is an unconditional active fallback, categories and actions are known, and
**no rule terminates or suspends an account on classifier output alone** (only a bank match of
known material, or a human decision, may do that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from haven.accounts.bands import AGE_BANDS, AssuranceLevel, level_rank
from haven.policy.categories import CATEGORIES
from haven.policy.verdict import KNOWN_KINDS, MatchView, Verdict, VerdictAction, is_near_threshold

#: What a rule may ask for besides its verdict. Account actions go through the enforcement ladder
#: unless the rule names them; `preserve` and `report` are for the evidence and report capabilities.
ACTIONS = frozenset(
    {
        "preserve",
        "report",
        "review",
        "ladder",
        "content.remove",
        "account.restrict",
        "account.suspend",
        "account.terminate",
        "nudge",
        "payee.freeze",
        "payer.limit_new_payees",
    }
)
#: Actions only a transaction rule may ask for.
TRANSACTION_ACTIONS = frozenset({"payee.freeze", "payer.limit_new_payees"})
#: Actions an `allow` of a message may carry (deliver it, and look at the conversation).
MESSAGE_ALLOW_ACTIONS = frozenset({"review", "nudge", "preserve"})
ACCOUNT_ACTIONS = frozenset({"account.restrict", "account.suspend", "account.terminate"})
#: A rule's category may be taken from the kind of bank that matched (see BANK_KIND_CATEGORY).
FROM_MATCH = "from_match"
#: The category a match in a bank of this kind means; the first kind in this order wins.
BANK_KIND_CATEGORY = {"known_csam": "csam", "known_exploitation": "csam", "local_confirmed": "csam", "ncii": "ncii"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchCond(_Strict):
    bank_kinds: list[str] = Field(default_factory=lambda: sorted(KNOWN_KINDS))
    status: list[Literal["active", "quarantined", "allowlisted", "low_quality"]] = Field(
        default_factory=lambda: ["active"]  # type: ignore[arg-type]
    )
    #: true: only near-threshold matches count; false: only firm ones; absent: both.
    near_threshold: bool | None = None
    min_count: int = Field(1, ge=1)


class ScoreCond(_Strict):
    classifier: str = "*"
    labels: list[str] = Field(min_length=1)
    gte: float = Field(ge=0.0, le=1.0)


class ReportCond(_Strict):
    min_count: int = Field(1, ge=1)
    categories: list[str] | None = None
    child_safety: bool | None = None
    trusted_flagger: bool | None = None
    imminent_risk: bool | None = None


class AccountCond(_Strict):
    age_bands: list[str] | None = None
    max_age_days: int | None = Field(None, ge=0)
    min_active_strikes: int | None = Field(None, ge=0)
    min_prior_violations: int | None = Field(None, ge=0)


class RecipientCond(_Strict):
    """Some one recipient of the message meets all of these (each recipient is taken alone, so
    "an unconnected minor" means one minor the sender is not connected to)."""

    bands: list[str] | None = None
    #: The recipient's band is assured at least at this level.
    min_level: AssuranceLevel | None = None
    #: The sender is among the recipient's connections (Haven's graph, or the service's
    #: `connected: true` on the message).
    connected: bool | None = None


class ConversationCond(_Strict):
    """A message's conversation. Lists are alternatives (any of them) except `relationship`,
    whose signals must all be present."""

    #: Detector families this condition is about (default: either).
    families: list[Literal["grooming", "sextortion"]] = Field(
        default_factory=lambda: ["grooming", "sextortion"]  # type: ignore[arg-type]
    )
    #: The family's warning is on at this message (true) or off (false).
    warned: bool | None = None
    #: The family's warning fired for the first time on this message.
    crossed: bool | None = None
    min_score: float | None = Field(None, ge=0.0, le=1.0)
    behaviours: list[str] | None = None
    relationship: list[str] | None = None
    sender_bands: list[str] | None = None
    recipient_bands: list[str] | None = None
    first_contact: bool | None = None
    #: The service says sender and recipients are connections (false also when it did not say).
    connected: bool | None = None
    recipient: RecipientCond | None = None


class WindowCond(_Strict):
    """Aggregates over one window (a duration such as `1h`, `24h`, `30d`, one of the windows the
    finance capability keeps): transactions counted, their total in the reference currency, and
    distinct counterparties (payees of a payer, payers of a payee). Every bound given must hold."""

    window: str = Field(pattern=r"^[1-9][0-9]*[mhd]$")
    min_count: int | None = Field(None, ge=1)
    max_count: int | None = Field(None, ge=0)
    min_total: Decimal | None = Field(None, ge=0)
    max_total: Decimal | None = Field(None, ge=0)
    min_counterparties: int | None = Field(None, ge=1)


class TransactionCond(_Strict):
    """A payment. Lists are alternatives (any of them); booleans must be as given."""

    kinds: list[str] | None = None
    payer_bands: list[str] | None = None
    payee_bands: list[str] | None = None
    #: Bounds on the amount, in the reference currency (see haven/finance/lists/currencies.yaml).
    min_amount: Decimal | None = Field(None, ge=0)
    max_amount: Decimal | None = Field(None, ge=0)
    cross_border: bool | None = None
    #: Names of country lists the payee's country is on (e.g. `concern`).
    payee_country_lists: list[str] | None = None
    new_payee: bool | None = None
    #: The two accounts have exchanged messages before (either direction).
    prior_contact: bool | None = None
    new_corridor: bool | None = None
    #: Memo lexicon categories (e.g. `cover`, `sexualised`, `child`).
    memo: list[str] | None = None
    #: Merchant category lists (e.g. `anonymity_tools`, `live_streaming`).
    merchant: list[str] | None = None
    #: What Haven's detectors link the two accounts by (e.g. `sextortion_conversation`).
    linked: list[str] | None = None
    payer: WindowCond | None = None
    payee: WindowCond | None = None
    pair: WindowCond | None = None
    #: Consecutive rising amounts from this payer to this payee, this one included.
    min_escalation: int | None = Field(None, ge=1)


class When(_Strict):
    match: MatchCond | None = None
    score: ScoreCond | None = None
    reports: ReportCond | None = None
    account: AccountCond | None = None
    conversation: ConversationCond | None = None
    transaction: TransactionCond | None = None
    surfaces: list[str] | None = None
    media_kinds: list[str] | None = None
    any: list[When] | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in type(self).model_fields)

    def kinds(self) -> set[str]:
        """The condition kinds this `when` requires in every alternative (for the invariants)."""
        own = {
            f
            for f in ("match", "score", "reports", "account", "conversation", "transaction")
            if getattr(self, f) is not None
        }
        if self.any:
            common = set.intersection(*(w.kinds() for w in self.any))
            own |= common
        return own


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", max_length=120)
    description: str = ""
    when: When = Field(default_factory=When)
    verdict: VerdictAction
    category: str | None = None
    actions: list[str] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=500)
    mode: Literal["active", "shadow"] = "active"
    #: Put the matched classifications / classifier labels on the verdict.
    emit_labels: bool = True


class RuleSet(_Strict):
    version: str = Field(min_length=1, max_length=40)
    terms_version: str = Field(min_length=1, max_length=40)
    near_threshold_band: int = Field(0, ge=0, le=64)
    rules: list[Rule] = Field(min_length=1)


def _uses(w: When, kind: str) -> bool:
    return getattr(w, kind) is not None or any(_uses(alt, kind) for alt in w.any or [])


def uses(rs: RuleSet, kind: str) -> bool:
    """Whether any rule (active or shadow) reads this kind of condition, e.g. "account": callers
    skip gathering inputs no rule reads."""
    return any(_uses(r.when, kind) for r in rs.rules)


class RulesError(ValueError):
    """A rules file that does not parse or breaks an invariant; `problems` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ReportView:
    """What policy needs to know of one user report on the subject."""

    category: str
    trusted_flagger: bool = False
    imminent_risk: bool = False


@dataclass(frozen=True)
class AccountView:
    age_band: str = "unknown"
    age_days: int | None = None
    active_strikes: int = 0
    prior_violations: int = 0


@dataclass(frozen=True)
class ConversationView:
    """What policy needs to know of a message's conversation after the detector's update."""

    scores: dict[str, float] = field(default_factory=dict)  # family -> score
    warned: tuple[str, ...] = ()  # families whose warning is on
    crossed: tuple[str, ...] = ()  # families whose warning fired first on this message
    behaviours: tuple[str, ...] = ()  # behaviours seen in the conversation so far
    relationship: tuple[str, ...] = ()  # e.g. adult_to_minor, first_contact, after_block
    sender_band: str = "unknown"
    recipient_bands: tuple[str, ...] = ()
    first_contact: bool = False
    connected: bool | None = None
    #: Per recipient, in the order of `recipient_bands`: the assurance level of its band and
    #: whether the sender is among its connections (absent: "none" and not connected).
    recipient_levels: tuple[str, ...] = ()
    recipient_connected: tuple[bool, ...] = ()


@dataclass(frozen=True)
class WindowView:
    count: int = 0
    total: Decimal = Decimal(0)
    counterparties: int = 0


@dataclass(frozen=True)
class TransactionView:
    """What policy needs to know of a payment, with this payment counted in every aggregate."""

    kind: str
    amount: Decimal  # in the reference currency
    payer_band: str = "unknown"
    payee_band: str = "unknown"
    cross_border: bool = False
    payee_country_lists: tuple[str, ...] = ()
    new_payee: bool = False
    prior_contact: bool = False
    new_corridor: bool = False
    memo: tuple[str, ...] = ()
    merchant: tuple[str, ...] = ()
    linked: tuple[str, ...] = ()
    payer: Mapping[str, WindowView] = field(default_factory=dict)
    payee: Mapping[str, WindowView] = field(default_factory=dict)
    pair: Mapping[str, WindowView] = field(default_factory=dict)
    escalation: int = 1


@dataclass(frozen=True)
class PolicyInput:
    matches: tuple[MatchView, ...] = ()
    #: {classifier: {"version": ..., "scores": {label: score}}}, as in ContentItem.scores.
    scores: dict[str, Any] = field(default_factory=dict)
    reports: tuple[ReportView, ...] = ()
    account: AccountView | None = None
    surface: str | None = None
    media_kind: str | None = None
    conversation: ConversationView | None = None
    transaction: TransactionView | None = None


@dataclass(frozen=True)
class ShadowHit:
    rule: str
    verdict: VerdictAction
    #: True when the shadow rule comes before the rule that decided: promoting it would change
    #: the verdict of this input.
    would_decide: bool


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    actions: tuple[str, ...]
    category: str | None
    ruleset_version: str
    shadow: tuple[ShadowHit, ...] = ()

    def to_event(self) -> dict[str, Any]:
        return {
            "ruleset_version": self.ruleset_version,
            "category": self.category,
            "actions": list(self.actions),
            "shadow": [{"rule": h.rule, "verdict": h.verdict, "would_decide": h.would_decide} for h in self.shadow],
        }


def parse(text: str, *, promoted: tuple[str, ...] = ()) -> RuleSet:
    """Parse and check a rules file; `promoted` names shadow rules to run as active."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError([f"not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise RulesError(["a rules file is a mapping with version, terms_version and rules"])
    try:
        rs = RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
        ) from None
    if promoted:
        names = {r.name for r in rs.rules}
        missing = sorted(set(promoted) - names)
        if missing:
            raise RulesError([f"promoted rule(s) not in the file: {', '.join(missing)}"])
        rs = rs.model_copy(
            update={"rules": [r.model_copy(update={"mode": "active"}) if r.name in promoted else r for r in rs.rules]}
        )
    problems = check(rs)
    if problems:
        raise RulesError(problems)
    return rs


def check(rs: RuleSet) -> list[str]:
    """Every broken invariant of a parsed rule set (empty when it is sound)."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, r in enumerate(rs.rules):
        where = f"rules[{i}] ({r.name})"
        if r.name in seen:
            problems.append(f"{where}: duplicate rule name")
        seen.add(r.name)
        if r.category is not None and r.category != FROM_MATCH and r.category not in CATEGORIES:
            problems.append(f"{where}: unknown category '{r.category}'")
        if r.category == FROM_MATCH and "match" not in r.when.kinds():
            problems.append(f"{where}: category '{FROM_MATCH}' needs a match condition")
        for a in r.actions:
            if a not in ACTIONS:
                problems.append(f"{where}: unknown action '{a}' (one of {', '.join(sorted(ACTIONS))})")
        is_message_rule = "conversation" in r.when.kinds()
        is_payment_rule = "transaction" in r.when.kinds()
        if TRANSACTION_ACTIONS & set(r.actions) and not is_payment_rule:
            problems.append(f"{where}: payee.freeze and payer.limit_new_payees need a transaction condition")
        if "payee.freeze" in r.actions and r.verdict not in ("review", "hold", "block"):
            problems.append(f"{where}: a freeze waits for a person: its verdict is review, hold or block")
        if r.verdict == "allow" and r.actions and not (is_message_rule and set(r.actions) <= MESSAGE_ALLOW_ACTIONS):
            problems.append(
                f"{where}: an allow verdict carries no actions (a message rule's allow may carry "
                f"{', '.join(sorted(MESSAGE_ALLOW_ACTIONS))})"
            )
        if r.verdict == "hold" and not (is_message_rule or is_payment_rule):
            problems.append(
                f"{where}: hold is a message verdict (or a payment's): it needs a conversation or transaction condition"
            )
        if "nudge" in r.actions and not (is_message_rule or is_payment_rule):
            problems.append(
                f"{where}: nudge needs a conversation condition or a transaction one (nudges go to the minors in it)"
            )
        if (ACCOUNT_ACTIONS & set(r.actions) or "ladder" in r.actions) and "match" not in r.when.kinds():
            problems.append(
                f"{where}: account actions need a bank match in every alternative; "
                "classifier scores, reports or account history alone never suspend or terminate"
            )
        if (ACCOUNT_ACTIONS & set(r.actions) or "content.remove" in r.actions) and r.category is None:
            problems.append(f"{where}: a rule that removes or restricts must name its category")
        for band in _conversation_bands(r.when):
            if band not in AGE_BANDS:
                problems.append(f"{where}: unknown age band '{band}' (one of {', '.join(AGE_BANDS)})")
        for cond_cats in _report_categories(r.when):
            for c in cond_cats:
                if c not in CATEGORIES:
                    problems.append(f"{where}: unknown report category '{c}'")
        try:
            r.reason.format_map(_ReasonVars())
        except (KeyError, ValueError, IndexError) as exc:
            problems.append(f"{where}: reason template: {exc}")
    last = rs.rules[-1]
    if not (last.when.is_empty() and last.mode == "active"):
        problems.append("the last rule must be an active fallback with no conditions")
    return problems


def _conversation_bands(w: When) -> list[str]:
    c = w.conversation
    t = w.transaction
    out = [*(c.sender_bands or []), *(c.recipient_bands or [])] if c else []
    if c and c.recipient:
        out += c.recipient.bands or []
    out += [*(t.payer_bands or []), *(t.payee_bands or [])] if t else []
    for alt in w.any or []:
        out += _conversation_bands(alt)
    return out


def _report_categories(w: When) -> list[list[str]]:
    out = [w.reports.categories] if w.reports and w.reports.categories else []
    for alt in w.any or []:
        out += _report_categories(alt)
    return out


class _ReasonVars(dict[str, str]):
    """Accepts every variable a reason template may use (for `check`)."""

    KNOWN = ("count", "entries", "kinds", "classifier", "label", "score", "reports", "category")

    def __missing__(self, key: str) -> str:
        if key in self.KNOWN:
            return "x"
        raise KeyError(f"unknown variable '{{{key}}}' (known: {', '.join(self.KNOWN)})")


# --- evaluation -------------------------------------------------------------------------------


@dataclass
class _Fired:
    vars: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


def _match(c: MatchCond, inp: PolicyInput, band: int, out: _Fired) -> bool:
    hits = [
        m
        for m in inp.matches
        if m.bank_kind in c.bank_kinds
        and m.status in c.status
        and (c.near_threshold is None or is_near_threshold(m, band) == c.near_threshold)
    ]
    if len(hits) < c.min_count:
        return False
    out.vars.update(
        count=len(hits),
        entries="entry" if len(hits) == 1 else "entries",
        kinds=", ".join(sorted({m.bank_kind for m in hits})),
    )
    out.labels += sorted({m.classification for m in hits if m.classification})
    out.kinds |= {m.bank_kind for m in hits}
    return True


def _score(c: ScoreCond, inp: PolicyInput, out: _Fired) -> bool:
    best: tuple[float, str, str] | None = None
    for name in sorted(inp.scores):
        if c.classifier not in ("*", name):
            continue
        entry = inp.scores[name]
        scores = entry.get("scores", {}) if isinstance(entry, dict) else {}
        for label in c.labels:
            value = scores.get(label)
            if isinstance(value, int | float) and value >= c.gte and (best is None or value > best[0]):
                best = (float(value), name, label)
    if best is None:
        return False
    out.vars.update(score=f"{best[0]:.2f}", classifier=best[1], label=best[2])
    out.labels.append(best[2])
    return True


def _reports(c: ReportCond, inp: PolicyInput, out: _Fired) -> bool:
    hits = [
        r
        for r in inp.reports
        if (c.categories is None or r.category in c.categories)
        and (
            c.child_safety is None
            or (r.category in CATEGORIES and CATEGORIES[r.category].child_safety) == c.child_safety
        )
        and (c.trusted_flagger is None or r.trusted_flagger == c.trusted_flagger)
        and (c.imminent_risk is None or r.imminent_risk == c.imminent_risk)
    ]
    if len(hits) < c.min_count:
        return False
    out.vars.update(reports=len(hits), category=hits[0].category)
    return True


def _account(c: AccountCond, inp: PolicyInput) -> bool:
    a = inp.account or AccountView()
    if c.age_bands is not None and a.age_band not in c.age_bands:
        return False
    if c.max_age_days is not None and (a.age_days is None or a.age_days > c.max_age_days):
        return False
    if c.min_active_strikes is not None and a.active_strikes < c.min_active_strikes:
        return False
    return not (c.min_prior_violations is not None and a.prior_violations < c.min_prior_violations)


def _conversation(c: ConversationCond, inp: PolicyInput, out: _Fired) -> bool:
    v = inp.conversation
    if v is None:
        return False
    families = c.families
    if c.warned is not None and any((f in v.warned) for f in families) != c.warned:
        return False
    if c.crossed is not None and any((f in v.crossed) for f in families) != c.crossed:
        return False
    if c.min_score is not None and max((v.scores.get(f, 0.0) for f in families), default=0.0) < c.min_score:
        return False
    if c.behaviours is not None and not set(c.behaviours) & set(v.behaviours):
        return False
    if c.relationship is not None and not set(c.relationship) <= set(v.relationship):
        return False
    if c.sender_bands is not None and v.sender_band not in c.sender_bands:
        return False
    if c.recipient_bands is not None and not set(c.recipient_bands) & set(v.recipient_bands):
        return False
    if c.first_contact is not None and v.first_contact != c.first_contact:
        return False
    if c.connected is not None and bool(v.connected) != c.connected:  # unknown counts as not connected
        return False
    if c.recipient is not None and not _some_recipient(c.recipient, v):
        return False
    best = max(families, key=lambda f: v.scores.get(f, 0.0))
    out.vars.update(classifier="conversation", label=best, score=f"{v.scores.get(best, 0.0):.2f}")
    out.labels.append(best)
    return True


def _some_recipient(c: RecipientCond, v: ConversationView) -> bool:
    for i, band in enumerate(v.recipient_bands):
        level = v.recipient_levels[i] if i < len(v.recipient_levels) else "none"
        connected = bool(v.connected) or (i < len(v.recipient_connected) and v.recipient_connected[i])
        if c.bands is not None and band not in c.bands:
            continue
        if c.min_level is not None and level_rank(level) < level_rank(c.min_level):
            continue
        if c.connected is not None and connected != c.connected:
            continue
        return True
    return False


def _window(c: WindowCond | None, views: Mapping[str, WindowView]) -> bool:
    if c is None:
        return True
    v = views.get(c.window)
    if v is None:  # a window the caller does not keep never holds (finance checks rules against its windows)
        return False
    return (
        (c.min_count is None or v.count >= c.min_count)
        and (c.max_count is None or v.count <= c.max_count)
        and (c.min_total is None or v.total >= c.min_total)
        and (c.max_total is None or v.total <= c.max_total)
        and (c.min_counterparties is None or v.counterparties >= c.min_counterparties)
    )


def _transaction(c: TransactionCond, inp: PolicyInput, out: _Fired) -> bool:
    t = inp.transaction
    if t is None:
        return False
    checks = (
        c.kinds is None or t.kind in c.kinds,
        c.payer_bands is None or t.payer_band in c.payer_bands,
        c.payee_bands is None or t.payee_band in c.payee_bands,
        c.min_amount is None or t.amount >= c.min_amount,
        c.max_amount is None or t.amount <= c.max_amount,
        c.cross_border is None or t.cross_border == c.cross_border,
        c.payee_country_lists is None or bool(set(c.payee_country_lists) & set(t.payee_country_lists)),
        c.new_payee is None or t.new_payee == c.new_payee,
        c.prior_contact is None or t.prior_contact == c.prior_contact,
        c.new_corridor is None or t.new_corridor == c.new_corridor,
        c.memo is None or bool(set(c.memo) & set(t.memo)),
        c.merchant is None or bool(set(c.merchant) & set(t.merchant)),
        c.linked is None or bool(set(c.linked) & set(t.linked)),
        c.min_escalation is None or t.escalation >= c.min_escalation,
    )
    if not all(checks):
        return False
    if not (_window(c.payer, t.payer) and _window(c.payee, t.payee) and _window(c.pair, t.pair)):
        return False
    out.labels += sorted({*(set(c.memo or ()) & set(t.memo)), *(set(c.linked or ()) & set(t.linked))})
    return True


def _holds(w: When, inp: PolicyInput, band: int, out: _Fired) -> bool:
    if w.match is not None and not _match(w.match, inp, band, out):
        return False
    if w.score is not None and not _score(w.score, inp, out):
        return False
    if w.reports is not None and not _reports(w.reports, inp, out):
        return False
    if w.account is not None and not _account(w.account, inp):
        return False
    if w.conversation is not None and not _conversation(w.conversation, inp, out):
        return False
    if w.transaction is not None and not _transaction(w.transaction, inp, out):
        return False
    if w.surfaces is not None and inp.surface not in w.surfaces:
        return False
    if w.media_kinds is not None and inp.media_kind not in w.media_kinds:
        return False
    if w.any:
        return any(_holds(alt, inp, band, out) for alt in w.any)
    return True


def evaluate(rs: RuleSet, inp: PolicyInput, *, near_band: int | None = None) -> Decision:
    """The decision for one input: the first active rule that holds, plus shadow observations."""
    band = rs.near_threshold_band if near_band is None else near_band
    decided: tuple[Rule, _Fired] | None = None
    shadow: list[ShadowHit] = []
    for rule in rs.rules:
        fired = _Fired()
        if rule.mode == "shadow":
            if _holds(rule.when, inp, band, fired):
                shadow.append(ShadowHit(rule.name, rule.verdict, would_decide=decided is None))
            continue
        if decided is None and _holds(rule.when, inp, band, fired):
            decided = (rule, fired)
    assert decided is not None, "check() guarantees an unconditional fallback"
    rule, fired = decided
    category = rule.category
    if category == FROM_MATCH:
        category = next((BANK_KIND_CATEGORY[k] for k in BANK_KIND_CATEGORY if k in fired.kinds), "other")
    vars_ = {k: "" for k in _ReasonVars.KNOWN} | {k: str(v) for k, v in fired.vars.items()}
    if category and not vars_["category"]:
        vars_["category"] = category
    labels = fired.labels if rule.emit_labels else []
    verdict = Verdict(rule.verdict, rule.name, rule.reason.format_map(vars_), labels=labels)
    return Decision(verdict, tuple(rule.actions), category, rs.version, tuple(shadow))
