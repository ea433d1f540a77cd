"""Phrase pools for the synthetic evaluation set. Non-graphic by design.

Two disjoint pools per behaviour: `TUNE` (what the detectors were developed and tuned against)
and `HELD_OUT` (written separately, in other words, never used while tuning). The evaluation
reports both; the held-out figures are the honest ones.
"""

from __future__ import annotations

TUNE: dict[str, list[str]] = {
    "small_talk": [
        "hey", "hi there", "hey whats up", "nm u?", "cool", "lol", "nice", "haha same", "what are you up to",
        "just chilling", "saw your post, nice pic of your dog", "do you like music?", "what games do you play",
        "i like your profile", "sounds fun", "ok", "yeah", "that's cool",
    ],
    "personal_questions": [
        "how old are you?", "how old r u", "whats your age", "what grade are u in", "what school do you go to",
        "where do you live?", "when do your parents get home", "asl?",
    ],
    "compliments_gifts": [
        "you're so mature for your age", "ur really pretty", "you are so special", "i'll buy you robux",
        "i can give you vbucks if u want", "you look older than you are", "ur my favorite girl",
    ],
    "secrecy": [
        "don't tell anyone about us", "this is our little secret", "keep this between us ok",
        "delete our chat after", "dont tell ur parents we talk", "no one needs to know",
    ],
    "isolation": [
        "your parents don't understand you", "only i really get you", "your friends are so immature",
        "you can only trust me", "they're too strict with you",
    ],
    "risk_assessment": [
        "are you home alone?", "are your parents home?", "do your parents check your phone?",
        "is anyone around?", "is this your own phone?", "can you talk privately?",
    ],
    "platform_move": [
        "add me on snapchat", "do you have whatsapp?", "what's your number", "let's talk on telegram",
        "kik is more private", "can i get your snap?",
    ],
    "image_request": [
        "send me a pic", "can you send a selfie?", "turn your camera on", "facetime me", "let me see you",
        "send me a photo of you",
    ],
    "sexualisation": [
        "have you ever kissed anyone?", "are you still a virgin?", "what are you wearing?",
        "do you like older guys?", "i think about you a lot", "are you in bed right now?",
    ],
    "meeting": [
        "we should meet up irl", "i can pick you up after school", "send me your location",
        "where can we meet?", "dont bring anyone", "what time do you get out of school",
    ],
    "possession_claim": ["i have your pics", "i screenshotted everything", "i recorded the video call"],
    "threat_share": [
        "i will send them to all your friends", "i'll post them everywhere", "i will ruin your life",
        "everyone at your school will see", "i'm gonna send it to your parents",
    ],
    "deadline": ["you have 10 minutes", "before midnight or else", "time is running out", "last chance"],
    "payment_demand": ["pay me $300", "send money now", "send $200 on cashapp", "how much money can you send"],
    "gift_card_crypto": ["buy a steam card and send the code", "send it in bitcoin", "get an apple gift card"],
    # Benign scenes
    "birthday": [
        "don't tell sara about the surprise party!", "what should we get her for her birthday?", "party is at 3 on saturday",
        "i'll bring the cake", "can you send me a pic of the decorations", "we should meet at the mall to buy the present",
        "keep it secret, it's a surprise", "her mom said we can use the backyard",
    ],
    "parent_child": [
        "where are you?", "dinner is ready", "i'll pick you up at 5", "did you finish your homework?",
        "send me a pic of the bus schedule", "are you home yet?", "love you, see you tonight", "ok mom", "omw",
        "don't forget your jacket", "call me when you get there",
    ],
    "gaming": [
        "gg that was close", "add me on discord", "ur so good at this game", "wanna play fortnite later?",
        "i'm gonna destroy you next round", "you have 5 minutes to join or we start", "send me the clip",
        "that boss fight was insane", "lol you died again", "i got a new skin",
    ],
    "adult_flirt": [
        "you look beautiful tonight", "we should meet for drinks", "what are you wearing to the party?",
        "send me a selfie", "i think about you a lot", "can i get your number?", "let's meet saturday",
        "you're so hot", "i'd love to see you again",
    ],
}

HELD_OUT: dict[str, list[str]] = {
    "small_talk": [
        "yo", "hiya", "sup", "not much hbu", "haha true", "omg same", "what music do u listen to", "u play any sports?",
        "i liked ur video", "that's so funny", "how was ur day", "boring lol", "i feel u",
    ],
    "personal_questions": [
        "so how old are u exactly", "u in middle school?", "which school u at", "where u live at",
        "u live with ur mom and dad?", "what's ur address", "when does your mom leave for work",
    ],
    "compliments_gifts": [
        "u are so mature honestly", "ur so beautiful u know that", "i'll send you a gift card for your game",
        "want free robux?", "i'd get you a new phone", "ur the best girl ive talked to",
    ],
    "secrecy": [
        "dont tell nobody ok", "keep it quiet", "just between u and me", "delete these messages",
        "ur parents wouldnt understand", "nobody has to know about this",
    ],
    "isolation": [
        "ur friends are fake", "no one else understands u like me", "u dont need them", "ur mom doesn't get you",
    ],
    "risk_assessment": [
        "u alone rn?", "is ur mom around", "does ur dad read ur messages", "anyone with u?", "whose phone is this",
    ],
    "platform_move": [
        "hit me up on insta", "do u have snap", "give me ur number", "lets move to discord its better",
        "text me on whatsapp", "here is my number",
    ],
    "image_request": [
        "can u show me what u look like", "pic for proof", "put ur cam on", "video call me", "could you send a photo",
    ],
    "sexualisation": [
        "u ever had a bf?", "r u a virgin", "what r u wearing rn", "do u like older men", "i'd like to hold u",
    ],
    "meeting": [
        "wanna hang out in person sometime", "i could come to your school", "share ur location with me",
        "i'll drive to you", "where could we meet",
    ],
    "possession_claim": ["i saved all your photos", "i got ur pictures", "i recorded everything"],
    "threat_share": [
        "im gonna leak them", "send it to your family", "your life is over", "i'll expose you",
        "i'm going to share them with your followers",
    ],
    "deadline": ["u got 30 mins", "by tonight", "clock is ticking", "final warning"],
    "payment_demand": ["pay me now", "send the cash on venmo", "how much can u pay", "send $500"],
    "gift_card_crypto": ["itunes cards only", "send crypto to my wallet", "google play card", "amazon gift card"],
    "birthday": [
        "shh its a surprise for jake", "dont tell him about the party", "who's bringing the balloons",
        "we meet at 2 at my place", "send pics of the cake pls", "his bday is friday",
    ],
    "parent_child": [
        "where r u", "come home please", "i can pick you up from practice", "text me when u get there",
        "is ur homework done", "grandma says hi", "are you alone at home? i'll be late, lock the door",
        "what time do you finish school today",
    ],
    "gaming": [
        "nice clutch", "join my discord", "u r cracked at this", "rematch?", "ill wreck you next time",
        "u got 2 min to get on", "my wifi is lagging", "did u see the new update",
    ],
    "adult_flirt": [
        "you're gorgeous", "dinner friday?", "you looked amazing last night", "send me a pic of your outfit",
        "i can't stop thinking about you", "whats your number", "come over later?",
    ],
}

#: A few lines in other languages, per split, for the multilingual part of the set.
MULTILINGUAL_TUNE: dict[str, list[str]] = {
    "personal_questions": ["cuantos años tienes?", "wie alt bist du?", "quel âge as-tu ?"],
    "secrecy": ["no le digas a nadie", "sag es niemandem", "nosso segredo"],
    "platform_move": ["agregame en whatsapp", "adde mich auf snapchat", "ajoute moi sur snap"],
    "risk_assessment": ["estas sola?", "bist du allein?"],
    "image_request": ["mándame una foto", "schick mir ein foto"],
    "meeting": ["quedamos en persona?", "treffen wir uns?"],
}
MULTILINGUAL_HELD_OUT: dict[str, list[str]] = {
    "personal_questions": ["que edad tienes", "quantos anos voce tem?"],
    "secrecy": ["no se lo cuentes a tus padres", "ne dis rien à personne"],
    "platform_move": ["pasame tu numero", "me adiciona no insta"],
    "risk_assessment": ["tu es seule ?", "voce esta sozinha?"],
    "image_request": ["envoie-moi une photo", "manda uma foto"],
    "meeting": ["on se voit ?", "vamos nos encontrar?"],
}
