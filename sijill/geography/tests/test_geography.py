import pytest

from sijill.geography.models import Commune, Province, Region
from sijill.geography.services import geography_load_from_package


@pytest.mark.django_db
def test_the_migration_loads_the_whole_kingdom():
    assert Region.objects.count() == 12
    assert Province.objects.count() == 83
    assert Commune.objects.count() == 1503


@pytest.mark.django_db
def test_rabat_is_an_urban_commune_of_its_prefecture_in_rabat_sale_kenitra():
    rabat = Commune.objects.select_related("province__region").get(code="04.421.01.0")
    assert rabat.name_ar == "الرباط"
    assert rabat.kind == "urban"
    assert rabat.province.region.code == "04"
    assert rabat.region_id == "04"


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    assert geography_load_from_package() == (12, 83, 1503)
    assert Commune.objects.count() == 1503
