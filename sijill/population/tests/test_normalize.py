import pytest

from sijill.population import normalize


@pytest.mark.parametrize("variant", ["Mohammed", "Mohamed", "Mhamed", "Mouhamad", "MOHAMMED"])
def test_moroccan_spellings_of_mohammed_share_one_key(variant):
    assert normalize.latin_key(variant) == normalize.latin_key("Mohammed")


@pytest.mark.parametrize("variant", ["El Amrani", "Elamrani", "Al-Amrani", "Amrani", "EL AMRANI"])
def test_the_article_el_or_al_does_not_change_the_family_key(variant):
    assert normalize.latin_key(variant) == normalize.latin_key("Amrani")


def test_assimilated_article_and_accents_are_folded():
    assert normalize.latin_key("Ettazi") == normalize.latin_key("Tazi")
    assert normalize.latin_key("Aït Taleb") == normalize.latin_key("Ait Taleb")
    assert normalize.latin_key("Youcef") == normalize.latin_key("Youssef")


@pytest.mark.parametrize(("written", "canonical"), [
    ("مُحَمَّد", "محمد"),          # diacritics
    ("أحمد", "احمد"),             # hamza on alef
    ("إدريس", "ادريس"),           # hamza under alef
    ("فاطمة", "فاطمه"),           # ta marbuta
    ("مصطفى", "مصطفي"),           # alef maqsura
    ("عبـــد", "عبد"),             # tatweel
])
def test_arabic_spelling_variants_are_unified(written, canonical):
    assert normalize.arabic(written) == canonical


def test_the_arabic_article_is_dropped_from_the_family_key():
    assert normalize.arabic_key("العمراني") == normalize.arabic_key("عمراني")


def test_script_checks_tell_arabic_from_latin():
    assert normalize.ARABIC_NAME.match("عبد الله")
    assert not normalize.ARABIC_NAME.match("Abdallah")
    assert not normalize.ARABIC_NAME.match("عبد Allah")
    assert normalize.LATIN_NAME.match("Aït-Ben Haddou")
    assert not normalize.LATIN_NAME.match("محمد")
