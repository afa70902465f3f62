"""Forms of the citizen portal. Declaration fields are built from the declaration contract
(sijill.declaration) so the form never drifts from what the households service accepts; labels
come from the households models' verbose names and the vocabulary's labels (shared catalog)."""

from __future__ import annotations

from dataclasses import fields as dc_fields
from datetime import date
from enum import StrEnum
from typing import Any, cast

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sijill.declaration import vocab
from sijill.declaration.model import HouseholdData, MemberData
from sijill.households.models import RANGES, DeclarationVersion, MemberDeclaration

_label = lazy(gettext, str)

DWELLING_FIELDS = ("dwelling_type", "rooms", "has_bathroom_or_shower", "has_kitchen",
                   "has_toilet", "has_running_water", "electricity_meter", "cooking_fuel")
ASSET_FIELDS = tuple(f.name for f in dc_fields(HouseholdData) if f.name not in DWELLING_FIELDS)
MEMBER_FIELDS = tuple(f.name for f in dc_fields(MemberData) if f.name != "idcs")
_ENUMS: dict[str, type[StrEnum]] = {
    t.__name__: t for t in vocab.__dict__.values()
    if isinstance(t, type) and issubclass(t, StrEnum) and t is not StrEnum}


def vocab_label(kind: type[StrEnum], value: str) -> Any:
    """The translated label of `value` in enumeration `kind`."""
    member = kind(value)
    return _label(vocab.label(member))


def _choices(kind: type[StrEnum]) -> list[tuple[str, Any]]:
    return [(v.value, vocab_label(kind, v.value)) for v in kind]


def _field(model: Any, dc_field: Any) -> forms.Field:
    label = model._meta.get_field(dc_field.name).verbose_name
    kind = dc_field.type
    if kind == "bool":
        return forms.BooleanField(label=label, required=False)
    if kind == "int":
        low, high = RANGES.get(dc_field.name, (0, 9999))
        return forms.IntegerField(label=label, min_value=low, max_value=high, initial=0,
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    return forms.ChoiceField(label=label, choices=_choices(_ENUMS[kind]))


class IdcsForm(forms.Form):
    idcs = forms.CharField(
        label=_("Your IDCS"), max_length=20,
        help_text=_("The 10 digits of your digital civil and social identifier."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username",
                                      "pattern": "[0-9]{10}", "dir": "ltr"}))

    def clean_idcs(self) -> str:
        """The register's own words for a malformed IDCS (spaces typed between digits kept
        out), whatever its length."""
        from sijill.population import idcs as idcs_mod

        value = "".join(str(self.cleaned_data["idcs"]).split())
        if idcs_mod.problem(value) == "idcs_format":  # a mistyped one is told after sending
            raise forms.ValidationError(
                _("An IDCS has exactly 10 digits and does not start with 0."))
        return value


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code received by SMS"), min_length=6, max_length=6,
        help_text=_("6 digits, valid for 5 minutes."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": "[0-9]{6}", "dir": "ltr"}))


class PlaceForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune"))
    milieu = forms.ChoiceField(label=_("Milieu"), widget=forms.RadioSelect,
                               choices=_choices(vocab.Milieu))
    address = forms.CharField(label=_("Address of the dwelling"), max_length=300)
    notice_language = forms.ChoiceField(
        label=_("Language of the letters and SMS you receive"),
        choices=[("ar", _("Arabic")), ("fr", _("French")), ("en", _("English"))])

    def __init__(self, *args: Any, communes: list[tuple[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["commune"]).choices = [("", "—"), *communes]


class MemberRowForm(forms.Form):
    idcs = forms.CharField(label=_("IDCS"), min_length=10, max_length=10, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr",
                                                         "pattern": "[0-9]{10}"}))
    birth_date = forms.DateField(label=_("Birth date"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    moving = forms.BooleanField(label=_("Moving in from another registered household"),
                                required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        if bool(data.get("idcs")) != bool(data.get("birth_date")):
            raise forms.ValidationError(_("Give both the IDCS and the birth date, or neither."))
        return data


MemberRowFormSet = forms.formset_factory(MemberRowForm, extra=0, max_num=30)


class MemberDataForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for f in dc_fields(MemberData):
            if f.name != "idcs":
                self.fields[f.name] = _field(MemberDeclaration, f)


class DwellingForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for f in dc_fields(HouseholdData):
            if f.name in DWELLING_FIELDS:
                self.fields[f.name] = _field(DeclarationVersion, f)


class AssetsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for f in dc_fields(HouseholdData):
            if f.name in ASSET_FIELDS:
                self.fields[f.name] = _field(DeclarationVersion, f)


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


class ChangeForm(forms.Form):
    """What the update declares (cases.ChangeDeclaration.Kind), with an optional note."""

    kind = forms.ChoiceField(label=_("What changed?"))
    note = forms.CharField(label=_("Details (optional)"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from sijill.cases.models import ChangeDeclaration

        cast(forms.ChoiceField, self.fields["kind"]).choices = ChangeDeclaration.Kind.choices


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label=_("Why should the index be reviewed?"), max_length=2000,
        help_text=_("Say which data is wrong or has changed; a reviewer will check it."),
        widget=forms.Textarea(attrs={"rows": 5}))


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("About"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Your complaint"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        from sijill.cases.models import Complaint

        cast(forms.ChoiceField, self.fields["category"]).choices = Complaint.Category.choices
