"""Every sentence a consumer reads comes from locales/*.ftl (Project Fluent); Ukrainian first.

Values written differently per language (an amount, a month) are passed to a message as `money(...)` and
`month(...)`: the translator writes them in the language it formats the message in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from typing import Protocol

from fluent.runtime import FluentBundle, FluentResource, resolver

LANGUAGES = ("uk", "en", "ru")
DEFAULT_LANGUAGE = "uk"

log = logging.getLogger(__name__)


class Translate(Protocol):
    """A translator bound to one language (`Turn.t`, a notice's `t`): a message by key."""

    def __call__(self, key: str, **args: object) -> str: ...


class Translator:
    """Formats a message by key in a language, falling back to Ukrainian for a key a language lacks."""

    def __init__(self, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.default_language = default_language
        self._bundles = {language: _bundle(language) for language in LANGUAGES}
        # A message given no arguments formats to the same text every time (the menu's ten buttons on a turn's
        # last reply, the other buttons' labels): formatted once. Bounded: our languages and the locales' keys.
        self._plain: dict[tuple[str, str], str] = {}
        # A message with arguments: its pattern as a template, or None where Fluent must format it (by language and key).
        self._templates: dict[tuple[str, str], _Template | None] = {}

    def has(self, language: str, key: str) -> bool:
        return self._bundles[language].has_message(key)

    def __call__(self, language: str, key: str, **args: object) -> str:
        if args:
            return self._format(language, key, args)[0]
        text = self._plain.get((language, key))
        if text is None:
            text, clean = self._format(language, key, args)
            if clean and language in self._bundles:
                self._plain[(language, key)] = text
        return text

    def _format(self, language: str, key: str, args: dict[str, object]) -> tuple[str, bool]:
        """The message's text, and whether it formatted without an error (one is logged)."""
        for candidate in (language, self.default_language, DEFAULT_LANGUAGE):
            bundle = self._bundles.get(candidate)
            if bundle is not None and bundle.has_message(key):
                shown = {name: self.text(candidate, value) if isinstance(value, _WRITTEN) else value
                         for name, value in args.items()}
                try:
                    template = self._templates[(candidate, key)]
                except KeyError:
                    template = self._templates[(candidate, key)] = _Template.of(bundle, key)
                if template is not None:
                    written = template.format(shown)
                    if written is not None:
                        return written, True
                pattern = bundle.get_message(key).value
                if pattern is None:  # a message of attributes only: nothing of ours is written so
                    raise KeyError(f"message {key!r} in {candidate} has no text")
                text, errors = bundle.format_pattern(pattern, shown)
                if errors:
                    log.error("message %s in %s: %s", key, candidate, errors)
                assert isinstance(text, str)  # a pattern formats to text (FluentNone is a missing reference's)
                return text, not errors
        raise KeyError(f"no message {key!r} in locales")

    def text(self, language: str, value: Money | Month) -> str:
        """An amount or a month as `language` writes it."""
        if isinstance(value, Money):
            return self(language, "money", amount=decimal(value.amount, language))
        year, month = value.period.split("-")
        return self(language, "month-year", month=self(language, f"month-{int(month)}"), year=year)

    def language_for(self, hint: str | None) -> str:
        """A messenger's language code (uk, ru-RU, en_US, …) as one of ours, or the default."""
        if hint:
            code = hint.replace("_", "-").split("-")[0].lower()
            if code in LANGUAGES:
                return code
        return self.default_language


class _Template:
    """A message of text and `{ $name }` placeables alone (most of ours), formatted without Fluent's resolver.

    Fluent's resolver builds an environment, a generator and a type check per part: a turn's messages took 31 µs
    through it, 14 µs so (benchmarks/turns.py --translator; docs/benchmarks.md).
    The template writes exactly what Fluent writes, for the values it is sure of: text of at most Fluent's
    placeable length, and whole numbers 0–999 (Fluent writes them digits alone in every language: larger ones
    are grouped, negative ones signed as the locale does). Any other value, a missing one, a selector, a
    reference or a function: Fluent formats it, errors and all (tests/test_i18n_templates.py).
    """

    __slots__ = ("text", "names")

    def __init__(self, text: str, names: tuple[str, ...]) -> None:
        self.text = text  # for str.format_map: the literal braces doubled
        self.names = names

    @classmethod
    def of(cls, bundle: FluentBundle, key: str) -> _Template | None:
        pattern = bundle.get_message(key).value
        if pattern is None or bundle.use_isolating:
            return None
        if isinstance(pattern, resolver.Pattern):
            if len(pattern.elements) > resolver.Pattern.MAX_PARTS:
                return None
            elements = pattern.elements
        else:  # Fluent compiles a pattern of one part to the part itself, which it does not check for length
            elements = [pattern]
        pieces: list[str] = []
        names: list[str] = []
        for element in elements:
            if isinstance(element, resolver.TextElement | resolver.StringLiteral):
                text = element(None)  # type: ignore[arg-type]  # a literal reads nothing of the environment
                if len(text) > resolver.MAX_PART_LENGTH and isinstance(pattern, resolver.Pattern):
                    return None
                pieces.append(text.replace("{", "{{").replace("}", "}}"))
            elif (isinstance(element, resolver.Placeable | resolver.NeverIsolatingPlaceable)
                  and isinstance(element.expression, resolver.VariableReference)):
                names.append(element.expression.id.name)
                pieces.append("{" + names[-1] + "}")
            else:
                return None
        return cls("".join(pieces), tuple(names))

    def format(self, args: dict[str, object]) -> str | None:
        """The text, or None when a value is one Fluent is to write."""
        values: dict[str, str] = {}
        for name in self.names:
            value = args.get(name)
            kind = type(value)
            if kind is str:
                assert isinstance(value, str)
                if len(value) > resolver.MAX_PART_LENGTH:
                    return None
                values[name] = value
            elif kind is int and 0 <= value < 1000:  # type: ignore[operator]
                values[name] = str(value)
            else:
                return None
        return self.text.format_map(values)


@lru_cache(maxsize=None)
def _bundle(language: str) -> FluentBundle:
    bundle = FluentBundle([language], use_isolating=False)
    folder = resources.files("locales") / language
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".ftl"):
            bundle.add_resource(FluentResource(entry.read_text(encoding="utf-8")))
    return bundle


@dataclass(frozen=True)
class Money:
    """An amount in UAH; the `money` message of the chat's language places the currency."""

    amount: Decimal


@dataclass(frozen=True)
class Month:
    """A billing month `YYYY-MM`, written as words: "жовтень 2026", "October 2026"."""

    period: str


_WRITTEN = (Money, Month)  # the values the translator writes itself (a union built on every call cost more)


def money(amount: Decimal) -> Money:
    return Money(amount)


def month(period: str) -> Month:
    return Month(period)


# (thousands, decimal) separators: English writes 1,234.50; Ukrainian and Russian 1 234,50 (no-break space)
SEPARATORS = {"en": (",", ".")}
_SEPARATORS_DEFAULT = ("\u00a0", ",")


def decimal(amount: Decimal, language: str) -> str:
    """1234.5 → '1 234,50' (uk, ru) or '1,234.50' (en): two decimals, grouped thousands."""
    quantized = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if quantized < 0 else ""
    whole, fraction = f"{abs(quantized):.2f}".split(".")
    thousands, point = SEPARATORS.get(language, _SEPARATORS_DEFAULT)
    return f"{sign}{_group(whole, thousands)}{point}{fraction}"


def kwh(amount: Decimal, language: str = DEFAULT_LANGUAGE) -> str:
    """Consumption without a needless fraction: 150 → '150', 12.5 → '12,5' (en: '12.5'), 1500 → '1 500' (en '1,500')."""
    thousands, point = SEPARATORS.get(language, _SEPARATORS_DEFAULT)
    normalized = amount.normalize()
    if normalized == normalized.to_integral():
        return _group(str(int(normalized)), thousands)
    whole, fraction = f"{abs(normalized):f}".split(".")
    return ("-" if normalized < 0 else "") + _group(whole, thousands) + point + fraction


def day(value: date | datetime) -> str:
    return value.strftime("%d.%m.%Y")


def _group(digits: str, thousands: str = "\u00a0") -> str:
    sign = "-" if digits.startswith("-") else ""
    digits = digits.lstrip("-")
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return sign + thousands.join(parts)
