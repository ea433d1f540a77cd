"""Behaviour patterns for grooming and sextortion, written against `normalise()`d text.

Sources for the behaviours: O'Connell's stages, Olson et al.'s luring communication theory,
the eSPD/PAN12 literature and NCMEC's financial sextortion indicators (see
shared/specs/anchors-features.md section 4). Patterns are non-graphic by design and cover
English, Spanish, French, German and Portuguese; operators extend them in code review, never at
run time. Each behaviour has a weight: its contribution to the conversation's risk when it fires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    name: str
    family: str  # grooming or sextortion
    weight: float
    description: str
    patterns: tuple[re.Pattern[str], ...]
    squashed: tuple[str, ...] = ()  # substrings of the squashed text (letters only)
    #: Benign context in the same message that cancels the behaviour ("don't tell mom about the
    #: surprise party" is not secrecy about the relationship).
    unless: tuple[re.Pattern[str], ...] = ()


def _p(*regexes: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r"(?:^|\b)(?:" + r + r")(?:\b|$)") for r in regexes)


YOU = r"(?:you|u|ya|yu)"
YOUR = r"(?:your|ur|yr|youre|you're)"
ANY_APP = r"(?:snap(?:chat)?|sc|whats ?app|wa|telegram|tg|kik|signal|insta(?:gram)?|ig|discord|skype|wickr|session|line|viber|imessage|facetime)"

BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "personal_questions",
        "grooming",
        0.15,
        "age, school, location or family questions",
        _p(
            rf"how old (?:are|r) {YOU}",
            rf"what(?:s| is)? {YOUR} age",
            r"asl",
            rf"what grade (?:are|r) {YOU}",
            rf"what school (?:do|d) {YOU}",
            r"which school",
            rf"(?:are|r) {YOU} (?:in )?(?:middle|high) school",
            rf"where (?:do|d) {YOU} live",
            rf"what(?:s| is) {YOUR} address",
            rf"(?:do|d) {YOU} live with {YOUR}",
            r"when do (?:your|ur) (?:parents|mom|dad|mum) (?:get home|work|leave)",
            r"cuantos anos tienes",
            r"que edad tienes",
            r"donde vives",
            r"en que colegio",
            r"quel age as tu",
            r"t as quel age",
            r"tu habites ou",
            r"wie alt bist du",
            r"wo wohnst du",
            r"quantos anos voce tem",
            r"quantos anos vc tem",
            r"onde voce mora",
        ),
    ),
    Behaviour(
        "compliments_gifts",
        "grooming",
        0.15,
        "flattery, love-bombing, gifts or in-app currency",
        _p(
            rf"{YOU}(?:re| are|r| r) (?:so |really |very )?(?:mature|pretty|beautiful|cute|gorgeous|special|perfect)",
            rf"so mature for {YOUR} age",
            rf"mature for {YOUR} age",
            rf"{YOU} look older than",
            rf"i(?:ll| will) (?:buy|get|send) {YOU} (?:a |some )?(?:gift|present|robux|vbucks|v bucks|skins?|money|phone|credits|coins|gems)",
            r"(?:free|want) (?:robux|vbucks|v bucks|skins|gems)",
            r"i can give you (?:robux|vbucks|money|gifts)",
            rf"{YOU}(?:re| are|r) (?:my|the) (?:best|only|favourite|favorite) (?:girl|boy|friend)",
            r"eres muy (?:madura|maduro|linda|guapa|bonita)",
            r"te (?:regalo|compro)",
            r"tu es (?:tres )?(?:mature|belle|jolie)",
            r"du bist (?:so )?(?:reif|hubsch|schon)",
            r"voce e (?:muito )?(?:madura|linda)",
        ),
    ),
    Behaviour(
        "secrecy",
        "grooming",
        0.35,
        "asking to keep the contact secret or delete messages",
        _p(
            r"(?:dont|do not|don t|never) tell (?:anyone|any1|anybody|no one|nobody|your|ur|yr|mom|mum|dad|parents|ur parents)",
            r"(?:our|a) (?:little )?secret",
            r"keep (?:this|it|us|that) (?:between us|secret|quiet|to yourself)",
            r"between (?:you and me|us two|u and me)",
            r"delete (?:this|these|our|the) (?:chat|messages?|convo|conversation|texts?)",
            r"(?:no one|nobody) (?:needs|has) to know",
            rf"{YOUR} parents (?:wouldnt|would not|wont|will not) understand",
            r"no (?:se lo |le |se )?(?:digas|cuentes) (?:a nadie|a tus padres|nada)",
            r"nuestro secreto",
            r"borra (?:el|los) (?:chat|mensajes)",
            r"ne (?:le )?dis (?:rien|a personne)",
            r"notre secret",
            r"sag (?:es )?(?:niemandem|keinem)",
            r"unser geheimnis",
            r"nao conta (?:pra|para) ninguem",
            r"nosso segredo",
        ),
        squashed=("donttellanyone", "ourlittlesecret", "dontellanyone"),
        unless=_p(
            r"surprise",
            r"birthday",
            r"bday",
            r"party",
            r"present for",
            r"gift for",
            r"sorpresa",
            r"cumple",
            r"anniversaire",
            r"geburtstag",
        ),
    ),
    Behaviour(
        "isolation",
        "grooming",
        0.25,
        "criticising family or friends, claiming exclusive understanding",
        _p(
            rf"(?:only i|i m the only one who|im the only one who|no one else) (?:really )?(?:gets?|understands?|cares about) {YOU}",
            rf"{YOUR} (?:parents|friends|mom|dad|mum) (?:dont|do not|don t) (?:get|understand|care about) {YOU}",
            rf"{YOUR} friends are (?:so |really )?(?:fake|immature|jealous|childish)",
            rf"{YOU} (?:dont|do not) need them",
            rf"{YOU} can (?:only )?trust me",
            r"(?:we|us) against the world",
            rf"(?:they|theyre|they are|parents) (?:are )?(?:too |so )?(?:strict|controlling) with {YOU}",
            r"solo yo te entiendo",
            r"tus padres no te entienden",
            r"moi seul te comprends",
            r"nur ich verstehe dich",
            r"so eu te entendo",
        ),
    ),
    Behaviour(
        "risk_assessment",
        "grooming",
        0.35,
        "checking whether adults are around or watching the device",
        _p(
            rf"(?:are|r) {YOU} (?:home )?alone",
            rf"(?:is|are) {YOUR} (?:parents|mom|dad|mum|family) (?:home|around|there|awake)",
            rf"(?:do|does) {YOUR} (?:parents|mom|dad|mum) (?:check|read|look at|go through) {YOUR} (?:phone|messages|chats|texts)",
            rf"(?:is|whose) (?:this|that) {YOUR} (?:own )?(?:phone|device|account)",
            r"(?:anyone|anybody|someone) (?:else )?(?:around|watching|with you|in the room)",
            rf"can {YOU} talk (?:privately|alone|in private)",
            rf"(?:where|when) (?:are|r) {YOUR} parents",
            r"estas sola",
            r"estas solo",
            r"tus padres estan (?:en casa)?",
            r"tu es seule?",
            r"bist du allein",
            r"voce esta sozinha",
        ),
    ),
    Behaviour(
        "platform_move",
        "grooming",
        0.3,
        "moving to another app or sharing a phone number",
        _p(
            rf"(?:add|msg|message|text|dm|hit) me (?:up )?on {ANY_APP}",
            rf"(?:do|d) {YOU} have {ANY_APP}",
            rf"(?:what(?:s| is)|send|give me) {YOUR} (?:{ANY_APP}|number|phone number|digits|cell)",
            rf"(?:lets|let s|let us) (?:talk|chat|move|go|continue) (?:on|to) {ANY_APP}",
            rf"(?:move|switch|talk) (?:to|on) {ANY_APP}",
            rf"here(?:s| is) my (?:{ANY_APP}|number)",
            rf"{ANY_APP} is (?:more )?(?:private|safer|better)",
            rf"can i (?:get|have) {YOUR} (?:number|{ANY_APP})",
            rf"agregame (?:en|a) {ANY_APP}",
            rf"pasame tu (?:numero|{ANY_APP})",
            rf"ajoute moi sur {ANY_APP}",
            rf"adde? mich (?:auf|bei) {ANY_APP}",
            rf"me (?:add|adiciona) no {ANY_APP}",
            r"(?:dame|passa) (?:tu|o) (?:numero|telefone)",
        ),
        squashed=("addmeonsnap", "addmeonsnapchat", "addmeontelegram", "addmeonkik", "addmeonwhatsapp"),
    ),
    Behaviour(
        "image_request",
        "grooming",
        0.35,
        "asking for pictures, video or the camera",
        _p(
            r"send (?:me )?(?:a |some |another )?(?:pic|pics|picture|pictures|photo|photos|selfie|selfies|vid|video)",
            rf"(?:turn|put|switch) (?:on )?{YOUR} (?:cam|camera|webcam)",
            r"(?:turn|put) (?:the |ur |your )?(?:cam|camera) on",
            rf"(?:can|could|will) {YOU} (?:send|show) (?:me )?(?:a )?(?:pic|picture|photo|selfie|yourself)",
            r"(?:video ?call|facetime) me",
            rf"(?:let|lemme|let me) see {YOU}",
            rf"show me (?:what {YOU} look like|yourself|ur outfit|your outfit)",
            r"(?:pic|photo) (?:for|4) (?:me|proof)",
            r"manda(?:me)? (?:una )?(?:foto|fotos|video)",
            r"envoie(?:-moi)? (?:une )?(?:photo|video)",
            r"schick (?:mir )?(?:ein )?(?:foto|bild|video)",
            r"manda (?:uma )?(?:foto|fotos)",
            r"(?:pon|enciende) (?:la )?camara",
        ),
    ),
    Behaviour(
        "sexualisation",
        "grooming",
        0.45,
        "romantic or sexual talk with a child (non-graphic markers)",
        _p(
            rf"(?:have|hav) {YOU} (?:ever )?(?:kissed|been kissed|had a (?:bf|boyfriend|gf|girlfriend))",
            rf"(?:are|r) {YOU} (?:still )?(?:a )?virgin",
            rf"what (?:are|r) {YOU} wearing",
            rf"(?:do|d) {YOU} like older (?:guys|men|boys|girls|women)",
            rf"i (?:think about|dream about|fantasi[sz]e about) {YOU}",
            rf"(?:i|id|i d|i would) (?:like|want|love) to (?:kiss|hold|cuddle|touch) {YOU}",
            r"(?:our|a) (?:special|grown up|adult) (?:game|relationship)",
            rf"{YOUR} body",
            rf"{YOU}(?:re| are) (?:so )?(?:hot|sexy)",
            r"in (?:bed|ur bed|your bed) right now",
            rf"(?:are|r) {YOU} (?:in|on) (?:bed|your bed)",
            r"eres virgen",
            r"que llevas puesto",
            r"tu portes quoi",
            r"was hast du an",
            r"voce e virgem",
        ),
    ),
    Behaviour(
        "meeting",
        "grooming",
        0.35,
        "asking to meet, for a location or to pick the child up",
        _p(
            r"(?:we should|lets|let s|wanna|want to|can we|could we) (?:meet|hang out|meet up) (?:up )?(?:irl|in person|for real|sometime|this weekend|somewhere)?",
            rf"(?:meet|see) (?:me|{YOU}) (?:irl|in person|in real life)",
            rf"i (?:can|could|will|ll) (?:pick {YOU} up|come (?:to|over to) {YOUR} (?:place|house|school))",
            rf"(?:send|share) (?:me )?{YOUR} (?:location|address|pin)",
            r"where (?:can|could) we meet",
            r"(?:dont|don t) bring anyone",
            rf"i(?:ll| will) drive to {YOU}",
            rf"what time (?:do|d) {YOU} (?:get out of|finish) school",
            r"(?:quedamos|nos vemos) (?:en persona)?",
            r"on se voit",
            r"treffen wir uns",
            r"vamos nos encontrar",
        ),
    ),
    # Sextortion (financial and image-based coercion).
    Behaviour(
        "possession_claim",
        "sextortion",
        0.3,
        "claims to hold the child's images or recordings",
        _p(
            rf"i (?:have|got|saved|recorded|screenshotted|screenshot) (?:all )?{YOUR} (?:pics|pictures|photos|nudes|video|videos|screenshots)",
            r"i (?:recorded|screenshotted|saved) (?:the |our )?(?:video ?call|call|chat|everything)",
            r"i have (?:everything|screenshots) saved",
            r"tengo tus fotos",
            r"j ai tes photos",
            r"ich habe deine (?:bilder|fotos)",
            r"tenho suas fotos",
        ),
    ),
    Behaviour(
        "threat_share",
        "sextortion",
        0.5,
        "threats to share images or ruin the child's life",
        _p(
            rf"(?:i(?:ll| will)|im gonna|i m gonna|i am going to|gonna) (?:send|post|share|leak|show|expose) (?:them|it|this|these|{YOUR} (?:pics|pictures|photos|video|nudes)|{YOU})(?: to| on| with)?",
            rf"(?:send|show|post) (?:it|them|this) to (?:all )?{YOUR} (?:friends|family|followers|school|parents|contacts)",
            rf"ruin {YOUR} life",
            rf"every(?:one|1) (?:at {YOUR} school )?will see",
            rf"{YOUR} (?:life|reputation) (?:is|will be) over",
            r"(?:expose|leak) you",
            r"voy a (?:publicar|enviar|mandar) tus fotos",
            r"arruinar tu vida",
            r"je vais (?:publier|envoyer) tes photos",
            r"ich (?:werde|schicke) deine (?:bilder|fotos)",
            r"vou (?:postar|mandar|enviar) suas fotos",
        ),
    ),
    Behaviour(
        "deadline",
        "sextortion",
        0.2,
        "a deadline or countdown",
        _p(
            rf"{YOU} (?:have|got) (?:\d+|one|two|five|ten|thirty|an?) (?:min|mins|minutes|hours?|hrs?)",
            r"(?:before|by) (?:tonight|midnight|tomorrow|the end of the day)",
            r"(?:times|time is) (?:running out|ticking)",
            r"(?:clock is ticking|countdown)",
            r"(?:last|final) (?:chance|warning)",
            r"or else",
            r"tienes (?:\d+|diez|cinco) minutos",
            r"tu as (?:\d+) minutes",
            r"du hast (?:\d+) minuten",
            r"voce tem (?:\d+) minutos",
        ),
    ),
    Behaviour(
        "payment_demand",
        "sextortion",
        0.3,
        "demands for money",
        _p(
            r"(?:pay|send) me (?:\$?\d+|money|cash|now)",
            r"(?:send|pay) (?:the )?(?:\$?\d+|money|cash)",
            r"\$\d+ (?:now|or)",
            r"(?:cash ?app|venmo|paypal|zelle|western union)",
            rf"how much (?:money )?(?:do|can) {YOU} (?:have|pay|send)",
            r"(?:paga(?:me)?|manda(?:me)? dinero)",
            r"(?:paie|envoie de l argent)",
            r"(?:zahl|schick (?:mir )?geld)",
            r"(?:paga|manda dinheiro)",
        ),
    ),
    Behaviour(
        "gift_card_crypto",
        "sextortion",
        0.3,
        "gift cards or cryptocurrency",
        _p(
            r"(?:gift|steam|itunes|apple|google play|amazon|roblox|psn|xbox) ?cards?",
            r"(?:bitcoin|btc|crypto|usdt|ethereum|eth) (?:wallet|address)?",
            r"tarjeta de regalo",
            r"carte cadeau",
            r"geschenkkarte",
            r"cartao presente",
        ),
    ),
)

BY_NAME = {b.name: b for b in BEHAVIOURS}
GROOMING = tuple(b for b in BEHAVIOURS if b.family == "grooming")
SEXTORTION = tuple(b for b in BEHAVIOURS if b.family == "sextortion")


def fire(normalised: str, squashed_text: str, doubles: str | None = None) -> list[tuple[str, str]]:
    """(behaviour, matched text) for every behaviour whose patterns match this message.

    `doubles` is the text with stretched letters kept as two ("look", not "lok"), tried second.
    """
    out: list[tuple[str, str]] = []
    forms = [normalised] if not doubles or doubles == normalised else [normalised, doubles]
    for b in BEHAVIOURS:
        if b.unless and any(u.search(normalised) for u in b.unless):
            continue
        m = next((m for pat in b.patterns for form in forms if (m := pat.search(form))), None)
        if m:
            out.append((b.name, m.group(0).strip()))
        else:
            for key in b.squashed:
                if key in squashed_text:
                    out.append((b.name, key))
                    break
    return out
