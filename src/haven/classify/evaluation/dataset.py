"""The synthetic labelled conversation set, generated deterministically from templates.

Positives follow the grooming stages (O'Connell; Olson et al.) and the financial sextortion
script (NCMEC); negatives are everyday chats chosen to look like them: friends planning a
surprise birthday, a parent and child, teenagers chatting about games, adults flirting with
adults. Each message gets a writing style (lower case, shouting, leetspeak, stretched letters,
spaced letters, typos, no apostrophes, emoji). Non-graphic throughout.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from haven.classify.evaluation import phrases

GROOMING_STAGES = [
    ["compliments_gifts", "personal_questions"],
    ["isolation", "risk_assessment", "secrecy"],
    ["platform_move", "image_request"],
    ["sexualisation", "meeting"],
]
SEXTORTION_SCRIPT = ["possession_claim", "threat_share", "payment_demand", "deadline", "gift_card_crypto"]
MINORS = ["under_13", "13_15", "16_17"]


@dataclass
class GeneratedMessage:
    sender: str
    text: str
    risky: bool = False


@dataclass
class LabelledConversation:
    id: str
    label: str  # grooming, sextortion, benign
    scene: str  # grooming, sextortion, birthday, parent_child, gaming, adult_flirt
    split: str
    bands: dict[str, str]
    connected: bool
    messages: list[GeneratedMessage] = field(default_factory=list)

    @property
    def first_risky_turn(self) -> int | None:
        return next((i for i, m in enumerate(self.messages, 1) if m.risky), None)


_LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7"}


def stylise(text: str, rng: random.Random) -> str:
    """One of several writing styles, applied to a single message."""
    style = rng.choices(
        ["plain", "lower", "upper", "leet", "stretch", "spaced", "typo", "noapos", "emoji"],
        weights=[3, 4, 1, 1, 1, 1, 2, 2, 1],
    )[0]
    if style == "lower":
        return text.lower()
    if style == "upper":
        return text.upper()
    if style == "leet":
        return "".join(_LEET.get(c, c) if rng.random() < 0.5 else c for c in text)
    if style == "stretch":
        words = text.split()
        i = rng.randrange(len(words))
        w = words[i]
        vowels = [j for j, c in enumerate(w) if c in "aeiou"]
        if vowels:
            j = rng.choice(vowels)
            words[i] = w[:j] + w[j] * rng.randint(3, 5) + w[j + 1 :]
        return " ".join(words)
    if style == "spaced":
        words = text.split()
        i = max(range(len(words)), key=lambda k: len(words[k]))
        words[i] = " ".join(words[i])
        return " ".join(words)
    if style == "typo":
        words = text.split()
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = rng.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)
    if style == "noapos":
        return text.replace("'", "")
    if style == "emoji":
        return text + rng.choice([" 😊", " 😘", " lol", " !!", " 🙂", " xx"])
    return text


class _Gen:
    def __init__(self, split: str, seed: int) -> None:
        self.split = split
        self.rng = random.Random(seed)
        self.pool = phrases.TUNE if split == "tune" else phrases.HELD_OUT
        self.ml = phrases.MULTILINGUAL_TUNE if split == "tune" else phrases.MULTILINGUAL_HELD_OUT
        self.n = 0

    def line(self, key: str, multilingual: bool = False) -> str:
        if multilingual and key in self.ml and self.rng.random() < 0.6:
            return stylise(self.rng.choice(self.ml[key]), self.rng)
        return stylise(self.rng.choice(self.pool[key]), self.rng)

    def conv(self, label: str, scene: str, bands: dict[str, str], connected: bool) -> LabelledConversation:
        self.n += 1
        return LabelledConversation(f"{self.split}-{scene}-{self.n:04d}", label, scene, self.split, bands, connected)

    def grooming(self) -> LabelledConversation:
        rng = self.rng
        sender_band = "adult" if rng.random() < 0.7 else "unknown"
        c = self.conv("grooming", "grooming", {"a": sender_band, "b": rng.choice(MINORS)}, connected=rng.random() < 0.1)
        ml = rng.random() < 0.2
        for _ in range(rng.randint(1, 3)):
            c.messages += [
                GeneratedMessage("a", self.line("small_talk")),
                GeneratedMessage("b", self.line("small_talk")),
            ]
        # Between 2 (subtle) and all 4 stages, one or two behaviours each, with replies between.
        stages = GROOMING_STAGES[: rng.choice([2, 3, 3, 4, 4])]
        for stage in stages:
            for behaviour in rng.sample(stage, k=min(len(stage), rng.choice([1, 1, 2]))):
                c.messages.append(GeneratedMessage("a", self.line(behaviour, ml), risky=True))
                c.messages.append(GeneratedMessage("b", self.line("small_talk")))
                if rng.random() < 0.4:
                    c.messages.append(GeneratedMessage("a", self.line("small_talk")))
        return c

    def sextortion(self) -> LabelledConversation:
        rng = self.rng
        c = self.conv(
            "sextortion", "sextortion", {"a": rng.choice(["unknown", "adult"]), "b": rng.choice(MINORS[1:])}, False
        )
        for _ in range(rng.randint(1, 3)):
            c.messages += [
                GeneratedMessage("a", self.line("small_talk")),
                GeneratedMessage("b", self.line("small_talk")),
            ]
        if rng.random() < 0.6:
            c.messages += [
                GeneratedMessage("a", self.line("image_request"), risky=True),
                GeneratedMessage("b", self.line("small_talk")),
            ]
        script = [SEXTORTION_SCRIPT[0], SEXTORTION_SCRIPT[1], *rng.sample(SEXTORTION_SCRIPT[2:], k=rng.randint(1, 3))]
        for behaviour in script:
            c.messages.append(GeneratedMessage("a", self.line(behaviour), risky=True))
            if rng.random() < 0.5:
                c.messages.append(
                    GeneratedMessage("b", rng.choice(["please no", "what", "i dont have money", "why", "stop"]))
                )
        return c

    def benign(self, scene: str) -> LabelledConversation:
        rng = self.rng
        if scene == "birthday":
            bands, connected = {"a": rng.choice(MINORS[1:]), "b": rng.choice(MINORS[1:])}, True
        elif scene == "parent_child":
            bands, connected = {"a": "adult", "b": rng.choice(MINORS)}, True
        elif scene == "gaming":
            bands, connected = {"a": rng.choice(MINORS[1:]), "b": rng.choice(MINORS[1:])}, rng.random() < 0.5
        else:
            bands, connected = {"a": "adult", "b": "adult"}, rng.random() < 0.5
        c = self.conv("benign", scene, bands, connected)
        for _ in range(rng.randint(3, 6)):
            c.messages.append(GeneratedMessage("a", self.line(scene)))
            c.messages.append(GeneratedMessage("b", self.line(scene if rng.random() < 0.6 else "small_talk")))
        return c


def generate(
    split: str, *, grooming: int = 150, sextortion: int = 60, benign_each: int = 60
) -> list[LabelledConversation]:
    """One split of the set ("tune" or "held_out"), deterministic for a given split."""
    if split not in ("tune", "held_out"):
        raise ValueError("split is tune or held_out")
    g = _Gen(split, seed=1 if split == "tune" else 2)
    out = [g.grooming() for _ in range(grooming)] + [g.sextortion() for _ in range(sextortion)]
    for scene in ("birthday", "parent_child", "gaming", "adult_flirt"):
        out += [g.benign(scene) for _ in range(benign_each)]
    return out
