"""Messages with arguments formatted from a template (core/i18n.py, `_Template`): byte for byte what Fluent writes,
for every key of every language and every kind of value a message is given."""
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from fluent.runtime import FluentBundle
from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from core import i18n
from core.i18n import LANGUAGES, Translator

# Values of every kind the code passes (text, numbers, Decimal, Money, Month) and the edges of the template's own:
# braces in a value, empty text, 999 and 1000, a negative number, a bool, text past Fluent's placeable length.
SAMPLES: list[object] = [
    "Шевченко", "", "{ $x } {{}}", "x" * 2500, "y" * 2501, 0, 7, 999, 1000, 123456, -1, True, 2.5,
    Decimal("12.50"), i18n.money(Decimal("1234.5")), i18n.month("2026-10"), date(2026, 12, 4),
]


class _Variables(Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def _messages(language: str) -> dict[str, set[str]]:
    """Each message of the language's files, with the names of the variables it reads."""
    found: dict[str, set[str]] = {}
    for entry in (resources.files("locales") / language).iterdir():
        if entry.name.endswith(".ftl"):
            for message in FluentParser().parse(entry.read_text(encoding="utf-8")).body:
                if isinstance(message, ast.Message) and message.value is not None:
                    variables = _Variables()
                    variables.visit(message.value)
                    found[message.id.name] = variables.names
    return found


def _fluent(bundle: FluentBundle, translator: Translator, language: str, key: str, args: dict) -> str:
    shown = {name: translator.text(language, value) if isinstance(value, i18n.Money | i18n.Month) else value
             for name, value in args.items()}
    text, _errors = bundle.format_pattern(bundle.get_message(key).value, shown)
    return text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_with_arguments_is_written_as_fluent_writes_it(language):
    translator = Translator()
    bundle = i18n._bundle(language)
    checked = 0
    for key, names in _messages(language).items():
        if not names:
            continue
        for sample in SAMPLES:
            # every argument the sample, then each argument the sample among plain text, then one argument missing
            cases = [dict.fromkeys(names, sample)]
            cases += [{**dict.fromkeys(names, "текст"), name: sample} for name in names]
            cases += [{other: "текст" for other in names if other != name} for name in names]
            for args in cases:
                assert translator(language, key, **args) == _fluent(bundle, translator, language, key, args), (key, args)
                checked += 1
    assert checked > 1000


def test_a_message_of_text_arguments_is_written_without_fluents_resolver(monkeypatch):
    translator = Translator()
    expected = {language: translator(language, "reading-accepted", meter="№1", on="04.12.2026", values="123")
                for language in LANGUAGES}

    def resolver_used(*_args, **_kwargs):
        raise AssertionError("formatted by Fluent's resolver")

    fresh = Translator()
    monkeypatch.setattr(FluentBundle, "format_pattern", resolver_used)
    for language in LANGUAGES:
        assert fresh(language, "reading-accepted", meter="№1", on="04.12.2026", values="123") == expected[language]
        assert fresh(language, "verification-soon", meter="№1", on="04.12.2026", days=30).count("30") == 1
    assert fresh("en", "money", amount="1,234.50") == "UAH 1,234.50"
