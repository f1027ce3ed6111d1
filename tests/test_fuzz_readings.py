"""Bad input at volume for the reading parser: anything typed is refused with a reason, or fits the meter."""
from __future__ import annotations

from hypothesis import example, given, settings, strategies as st

from core.i18n import LANGUAGES, Translator
from core.readings import ReadingRefused, parse_values

TRANSLATOR = Translator("uk")
DIGITS = st.integers(4, 9)  # what meters.csv accepts
ZONES = st.integers(1, 3)

number_like = st.from_regex(r"[+-]?[0-9]{0,12}([.,][0-9]{0,3})?", fullmatch=True)
token = st.one_of(number_like, st.integers(-(10**11), 10**11).map(str), st.text(max_size=8))
separator = st.sampled_from([" ", "   ", ";", "/", "|", "\t", "\n", " ; ", ",", "\u00a0", "\u2009", "-", ""])


@st.composite
def typed(draw) -> str:
    """What a consumer might type: numbers and junk joined by separators, or any text at all."""
    if draw(st.booleans()):
        return draw(st.text(max_size=80))
    parts = draw(st.lists(token, max_size=5))
    glue = draw(separator)
    return draw(st.sampled_from(["", " ", "\n"])) + glue.join(parts) + draw(st.sampled_from(["", " ", "\t"]))


@settings(max_examples=500, deadline=None)
@given(typed(), DIGITS, ZONES)
@example("٣٤٥٦٧", 5, 1)  # Arabic-Indic digits
@example("１２３４５", 5, 1)  # full-width digits
@example("00000012345", 5, 1)
@example("+12345", 5, 1)
@example("1" * 5000, 5, 1)
def test_a_typed_reading_is_refused_with_a_message_or_fits_the_meter(text, digits, zones):
    try:
        values = parse_values(text, digits=digits, zones=zones)
    except ReadingRefused as refusal:
        for language in LANGUAGES:
            assert TRANSLATOR.has(language, refusal.key), refusal.key
            assert TRANSLATOR(language, refusal.key, **refusal.args_)  # every variable it needs is given
        return
    assert len(values) == zones
    assert all(isinstance(value, int) and 0 <= value < 10**digits for value in values)


@settings(max_examples=300, deadline=None)
@given(DIGITS, ZONES, st.data())
def test_readings_that_fit_are_accepted_as_typed_whatever_the_separator(digits, zones, data):
    values = data.draw(st.lists(st.integers(0, 10**digits - 1), min_size=zones, max_size=zones))
    glue = data.draw(st.sampled_from([" ", "  ", ";", "; ", "/", " / ", "|", "\t", "\n"]))
    padded = [str(value).zfill(data.draw(st.integers(0, digits))) for value in values]
    assert parse_values(" " + glue.join(padded) + "\n", digits=digits, zones=zones) == values
