"""Every sentence a consumer reads comes from locales/*.ftl (Project Fluent); Ukrainian first."""
from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

from fluent.runtime import FluentBundle, FluentResource

LANGUAGES = ("uk", "en", "ru")
DEFAULT_LANGUAGE = "uk"

log = logging.getLogger(__name__)


class Translator:
    """Formats a message by key in a language, falling back to Ukrainian for a key a language lacks."""

    def __init__(self, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.default_language = default_language
        self._bundles = {language: _bundle(language) for language in LANGUAGES}

    def has(self, language: str, key: str) -> bool:
        return self._bundles[language].has_message(key)

    def __call__(self, language: str, key: str, **args: object) -> str:
        for candidate in (language, self.default_language, DEFAULT_LANGUAGE):
            bundle = self._bundles.get(candidate)
            if bundle is not None and bundle.has_message(key):
                text, errors = bundle.format_pattern(bundle.get_message(key).value, args)
                if errors:
                    log.error("message %s in %s: %s", key, candidate, errors)
                return text
        raise KeyError(f"no message {key!r} in locales")

    def language_for(self, hint: str | None) -> str:
        """A messenger's language code (uk, ru-RU, en_US, …) as one of ours, or the default."""
        if hint:
            code = hint.replace("_", "-").split("-")[0].lower()
            if code in LANGUAGES:
                return code
        return self.default_language


@lru_cache(maxsize=None)
def _bundle(language: str) -> FluentBundle:
    bundle = FluentBundle([language], use_isolating=False)
    folder = resources.files("locales") / language
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".ftl"):
            bundle.add_resource(FluentResource(entry.read_text(encoding="utf-8")))
    return bundle


def money(amount: Decimal) -> str:
    """1234.5 → '1 234,50', the way Ukrainian receipts print it (used in every language for one look)."""
    quantized = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    whole, fraction = f"{abs(quantized):.2f}".split(".")
    return f"{sign}{_group(whole)},{fraction}"


def kwh(amount: Decimal) -> str:
    """Consumption without a needless fraction: 150 → '150', 12.5 → '12,5'."""
    normalized = amount.normalize()
    if normalized == normalized.to_integral():
        return _group(str(int(normalized)))
    whole, fraction = f"{abs(normalized):f}".split(".")
    return ("-" if normalized < 0 else "") + _group(whole) + "," + fraction


def day(value: date | datetime) -> str:
    return value.strftime("%d.%m.%Y")


def _group(digits: str) -> str:
    sign = "-" if digits.startswith("-") else ""
    digits = digits.lstrip("-")
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return sign + "\u00a0".join(parts)
