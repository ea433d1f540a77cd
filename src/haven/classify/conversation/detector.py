"""The conversation detector: per-turn grooming and sextortion risk with explanations.

Pure logic. The state of a conversation is a small JSON document carried from turn to turn (the
database stores it), so each message costs one pattern pass plus a few arithmetic steps: the
update sits in the message path.

How a score is built (all weights in `lexicon.py`, thresholds in settings):
- each behaviour that fires contributes its weight, scaled by the direction of the message
  (an adult writing to a minor counts fully; a minor's own questions, adults among themselves
  and children among themselves count much less) and a little more when repeated;
- contributions combine as independent evidence: risk = 1 - prod(1 - c);
- relationship signals add to the grooming risk: first contact from a non-connection to a
  minor, one adult first-contacting many minors (fan-out), contact after a block; an
  established connection (the service says so) scales behaviour evidence down;
- three or more distinct grooming behaviours add a stage-progression bonus.
A warning fires when a score reaches its threshold; the turn at which it first fired is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from haven.accounts.bands import MINOR_BANDS
from haven.classify.conversation.language import detect_language, language_scores
from haven.classify.conversation.lexicon import BY_NAME, FULL_LANGUAGES, contexts_of, fire_forms
from haven.classify.conversation.model import CONTEXT_MESSAGES, MessageModel, ModelScore, direction_key
from haven.classify.conversation.normalise import normalise_for, squashed

FIRST_CONTACT_BONUS = 0.1
FAN_OUT_BONUS = 0.2
FAN_OUT_MIN = 5  # distinct minors first contacted by one adult within the window
AFTER_BLOCK_BONUS = 0.25
CONNECTED_FACTOR = 0.5
#: A connection (relative, family friend) who asks the child to keep things from their parents is
#: the case the connection discount must not hide: with secrecy present it counts at this factor.
CONNECTED_SECRECY_FACTOR = 0.8
#: The adult says a parent knows, asked or is present ("I spoke with your mum", "ask your dad to
#: join"): grooming evidence counts at this factor unless secrecy or isolation contradicts it.
PARENT_AWARE_FACTOR = 0.6
STAGES_BONUS = 0.1
#: Pairs of grooming behaviours that mean more together than apart (gift + secrecy, ...).
COMBINATIONS = (
    frozenset({"gifts", "secrecy"}),
    frozenset({"image_request", "secrecy"}),
    frozenset({"meeting", "secrecy"}),
    frozenset({"platform_move", "secrecy"}),
    frozenset({"isolation", "secrecy"}),
    frozenset({"risk_assessment", "meeting"}),
    frozenset({"risk_assessment", "image_request"}),
    frozenset({"gifts", "image_request"}),
    frozenset({"gifts", "meeting"}),
)
COMBINATION_BONUS = 0.15
DEMANDS = frozenset({"payment_demand", "gift_card_crypto", "image_demand"})
EXTORTION_CONTEXT = frozenset({"possession_claim", "contacts_list"})
COERCION = frozenset({"threat_share", "possession_claim", "threat_and_demand"})
THREAT_AND_DEMAND_FLOOR = 0.7  # the direction weight never scales the combined message below this
IMAGE_SENT_BONUS = 0.1  # a minor sent a picture after the other side asked for one
AGE_LIE_BONUS = 0.15  # an account declared adult says it is a child, to a child

#: Self-stated ages ("im 13", "i am 14 years old", "tengo 13", "ich bin 13", "13 f"), in normalised text.
_STATED_AGE = [
    re.compile(
        r"(?:^|\b)(?:im|i am|i m)\s+(\d{1,2})(?:\s*(?:yo|y o|years old|yrs|year old))?"
        r"(?!\s*(?:min|mins|minutes|hours?|hrs|secs?|am|pm|dollars|bucks|percent|of|more|x|times|th)\b)(?:\s|$|\?)"
    ),
    re.compile(r"(?:^|\b)(?:tengo|ich bin|j ai|tenho)\s+(\d{1,2})(?:\s+(?:anos|ans|jahre|years))?(?:\s|$)"),
    re.compile(r"^(\d{1,2})\s*[mf]$"),
]


def stated_age(normalised: str) -> int | None:
    """An age the writer states about themself, or None."""
    for pat in _STATED_AGE:
        m = pat.search(normalised)
        if m:
            age = int(m.group(1))
            if 8 <= age <= 79:
                return age
    return None


_RAW_WORD = re.compile(r"\S+")


def verbatim(text: str, evidence: str, forms: dict[str, str]) -> str:
    """The shortest run of the message's own words whose normalised form holds `evidence` (what
    the patterns matched, in normalised words), so a reviewer sees it marked where it stands
    ("do ur parents check ur phone", not "do your parents check your phone"). Falls back to the
    normalised evidence (e.g. a name spelt with dots, found in the squashed text)."""
    if evidence in text.lower():
        return evidence
    spans = [m.span() for m in _RAW_WORD.finditer(text)]
    want = f" {evidence} "
    words = evidence.split()
    for lang in forms:
        # Start only where a word's own normalised form holds the evidence's first word; when no
        # word does (letters spelt out one by one), try every start.
        starts = [i for i, (a, b) in enumerate(spans) if words[0] in normalise_for(text[a:b], lang).split()]
        best: tuple[int, int] | None = None
        for i in starts or range(len(spans)):
            for j in range(i, min(len(spans), i + len(words) + (4 if starts else 30))):
                norm = normalise_for(text[spans[i][0] : spans[j][1]], lang)
                if want in f" {norm} ":
                    if best is None or spans[j][1] - spans[i][0] < best[1] - best[0]:
                        best = (spans[i][0], spans[j][1])
                    break
        if best is not None:
            return text[best[0] : best[1]].strip(".,;:!?\"'()")
    return evidence


def band_of_age(age: int) -> str:
    return "under_13" if age < 13 else "13_15" if age < 16 else "16_17" if age < 18 else "adult"


REPEAT_STEP = 0.25
#: The family a model head's warning belongs to (`risky` warns as grooming: a risky message that
#: is not a threat and demand).
MODEL_FAMILY = {"risky": "grooming", "sextortion": "sextortion"}


def is_minor(band: str | None) -> bool:
    return band in MINOR_BANDS


def direction_weight(sender_band: str, recipient_bands: list[str], family: str) -> float:
    """How much a behaviour counts given who writes to whom."""
    to_minor = any(is_minor(b) for b in recipient_bands)
    to_unknown = any(b == "unknown" for b in recipient_bands)
    if is_minor(sender_band):
        if family == "sextortion":
            return 0.5
        return 0.35 if to_minor else 0.3  # children among themselves, or a child asking an adult
    if sender_band == "adult":
        if to_minor:
            return 1.0
        if to_unknown:
            return 0.6
        return 0.8 if family == "sextortion" else 0.2  # adults among themselves
    # Sender's age unknown.
    if to_minor:
        return 0.9
    return 0.7 if family == "sextortion" else 0.6


@dataclass
class MessageContext:
    """What the service and Haven's own records say about this message's relationship."""

    sender_band: str = "unknown"
    recipient_bands: list[str] = field(default_factory=list)
    first_contact: bool = False  # the sender never wrote to a recipient before
    connected: bool | None = None  # the service says sender and recipient are connections
    fan_out_minors: int = 0  # distinct minors this sender first contacted recently
    after_block: bool = False  # a recipient had blocked the sender
    attachments: int = 0  # pictures or videos sent with this message
    recipient_ids: list[str] = field(default_factory=list)  # same order as recipient_bands


@dataclass
class Fired:
    behaviour: str
    family: str
    turn: int
    message_id: str | None
    sender: str
    evidence: str
    source: str  # rules or semantic

    def to_json(self) -> dict[str, Any]:
        return {
            "behaviour": self.behaviour,
            "family": self.family,
            "turn": self.turn,
            "message_id": self.message_id,
            "sender": self.sender,
            "evidence": self.evidence,
            "source": self.source,
        }


@dataclass
class FamilyResult:
    score: float
    warn: bool
    behaviours: list[dict[str, Any]]
    new: list[str]  # behaviours first seen on this message
    crossed: bool  # the warning fired for the first time on this message

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "warn": self.warn, "behaviours": self.behaviours}


@dataclass
class TurnResult:
    turn: int
    fired: list[Fired]
    grooming: FamilyResult
    sextortion: FamilyResult
    relationship: list[str]
    norm: str = ""  # the message's normalised text (primary language)
    direction: str = ""  # who wrote to whom (`adult>minor`, ...), as the model reads it
    model: ModelScore | None = None  # the trained model's scores on this message, when it is on
    #: family -> how much the model's evidence counts after this message given the relationship
    #: the rules know (1: fully; see `model_gate`); filled with or without a model (train.py reads it)
    gate: dict[str, float] = field(default_factory=dict)


@dataclass
class ConversationState:
    """Running evidence of one conversation."""

    turns: int = 0
    #: behaviour -> best contribution so far (after direction weighting) and count
    contrib: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    relationship: dict[str, bool] = field(default_factory=dict)
    connected: bool = False
    warned: dict[str, int] = field(default_factory=dict)  # family -> first turn warned
    image_requesters: list[str] = field(default_factory=list)
    stated_ages: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)  # language -> messages detected in it
    said: dict[str, list[str]] = field(default_factory=dict)  # sender -> sextortion behaviours said
    direction: float = 0.0  # the largest direction weight of a grooming behaviour so far
    recent: list[str] = field(default_factory=list)  # the last few messages, normalised (model context)
    #: model head -> its highest probability on a message where its warning counted
    model: dict[str, float] = field(default_factory=dict)
    minor_or_unknown: bool = False  # someone in the conversation is not a declared adult

    MAX_EVENTS = 200

    def to_json(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "contrib": self.contrib,
            "counts": self.counts,
            "events": self.events[-self.MAX_EVENTS :],
            "relationship": self.relationship,
            "connected": self.connected,
            "warned": self.warned,
            "image_requesters": self.image_requesters,
            "stated_ages": self.stated_ages,
            "languages": self.languages,
            "said": self.said,
            "direction": self.direction,
            "recent": self.recent,
            "model": self.model,
            "minor_or_unknown": self.minor_or_unknown,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> ConversationState:
        d = d or {}
        return cls(
            turns=int(d.get("turns", 0)),
            contrib=dict(d.get("contrib", {})),
            counts=dict(d.get("counts", {})),
            events=list(d.get("events", [])),
            relationship=dict(d.get("relationship", {})),
            connected=bool(d.get("connected", False)),
            warned=dict(d.get("warned", {})),
            image_requesters=list(d.get("image_requesters", [])),
            stated_ages=dict(d.get("stated_ages", {})),
            languages=dict(d.get("languages", {})),
            said={k: list(v) for k, v in d.get("said", {}).items()},
            direction=float(d.get("direction", 0.0)),
            recent=[str(t) for t in d.get("recent", [])][-CONTEXT_MESSAGES:],
            model={str(k): float(v) for k, v in d.get("model", {}).items()},
            minor_or_unknown=bool(d.get("minor_or_unknown", False)),
        )


def _combine(values: list[float]) -> float:
    p = 1.0
    for v in values:
        p *= 1.0 - min(0.9, max(0.0, v))
    return 1.0 - p


def family_score(state: ConversationState, family: str) -> float:
    """The current score of one family from the state."""
    names = [n for n in state.contrib if BY_NAME[n].family == family]
    base = _combine([state.contrib[n] for n in names])
    rel = state.relationship
    if family == "grooming":
        present = set(names)
        # Bonuses count as much as the messages they come from (little among children).
        scale = state.direction if state.direction else 1.0
        if any(pair <= present for pair in COMBINATIONS):
            base += COMBINATION_BONUS * scale
        if len(names) >= 3:
            base += STAGES_BONUS * scale
        # Connected: a birthday or a present for someone else makes a family secret a surprise.
        factor = relationship_factor(state)
        base *= factor
        if rel.get("first_contact_non_connection"):
            # A first contact a parent arranged ("your mom said you might feed our cat") counts less.
            base += FIRST_CONTACT_BONUS * (PARENT_AWARE_FACTOR if rel.get("parent_aware") else 1.0)
        if rel.get("fan_out"):
            base += FAN_OUT_BONUS
        if rel.get("after_block"):
            base += AFTER_BLOCK_BONUS
        if rel.get("image_sent_after_request") and names:
            base += IMAGE_SENT_BONUS
        if rel.get("age_claim_mismatch") and names:
            base += AGE_LIE_BONUS
    else:
        if state.image_requesters and names:
            base += 0.1
        if rel.get("image_sent_after_request") and names:
            base += IMAGE_SENT_BONUS
        if state.connected and adults_only(state):
            # Connected adults among themselves ("pay me $5 or it goes in the group chat 😂" about a
            # karaoke video): counted as a connected conversation's grooming evidence is.
            base *= CONNECTED_FACTOR
    return min(1.0, base)


def adults_only(state: ConversationState) -> bool:
    """Every participant seen so far is a declared (or stated) adult."""
    return state.turns > 0 and not state.minor_or_unknown


def relationship_factor(state: ConversationState) -> float:
    """The grooming factor the relationship context gives (connected, a parent aware), as
    `family_score` applies it to the rules' evidence."""
    present = {n for n in state.contrib if BY_NAME[n].family == "grooming"}
    hidden = "secrecy" in present or "isolation" in present
    rel = state.relationship
    factor = 1.0
    if state.connected:
        factor = CONNECTED_SECRECY_FACTOR if hidden and not rel.get("occasion") else CONNECTED_FACTOR
    if rel.get("parent_aware") and not hidden:
        factor = min(factor, PARENT_AWARE_FACTOR)
    return factor


def model_gate(state: ConversationState, family: str) -> float:
    """How much the trained model's evidence counts given what the rules know of the relationship
    (chosen by cross-validation over the seen writers, docs/classifiers.md "Round 5"):
    - grooming: where the rules damp their own evidence to 0.5 or 0.6 (a connected conversation
      without secrecy, a parent who knows or is copied) the model does not warn alone; a connected
      adult asking for secrecy (0.8) counts at 0.8; nothing among adults only (the rules' direction
      weight there is 0.2);
    - sextortion: in a connected conversation or among adults only, the model alone does not warn;
      it counts when the rules also found leverage (a threat or a claim to hold images) and a
      demand, so relatives' and friends' jokes ("delete it or no wifi tonight") stay quiet; among
      connected adults at 0.5, as the rules' evidence."""
    if family == "grooming":
        if adults_only(state):
            return 0.0
        factor = relationship_factor(state)
        # Damped to 0.5 or 0.6 (connected, a parent in copy) the model alone does not warn; a
        # connected adult asking for secrecy (0.8) still counts.
        return factor if factor >= CONNECTED_SECRECY_FACTOR else 0.0
    gate = 1.0
    if state.connected or adults_only(state):
        have = set(state.contrib)
        gate = 1.0 if (have & COERCION) and (have & DEMANDS) else 0.0
        if state.connected and adults_only(state):
            gate *= CONNECTED_FACTOR  # as the rules' own evidence there
    return gate


class Detector:
    """Updates a conversation's state with one message; optionally with a semantic detector."""

    def __init__(
        self,
        grooming_threshold: float = 0.5,
        sextortion_threshold: float = 0.5,
        semantic: Any | None = None,
        model: MessageModel | None = None,
    ) -> None:
        self.grooming_threshold = grooming_threshold
        self.sextortion_threshold = sextortion_threshold
        self.semantic = semantic
        self.model = model

    def thresholds(self) -> dict[str, float]:
        return {"grooming": self.grooming_threshold, "sextortion": self.sextortion_threshold}

    def update(
        self,
        state: ConversationState,
        *,
        sender: str,
        text: str,
        context: MessageContext,
        message_id: str | None = None,
    ) -> TurnResult:
        state.turns += 1
        turn = state.turns
        langs = self._languages(state, text)
        forms = {lang: normalise_for(text, lang) for lang in langs}
        norm = forms[langs[0]]
        age = stated_age(norm)
        if age is None and "en" in forms and langs[0] != "en":
            age = stated_age(forms["en"])
        if age is not None:
            state.stated_ages[sender] = age
        context = self._effective(state, sender, context)
        found = contexts_of(forms)
        if not is_minor(context.sender_band) and "parent_aware" in found:
            state.relationship["parent_aware"] = True
        if "occasion" in found:
            state.relationship["occasion"] = True
        hits = [(n, verbatim(text, ev, forms), "rules") for n, ev in fire_forms(forms, squashed(text))]
        if self.semantic is not None and norm:
            ruled = {n for n, _, _ in hits}
            # The semantic examples may carry behaviour names older than the lexicons ("compliments_gifts"):
            # only behaviours the detector knows count.
            hits += [(n, ev, "semantic") for n, ev in self.semantic.fire(text) if n not in ruled and n in BY_NAME]
        combined = self._threat_and_demand(state, sender, hits)
        if combined is not None:
            hits.append(("threat_and_demand", combined, "rules"))
        fired: list[Fired] = []
        before = set(state.contrib)
        for name, evidence, source in hits:
            b = BY_NAME[name]
            d = direction_weight(context.sender_band, context.recipient_bands, b.family)
            if name == "threat_and_demand":
                d = max(d, THREAT_AND_DEMAND_FLOOR)
            weight = b.weight * (0.8 if source == "semantic" else 1.0)
            count = state.counts.get(name, 0) + 1
            state.counts[name] = count
            c = weight * d * (1 + REPEAT_STEP * min(2, count - 1))
            if b.family == "grooming":
                state.direction = max(state.direction, d)
            state.contrib[name] = max(state.contrib.get(name, 0.0), c)
            f = Fired(name, b.family, turn, message_id, sender, evidence, source)
            fired.append(f)
            state.events.append(f.to_json())
            if name == "image_request" and sender not in state.image_requesters:
                state.image_requesters.append(sender)
        direction = direction_key(context.sender_band, context.recipient_bands)
        scored: ModelScore | None = None
        if self.model is not None:
            scored = self.model.score(norm, state.recent, direction)
            for head in MODEL_FAMILY:
                # A threat and demand is risky too: it then warns as sextortion only (one nudge, the
                # right one), not also as grooming.
                if head == "risky" and is_minor(context.sender_band):
                    # A child's message is not grooming evidence for the model (the rules count
                    # children among themselves at 0.35; the model does not read who writes).
                    continue
                if scored.warn[head] and not (head == "risky" and scored.warn["sextortion"]):
                    state.model[head] = max(state.model.get(head, 0.0), scored.probabilities[head])
                    f = Fired("model", MODEL_FAMILY[head], turn, message_id, sender, scored.explanation(head), "model")
                    fired.append(f)
                    state.events.append(f.to_json())
        state.recent = [*state.recent, norm][-CONTEXT_MESSAGES:]
        relationship = self._relationship(state, context)
        if context.attachments and is_minor(context.sender_band) and any(r != sender for r in state.image_requesters):
            state.relationship["image_sent_after_request"] = True
            relationship.append("image_sent_after_request")
        out: dict[str, FamilyResult] = {}
        gate = {family: model_gate(state, family) for family in self.thresholds()}
        for family, limit in self.thresholds().items():
            score = family_score(state, family)
            model_warned = self.model is not None and any(
                e["source"] == "model" and e["family"] == family for e in state.events
            )
            if self.model is not None:
                score = max(score, self._model_score(state, family, limit) * gate[family])
            has_evidence = any(BY_NAME[n].family == family for n in state.contrib)
            if family == "sextortion":
                # Extortion needs leverage: a threat or a claim to hold the child's images. Money
                # talk alone (a gift card for a colleague's leaving present, "venmo ok?") is not it.
                has_evidence = has_evidence and bool(COERCION & set(state.contrib))
            warn = (has_evidence or model_warned) and score >= limit
            crossed = warn and family not in state.warned
            if crossed:
                state.warned[family] = turn
            behaviours = [e for e in state.events if e["family"] == family]
            new = sorted({n for n in state.contrib if n not in before and BY_NAME[n].family == family})
            out[family] = FamilyResult(score, warn, behaviours, new, crossed)
        if len(state.events) > state.MAX_EVENTS:
            del state.events[: len(state.events) - state.MAX_EVENTS]
        return TurnResult(turn, fired, out["grooming"], out["sextortion"], relationship, norm, direction, scored, gate)

    def _model_score(self, state: ConversationState, family: str, limit: float) -> float:
        """The model's evidence on the family's scale: its threshold maps to the family's warning
        threshold, so the family warns when the rules warn OR the model's head reaches its own
        operating point (the combination chosen by cross-validation, docs/classifiers.md)."""
        assert self.model is not None
        best = 0.0
        for head, fam in MODEL_FAMILY.items():
            if fam != family:
                continue
            p, t = state.model.get(head, 0.0), self.model.threshold[head]
            if p >= t:
                best = max(best, limit + (1.0 - limit) * (p - t) / max(1e-9, 1.0 - t))
        return min(1.0, best)

    @staticmethod
    def _languages(state: ConversationState, text: str) -> list[str]:
        """The languages whose lexicons this message is read with: the one detected in it (or,
        when it has too few words to tell, the conversation's), then the conversation's most
        frequent, then English (text-speak and app names are English in every language)."""
        scores = language_scores(text)
        lang = detect_language(text)
        if lang is not None:
            state.languages[lang] = state.languages.get(lang, 0) + 1
        usual = max(state.languages, key=lambda k: state.languages[k]) if state.languages else "en"
        out = [lang or usual]
        # A close second (short words such as "o", "me", "no" are shared) is read as well.
        top = max(scores.values())
        close = tuple(k for k in sorted(scores, key=lambda k: -scores[k]) if top and scores[k] >= max(1, top - 1))
        extras: tuple[str, ...] = (*close, usual, "en")
        if lang is None and not state.languages:
            extras = FULL_LANGUAGES  # nothing to tell the language by yet: read it in each full lexicon
        for extra in extras:
            if extra not in out:
                out.append(extra)
        return out

    @staticmethod
    def _threat_and_demand(state: ConversationState, sender: str, hits: list[tuple[str, str, str]]) -> str | None:
        """Evidence for the sextortion message: a threat to share and a demand in this message,
        or one of them here and the other earlier from the same sender; also a claim to hold the
        images with a demand and a deadline. None when it is not (yet) that message."""
        here = {n: ev for n, ev, _ in hits if BY_NAME[n].family == "sextortion"}
        earlier = set(state.said.get(sender, ()))
        if here:
            state.said[sender] = sorted(earlier | set(here))
        if "threat_and_demand" in earlier or not here:
            return None
        demand_here = [n for n in here if n in DEMANDS]
        threat_here = "threat_share" in here
        # A threat and a demand in separate messages are one extortion only where the sender has
        # also claimed to hold images or named the child's contacts (a teacher who
        # collects trip money and later posts the trip photos in the class group is not one).
        coercive = bool((earlier | set(here)) & EXTORTION_CONTEXT)
        if threat_here and demand_here:
            parts = ["threat_share", *demand_here]
        elif threat_here and earlier & DEMANDS and coercive:
            parts = ["threat_share", *demand_here] if demand_here else ["threat_share"]
        elif demand_here and "threat_share" in earlier and coercive:
            parts = demand_here
        elif demand_here and "deadline" in here and ("possession_claim" in here or "possession_claim" in earlier):
            parts = [*demand_here, "deadline"]
        else:
            return None
        state.said[sender] = sorted(set(state.said[sender]) | {"threat_and_demand"})
        return " + ".join(here[p] for p in parts if p in here)

    @staticmethod
    def _effective(state: ConversationState, sender: str, ctx: MessageContext) -> MessageContext:
        """Fill unknown age bands from ages stated in the conversation, and note an account declared
        adult that says it is a child (a known grooming lie)."""
        if not state.stated_ages:
            return ctx

        def eff(person: str, band: str) -> str:
            said = state.stated_ages.get(person)
            if said is None:
                return band
            if band == "adult" and said < 18:
                state.relationship["age_claim_mismatch"] = True
            return band_of_age(said) if band == "unknown" else band

        bands = [
            eff(pid, b) for pid, b in zip(ctx.recipient_ids, ctx.recipient_bands, strict=False)
        ] + ctx.recipient_bands[len(ctx.recipient_ids) :]
        return MessageContext(
            sender_band=eff(sender, ctx.sender_band),
            recipient_bands=bands,
            first_contact=ctx.first_contact,
            connected=ctx.connected,
            fan_out_minors=ctx.fan_out_minors,
            after_block=ctx.after_block,
            attachments=ctx.attachments,
            recipient_ids=ctx.recipient_ids,
        )

    @staticmethod
    def _relationship(state: ConversationState, ctx: MessageContext) -> list[str]:
        """Record relationship signals; only adult-or-unknown senders writing to minors count."""
        if ctx.connected:
            state.connected = True
        if ctx.sender_band != "adult" or any(b != "adult" for b in ctx.recipient_bands):
            state.minor_or_unknown = True
        toward_minor = not is_minor(ctx.sender_band) and any(is_minor(b) for b in ctx.recipient_bands)
        signals = []
        if toward_minor:
            if ctx.sender_band == "adult":
                state.relationship["adult_minor_asymmetry"] = True
                signals.append("adult_minor_asymmetry")
            if ctx.first_contact and not ctx.connected:
                state.relationship["first_contact_non_connection"] = True
                signals.append("first_contact_non_connection")
            if ctx.fan_out_minors >= FAN_OUT_MIN:
                state.relationship["fan_out"] = True
                signals.append("fan_out")
        if ctx.after_block:
            state.relationship["after_block"] = True
            signals.append("after_block")
        if state.relationship.get("age_claim_mismatch"):
            signals.append("age_claim_mismatch")
        if state.relationship.get("parent_aware"):
            signals.append("parent_aware")
        return signals
