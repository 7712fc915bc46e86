"""Does a transcript ask us to stop calling? Phrase rules in English and Hindi (Devanagari and romanised).

Only the customer's words count (agent lines are skipped). A sentence proposes an opt-out when it holds
a stop-calling request, unless it is limited in time ("don't call in the morning", "DND hours after
9 pm", "abhi call mat karo") or negated ("I never said don't call me"). The answer only PROPOSES: a
manager confirms it (``crm.opt_out``), because free text misfires.
"""

from __future__ import annotations

import re

_FLAGS = re.IGNORECASE | re.UNICODE

#: A request to stop calling, in each language and script.
REQUESTS = [
    # English
    r"\b(?:do\s+not|don'?t|dont|never|stop|quit|no\s+more)\s+(?:ever\s+)?(?:call|phone|ring|contact|dial)(?:ing)?\b",
    r"\b(?:remove|take|delete)\s+(?:me|my\s+number|this\s+number)\s+(?:off|from)\b",
    r"\b(?:put|add)\s+(?:me|my\s+number|this\s+number)\s+(?:on|to)\s+(?:the\s+|your\s+)?(?:dnd|do[\s-]not[\s-]call)\b",
    r"\bi\s+(?:do\s+not|don'?t)\s+want\s+(?:any\s+)?(?:more\s+)?(?:of\s+)?(?:your\s+|these\s+)?calls\b",
    r"\bunsubscribe\b",
    # Hindi, romanised
    r"\b(?:call|phone|fone|kol)\s+(?:mat|na|nahi|nahin|mt)\s+(?:karna|karo|karein|karen|kariye|karie|kijiye|kijie|kare)\b",
    r"\b(?:call|phone|fone)\s+karna\s+band\s+(?:karo|karein|karen|kijiye|kariye|kar\s+do)\b",
    r"\b(?:mera|meri|hamara)\s+(?:number|no\.?)\s+(?:hata|hatao|hata\s+do|delete|remove)\b",
    # Hindi, Devanagari
    r"(?:कॉल|काल|फ़ोन|फोन)\s*(?:मत|ना|न|नहीं)\s*(?:करना|करो|करें|करे|कीजिए|कीजिये|करिए|करिये)",
    r"(?:कॉल|काल|फ़ोन|फोन)\s*करना\s*बंद\s*(?:करो|करें|कीजिए|कीजिये|कर\s*दो)",
    r"(?:मेरा|हमारा)\s*(?:नंबर|नम्बर)\s*(?:हटा|हटाओ|हटा\s*दो|हटाइए)",
]

#: A limit in time: the person wants another time, not no calls at all.
TIME_LIMITS = [
    r"\b(?:morning|afternoon|evening|night|tonight|today|tomorrow|weekend|weekdays?|lunch)\b",
    r"\b(?:right\s+)?now\b|\bat\s+the\s+moment\b|\bthis\s+(?:week|month|time)\b|\blater\b",
    r"\b(?:after|before|between|till|until|past)\s+\d",
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|o'?clock)\b",
    r"\b(?:dnd|office|working|work|business)\s+hours\b|\bhours\b|\bat\s+work\b|\bduring\b|\bwhile\s+i\b|\bbusy\b",
    r"\b(?:subah|sham|shaam|raat|dopahar|abhi|aaj|kal|baad\s+(?:mein|me|mai)|baje|office|hafte|busy)\b",
    r"\b(?:ke\s+baad|se\s+pehle|se\s+pahle)\b",
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:somvar|mangalvar|budhvar|guruvar|shukravar|shanivar|ravivar|itwar)\b",
    r"सोमवार|मंगलवार|बुधवार|गुरुवार|शुक्रवार|शनिवार|रविवार|इतवार",
    r"सुबह|शाम|रात|दोपहर|अभी|आज|कल|बाद\s*में|बजे|ऑफिस|दफ़्तर|दफ्तर|के\s*बाद|से\s*पहले|हफ्ते|हफ़्ते",
]

#: The request is denied or reversed: "I didn't say don't call", "you can call me", "call karte rehna".
NEGATIONS = [
    r"\b(?:not\s+saying|didn'?t\s+say|did\s+not\s+say|never\s+said|not\s+asking|didn'?t\s+ask|did\s+not\s+ask)\b",
    r"\b(?:don'?t|do\s+not|never)\s+stop\s+(?:calling|contacting)\b|\b(?:you\s+)?(?:can|may|should)\s+call\b",
    r"\b(?:maine|mene)\s+(?:ye|yeh|aisa)?\s*(?:nahi|nahin)\s+(?:kaha|bola)\b",
    r"\b(?:call|phone)\s+(?:kar\s+sakte|karte\s+rehna|karte\s+rahiye|kar\s+lena|kar\s+lijiye|kariyega)\b",
    r"मैंने\s*(?:ऐसा|ये|यह)?\s*नहीं\s*(?:कहा|बोला)|(?:कॉल|फोन|फ़ोन)\s*(?:कर\s*सकते|करते\s*रहना|कर\s*लेना|कीजिएगा)",
]

_REQUEST = [re.compile(p, _FLAGS) for p in REQUESTS]
_LIMIT = [re.compile(p, _FLAGS) for p in TIME_LIMITS]
_NEGATION = [re.compile(p, _FLAGS) for p in NEGATIONS]
_SENTENCES = re.compile(r"[.!?।;\n]+|\s+(?:but|lekin|magar|par)\s+|\s*(?:लेकिन|मगर|पर)\s+", _FLAGS)
_AGENT_LINE = re.compile(r"^\s*(?:agent|assistant|bot|ai|priya|system)\s*:", _FLAGS)
_SPEAKER = re.compile(r"^\s*(?:user|customer|lead|caller|human)\s*:\s*", _FLAGS)


def customer_text(transcript: str) -> str:
    """The customer's words: agent lines left out; speaker labels stripped."""
    lines = [line for line in str(transcript or "").splitlines() if not _AGENT_LINE.match(line)]
    return "\n".join(_SPEAKER.sub("", line) for line in lines)


def opt_out_phrase(transcript: str) -> str:
    """The sentence that asks us to stop calling for good, or "" when none does."""
    for sentence in _SENTENCES.split(customer_text(transcript)):
        sentence = (sentence or "").strip()
        if not sentence or not any(p.search(sentence) for p in _REQUEST):
            continue
        if any(p.search(sentence) for p in _LIMIT) or any(p.search(sentence) for p in _NEGATION):
            continue
        return sentence[:300]
    return ""
