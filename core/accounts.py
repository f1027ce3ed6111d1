"""Account numbers, ownership and consent: how a consumer may type them and how a surname proves ownership."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-–—._/]+")
_EIC = re.compile(r"\d{2}[A-Z][0-9A-Z\-]{12}[0-9A-Z]")
# Cyrillic letters that look like Latin ones, typed by mistake in an EIC code on a Ukrainian keyboard.
_LOOKALIKES = str.maketrans("АВСЕНІКМОРТХZ", "ABCEHIKMOPTXZ")
_APOSTROPHES = re.compile(r"['’ʼ`´‘ʹ′\s\-]+")

KHARKIV_LENGTH = 12  # 2-digit district + 000 + 7-digit account, the seeds' "Єдиний рахунок"


def account_candidates(text: str) -> list[str]:
    """The stored forms a typed account number or EIC code may stand for; empty when it cannot be one."""
    raw = text.strip().upper().translate(_LOOKALIKES)
    if not raw or len(raw) > 40:
        return []
    compact = _SEPARATORS.sub("", raw)
    if len(compact) == 16 and _EIC.fullmatch(compact):
        return [compact]
    if not compact.isdigit() or not 4 <= len(compact) <= KHARKIV_LENGTH:
        return []
    candidates = [compact]
    groups = [group for group in _SEPARATORS.split(raw) if group]
    if len(groups) == 2 and len(groups[0]) == 2 and len(groups[1]) <= 7:
        # "01-12345": the district code, then the account without its zero padding.
        candidates.append(groups[0] + "000" + groups[1].zfill(7))
    for width in (10, KHARKIV_LENGTH):
        if len(compact) < width:
            candidates.append(compact.zfill(width))
    return list(dict.fromkeys(candidates))


def normalize_surname(text: str) -> str:
    """Case, apostrophe variants, hyphens and spaces do not matter when a surname is compared."""
    return _APOSTROPHES.sub("", text).casefold().replace("ё", "е")


# The official Ukrainian transliteration (Cabinet of Ministers resolution No. 55 of 27.01.2010), lower case.
_KMU_2010 = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}
# Letters written otherwise at the start of a word.
_KMU_2010_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_WORDS = re.compile(r"[^\s\-]+|[\s\-]+")


def transliterate(text: str) -> str:
    """Ukrainian text in Latin letters by the KMU 2010 table; letters not in it are kept as they are."""
    return "".join(_transliterate_word(word) for word in _WORDS.findall(text))


def _transliterate_word(word: str) -> str:
    letters = []
    for position, letter in enumerate(word):
        lower = letter.lower()
        if position == 0 and lower in _KMU_2010_INITIAL:
            latin = _KMU_2010_INITIAL[lower]
        elif lower == "г" and position > 0 and word[position - 1].lower() == "з":
            latin = "gh"  # "zgh", so that зг is not read as ж ("zh")
        else:
            latin = _KMU_2010.get(lower, letter)
        if letter != lower and latin:
            # ШЕВЧЕНКО stays in capitals, Шевченко gets one: Shevchenko.
            neighbours = word[position + 1:position + 2] or word[position - 1:position]
            latin = latin.upper() if neighbours.isupper() and len(word) > 1 else latin.capitalize()
        letters.append(latin)
    return "".join(letters)


def surname_matches(typed: str, on_record: str) -> bool:
    """The surname as recorded, or its official transliteration; no other spelling, so a guess gets one try."""
    typed_key = normalize_surname(typed)
    if not typed_key:
        return False
    return typed_key in (normalize_surname(on_record), normalize_surname(transliterate(on_record)))


# Answers typed at the consent question, in the three languages (the buttons' labels among them).
_AGREE = {"так", "yes", "да", "погоджуюсь", "погоджуюся", "згоден", "згодна", "i agree", "agree",
          "согласен", "согласна"}
_REFUSE = {"ні", "no", "нет", "не погоджуюсь", "не погоджуюся", "не згоден", "не згодна", "i do not agree",
           "i don't agree", "i disagree", "disagree", "не согласен", "не согласна"}
_PUNCTUATION = re.compile(r"[\s.,!?;:…\"«»()]+")


def consent_answer(text: str) -> bool | None:
    """True for a typed yes, False for a typed no, None for anything else (the question is asked again)."""
    words = _PUNCTUATION.sub(" ", text.casefold().replace("’", "'").replace("ʼ", "'")).strip()
    if words in _AGREE:
        return True
    if words in _REFUSE:
        return False
    return None
