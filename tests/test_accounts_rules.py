import pytest

from core.accounts import account_candidates, consent_answer, surname_matches, transliterate
from core.i18n import LANGUAGES, Translator


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
    assert surname_matches("", "Дем'яненко") is False


# The examples of the KMU 2010 table itself (resolution No. 55 of 27.01.2010).
KMU_2010_EXAMPLES = [
    ("Алушта", "Alushta"), ("Андрій", "Andrii"), ("Борщагівка", "Borshchahivka"), ("Борисенко", "Borysenko"),
    ("Вінниця", "Vinnytsia"), ("Володимир", "Volodymyr"), ("Гадяч", "Hadiach"), ("Богдан", "Bohdan"),
    ("Згурський", "Zghurskyi"), ("Ґалаґан", "Galagan"), ("Ґорґани", "Gorgany"), ("Донецьк", "Donetsk"),
    ("Дмитро", "Dmytro"), ("Рівне", "Rivne"), ("Олег", "Oleh"), ("Есмань", "Esman"),
    ("Єнакієве", "Yenakiieve"), ("Гаєвич", "Haievych"), ("Короп'є", "Koropie"), ("Житомир", "Zhytomyr"),
    ("Жанна", "Zhanna"), ("Жежелів", "Zhezheliv"), ("Закарпаття", "Zakarpattia"),
    ("Казимирчук", "Kazymyrchuk"), ("Медвин", "Medvyn"), ("Михайленко", "Mykhailenko"),
    ("Іванків", "Ivankiv"), ("Іващенко", "Ivashchenko"), ("Їжакевич", "Yizhakevych"),
    ("Кадиївка", "Kadyivka"), ("Мар'їне", "Marine"), ("Йосипівка", "Yosypivka"), ("Стрий", "Stryi"),
    ("Олексій", "Oleksii"), ("Київ", "Kyiv"), ("Коваленко", "Kovalenko"), ("Лебедин", "Lebedyn"),
    ("Леонід", "Leonid"), ("Миколаїв", "Mykolaiv"), ("Маринич", "Marynych"), ("Ніжин", "Nizhyn"),
    ("Наталія", "Nataliia"), ("Одеса", "Odesa"), ("Онищенко", "Onyshchenko"), ("Полтава", "Poltava"),
    ("Петро", "Petro"), ("Решетилівка", "Reshetylivka"), ("Рибчинський", "Rybchynskyi"), ("Суми", "Sumy"),
    ("Соломія", "Solomiia"), ("Тернопіль", "Ternopil"), ("Троць", "Trots"), ("Ужгород", "Uzhhorod"),
    ("Уляна", "Uliana"), ("Фастів", "Fastiv"), ("Філіпчук", "Filipchuk"), ("Харків", "Kharkiv"),
    ("Христина", "Khrystyna"), ("Біла Церква", "Bila Tserkva"), ("Стеценко", "Stetsenko"),
    ("Чернівці", "Chernivtsi"), ("Шевченко", "Shevchenko"), ("Шостка", "Shostka"), ("Кишеньки", "Kyshenky"),
    ("Щербухи", "Shcherbukhy"), ("Гоща", "Hoshcha"), ("Гаращенко", "Harashchenko"), ("Юрій", "Yurii"),
    ("Корюківка", "Koriukivka"), ("Яготин", "Yahotyn"), ("Ярошенко", "Yaroshenko"),
    ("Костянтин", "Kostiantyn"), ("Знам'янка", "Znamianka"), ("Феодосія", "Feodosiia"),
    ("Згорани", "Zghorany"), ("Розгон", "Rozghon"),
]


@pytest.mark.parametrize(("ukrainian", "latin"), KMU_2010_EXAMPLES)
def test_transliteration_follows_the_kmu_2010_table(ukrainian, latin):
    assert transliterate(ukrainian) == latin


def test_transliteration_keeps_capitals_and_starts_each_word_of_a_double_surname():
    assert transliterate("ШЕВЧЕНКО") == "SHEVCHENKO"
    assert transliterate("Яременко-Юрченко") == "Yaremenko-Yurchenko"
    assert transliterate("Дем’яненко") == "Demianenko"


@pytest.mark.parametrize(("typed", "on_record"), [
    ("Demianenko", "Дем'яненко"), ("DEMIANENKO", "Дем’яненко"), ("shevchenko ", "Шевченко"),
    ("Yizhakevych", "Їжакевич"), ("Zghurskyi", "Згурський"), ("Yaremenko Yurchenko", "Яременко-Юрченко"),
    ("Yaremenko-Yurchenko", "Яременко-Юрченко"),
])
def test_surname_in_the_official_transliteration_matches(typed, on_record):
    assert surname_matches(typed, on_record)


@pytest.mark.parametrize(("typed", "on_record"), [
    ("Demyanenko", "Дем'яненко"),   # Russian-style я: a second spelling would be a second guess for free
    ("Demjanenko", "Дем'яненко"),
    ("Izhakevych", "Їжакевич"),     # ї at the start of a word is "yi"
    ("Zhurskyi", "Згурський"),      # зг is "zgh", never "zh"
    ("Schevchenko", "Шевченко"),
    ("Shevchenko", "Шевчук"),
])
def test_other_latin_spellings_do_not_match(typed, on_record):
    assert surname_matches(typed, on_record) is False


@pytest.mark.parametrize(("typed", "answer"), [
    ("так", True), ("Так!", True), ("YES", True), ("yes.", True), ("Да", True), ("погоджуюсь", True),
    ("Погоджуюсь.", True), ("I agree", True),
    ("ні", False), ("Ні.", False), ("NO", False), ("no!", False), ("нет", False), ("Не погоджуюсь", False),
    ("не  погоджуюсь!", False), ("I do not agree", False), ("i don’t agree.", False), ("Не согласен", False),
    ("може", None), ("yes no", None), ("", None), ("1", None), ("not", None),
])
def test_consent_typed_as_a_word(typed, answer):
    assert consent_answer(typed) is answer


def test_every_consent_button_label_is_understood_typed():
    translator = Translator("uk")
    for language in LANGUAGES:
        assert consent_answer(translator(language, "consent-yes")) is True, language
        assert consent_answer(translator(language, "consent-no")) is False, language
