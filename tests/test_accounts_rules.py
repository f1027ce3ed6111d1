from core.accounts import account_candidates, surname_matches


def test_kharkiv_code_typed_with_spaces_dashes_or_short_account():
    assert "010000012345" in account_candidates("01 000 0012345")
    assert "010000012345" in account_candidates("01-0000012345")
    assert "010000012345" in account_candidates("01-12345")
    assert "010000012345" in account_candidates("10000012345")  # the leading zero dropped


def test_eic_code_with_cyrillic_lookalikes_and_lowercase():
    assert account_candidates("62z4815162342001") == ["62Z4815162342001"]
    assert account_candidates("62З4815162342001") == []  # З is not Z: no guess
    assert account_candidates("62Ζ4815162342001") == []


def test_what_cannot_be_an_account():
    for text in ("", "abc", "12", "1" * 13, "🙂", "x" * 10_000, "-1", "12.5"):
        assert account_candidates(text) == [], text


def test_surname_ignores_case_apostrophes_and_spaces():
    assert surname_matches("дем’яненко", "Дем'яненко")
    assert surname_matches("ДЕМʼЯНЕНКО ", "Дем'яненко")
    assert surname_matches("Demyanenko", "Дем'яненко") is False
    assert surname_matches("", "Дем'яненко") is False
