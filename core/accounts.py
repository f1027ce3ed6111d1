"""Account numbers and ownership: how a consumer may type them and how a surname proves ownership."""
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


def surname_matches(typed: str, on_record: str) -> bool:
    typed_key = normalize_surname(typed)
    return bool(typed_key) and typed_key == normalize_surname(on_record)
