"""A request for an answer in another language: a message of its own ("in french
please", "en español", "بالعربية") after an answer, or a clause of a question ("in French,
what is the MRG?", "who chairs the MRG? en español").
"""

from __future__ import annotations

import re

from bot.wording import POLITENESS, text_words

# "in french please", "en español", "بالعربية": the same answer in another language.
_LANGUAGE_ASKS: dict[str, tuple[str, ...]] = {
    # Arabic as text_words() leaves it: the article and a leading بال are stripped.
    "en": (
        "english",
        "anglais",
        "anglaise",
        "ingles",
        "inglesa",
        "انجليزيه",
        "انكليزيه",
        "انجليزي",
        "انكليزي",
    ),
    "fr": (
        "french",
        "francais",
        "francaise",
        "frances",
        "francesa",
        "فرنسيه",
        "فرنسي",
        "فرنساويه",
        "فرنساوي",
    ),
    "es": (
        "spanish",
        "espagnol",
        "espagnole",
        "espanol",
        "espanola",
        "castellano",
        "اسبانيه",
        "اسباني",
        "اسبانيولي",
    ),
    "ar": ("arabic", "arabe", "عربيه", "عربي"),
}
_LANGUAGE_FRAME = frozenset(
    [
        "in",
        "en",
        "a",
        "al",
        "por",
        "favor",
        "please",
        "pls",
        "svp",
        "stp",
        "plz",
        "porfa",
        "porfis",
        "xfa",
        "the",
        "le",
        "la",
        "el",
        "answer",
        "reply",
        "repondre",
        "responde",
        "say",
        "it",
        "again",
        "can",
        "you",
        "could",
        "again",
        "lo",
        "redis",
        "redire",
        "dis",
        "ecris",
        "write",
        "bi",
        "باللغه",
        "لغه",
        "من",
        "فضلك",
        "لو",
        "اجب",
        "and",
        "et",
        "y",
        "now",
        "maintenant",
        "ahora",
        "also",
        "aussi",
        "tambien",
        "what",
        "about",
        # "can you give it to me in French?", "tu peux me le donner en espagnol ?", "me lo
        # puedes poner en francés?", "ممكن الجواب بالانجليزي": asking for it, nothing more.
        "give",
        "me",
        "send",
        "put",
        "translate",
        "tu",
        "peux",
        "pourrais",
        "vous",
        "pouvez",
        "donner",
        "donne",
        "mettre",
        "traduire",
        "traduis",
        "puedes",
        "podrias",
        "poner",
        "pon",
        "dar",
        "dame",
        "pasar",
        "traducir",
        "traduces",
        "traducis",
        "respondeme",
        "contestame",
        "escribeme",
        "ممكن",
        "جواب",
        "عافاك",
        "بليز",
        # "can you say that in Arabic?", "the same answer in English", "نفس الجواب"
        "that",
        "this",
        "same",
        "meme",
        "reponse",
        "mismo",
        "misma",
        "respuesta",
        "نفس",
        # "ترجمه للانجليزي": translate it.
        "ترجم",
        "ترجمه",
        "ترجمها",
        "ترجملي",
        "ترجمي",
        # "can u say it in spanish", "would you mind translating that into French", "is
        # there a French version?", "could you give me that last answer in French",
        # "I'd like it in English": the same answer wanted, asked in other words.
        "u",
        "ya",
        "i",
        "id",
        "like",
        "need",
        "want",
        "would",
        "mind",
        "do",
        "have",
        "get",
        "is",
        "there",
        "version",
        "translation",
        "translating",
        "translated",
        "repeat",
        "last",
        "previous",
        "j",
        "l",
        "ai",
        "besoin",
        "veux",
        "voudrais",
        "peut",
        "on",
        "avoir",
        "chose",
        "traduction",
        "repete",
        "repeter",
        "redonne",
        "redonner",
        "envoies",
        "envoie",
        "derniere",
        "precedente",
        "se",
        "pasas",
        "pasa",
        "pasame",
        "mandas",
        "manda",
        "mandame",
        "envias",
        "enviame",
        "tienes",
        "tenes",
        "podes",
        "necesito",
        "puede",
        "podria",
        "quiero",
        "gustaria",
        "repite",
        "repetir",
        "traduccion",
        "anterior",
        "ultima",
        "ابغا",
        "ابي",
        "بدي",
        "اريد",
        "عطيني",
        "اعطيني",
        "ياه",
        "اياه",
        "شي",
        "اعيد",
        "عيد",
        "كرر",
        # "قولها بالفرنساوي", "قلي ياها بالانجليزي", "احكيها بالعربي": say it.
        "قول",
        "قولها",
        "قوله",
        "قولي",
        "قوللي",
        "قل",
        "قلها",
        "قلي",
        "قللي",
        "احكيها",
        "احكيه",
        "احكيلي",
        "اكتبها",
        "اكتبه",
        "اكتبلي",
        # "هل يمكنكم إعادة الإجابة باللغة الفرنسية من فضلكم؟"
        "هل",
        "يمكنكم",
        "يمكنك",
        "اعاده",
        "اجابه",
        "فضلكم",
    ]
)
# A sentence that only says who the answer is for ("it's for a colleague in Geneva",
# "c'est pour un collègue", "es para la SN de Haití", "عشان زميلي"): no question.
_PURPOSE_OPENERS = frozenset(["for", "pour", "para", "عشان", "علشان", "لاجل", "because", "car"])
_PURPOSE_LEAD = frozenset(["it", "its", "this", "is", "c", "est", "es", "esto", "hadi", "هذا"])
# ...or what will be done with it: "I want to send it to a colleague", "بدي ابعته لزميل".
_SENDING = frozenset(
    [
        "send",
        "forward",
        "share",
        "envoyer",
        "transmettre",
        "partager",
        "transferer",
        "enviar",
        "mandar",
        "reenviar",
        "compartir",
        # "I want to put it in the report", "pour le mettre dans mon rapport"
        "paste",
        "coller",
        "pegar",
        "احطه",
        "احطها",
        "حطه",
        "ابعت",
        "ابعته",
        "ابعتها",
        "ابعثه",
        "ابعثها",
        "ارسل",
        "ارسله",
        "ارسلها",
        "اشاركه",
        "اشاركها",
    ]
)


def language_asked(words: list[str]) -> str | None:
    """The language a "in french please" message asks for, if that is all it says."""
    found = {lang for lang, names in _LANGUAGE_ASKS.items() if any(w in names for w in words)}
    if len(found) != 1:
        return None
    names = _LANGUAGE_ASKS[next(iter(found))]
    if all(w in names or w in _LANGUAGE_FRAME or w in POLITENESS for w in words):
        return next(iter(found))
    return None


# The clause inside a question: a preposition before the name ("in French", "en
# español", "بالعربي", "باللغة الفرنسية"), so that "the French Red Cross" asks nothing;
# with the verb and the courtesy that go with it ("answer in Spanish please").
_NAMES = (
    r"english|french|spanish|arabic|anglais|fran[cç]ais|espagnol|arabe|ingl[eé]s|"
    r"franc[eé]s|espa[nñ]ol|castellano|[aá]rabe"
)
_ARABIC_NAMES = r"[اإ]ن[جك]ليزي|فرنساوي|فرنسي|[اإ]سبانيولي|[اإ]سباني|عربي"
_CLAUSE = re.compile(
    r"(?:\b(?:answer|reply|respond|write|r[eé]ponds?|r[eé]pondez|[eé]cris|responde(?:me)?|"
    r"resp[oó]ndeme|contesta(?:me)?|escribe(?:me)?)\s+)?"
    rf"(?:\b(?:in|en|al|into)\s+(?P<name>{_NAMES})\b|(?:باللغ[ةه]\s+ال|بال|لل)(?P<ar>{_ARABIC_NAMES})[ةه]?)"
    r"(?:\s*,?\s*(?:please|pls|plz|svp|stp|s[' ]il (?:te|vous) pla[iî]t|por favor|porfa|"
    r"xfa|لو سمحت|من فضلك|رجاء))?",
    re.IGNORECASE,
)


def without_purpose(text: str) -> str:
    """The text less its sentences that only say who the answer is for."""
    kept = []
    for sentence in re.split(r"(?<=[.?!;,؟،])", text):
        words = text_words(sentence)
        lead = 0
        while lead < len(words) and words[lead] in _PURPOSE_LEAD:
            lead += 1
        if lead < len(words) and words[lead] in _PURPOSE_OPENERS:
            continue
        if any(w in _SENDING for w in words):
            continue
        kept.append(sentence)
    return "".join(kept)


def only_asks_for_it(rest: str, asked: str | None = None) -> bool:
    """Whether what is left of a message once its "in French" clause is out asks for
    nothing more than that answer: "please, it's for a colleague in Geneva", "tu peux me
    le donner ? c'est pour la Croix-Rouge équatorienne". A sentence that names a
    language says why ("our colleagues in Tunis prefer French")."""
    del asked  # any language named says why: "mon directeur ne parle pas français"
    names = {n for ns in _LANGUAGE_ASKS.values() for n in ns}
    for sentence in re.split(r"(?<=[.?!;؟])", without_purpose(rest)):
        words = text_words(sentence)
        if any(w in names for w in words):
            continue
        if not all(w in _LANGUAGE_FRAME or w in POLITENESS for w in words):
            return False
    return True


# Texts written in a language: "the docs in English", "los textos en inglés".
_WRITTEN = frozenset(
    [
        "docs",
        "documents",
        "document",
        "textes",
        "texte",
        "papers",
        "paper",
        "emails",
        "email",
        "mails",
        "mail",
        "courriels",
        "correos",
        "documentos",
        "documento",
        "textos",
        "texto",
        "informes",
        "rapports",
        "reports",
        "sites",
        "site",
        "web",
        "publications",
        "publicaciones",
    ]
)


def split_language_request(text: str) -> tuple[str, str | None]:
    """The question without its "in French" clause, and the language that clause asks
    for; the text unchanged and None when it has no such clause, or is nothing else
    (that is :func:`language_asked`'s case)."""
    found = next((m for m in _CLAUSE.finditer(text) if _asks_in(text, m)), None)
    if found is None or language_asked(text_words(text)) is not None:
        return text, None
    name = found.group("name") or found.group("ar")
    asked = language_asked(text_words(name))
    rest = f"{text[: found.start()]} {text[found.end() :]}".strip(" ,;:-–")
    if asked is None or not any(ch.isalnum() for ch in rest):
        return text, None
    return rest, asked


def _asks_in(text: str, found: re.Match[str]) -> bool:
    """Whether an "in English" clause asks for the answer in it: with a verb ("answer in
    French"), or at an edge of its sentence ("in French, what is the MRG?", "who chairs
    it? en español", "what is it in Arabic?"). In the middle it names what a word is in
    that language: "IOM en anglais, c'est qui ?", "en los textos en inglés sale UNHCR"."""
    if found.group(0).split()[0].lower() not in ("in", "en", "al", "into") or found.group("ar"):
        return True  # a verb of answering, or Arabic's بال which asks by itself
    before = text[: found.start()].rstrip()
    after = text[found.end() :].lstrip()
    said = text_words(before)
    if said and said[-1] in _WRITTEN:
        return False  # "on le voit dans les docs en anglais": what they are written in
    if not before or before[-1] in ".?!;:,،؟" or not after or after[0] in ".?!؟":
        return True
    # "me lo mandas en inglés, es para mi jefa", "peux-tu le redire en anglais, c'est
    # pour...": what comes before asks for it, unlike a name ("IOM en anglais, c'est qui ?").
    return bool(said) and said[-1] in _LANGUAGE_FRAME and after[0] in ",،"
