"""Forms of the back office. They only shape input: the services validate and decide, and
their field errors (sijill.core.errors) are put back on the form fields here."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import modelform_factory
from django.utils.translation import gettext_lazy as _

from sijill.core.errors import SijillError
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.households.models import DeclarationVersion, Household, MemberDeclaration
from sijill.population.models import Person

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
IDCS_ATTRS = {"inputmode": "numeric", "pattern": "[0-9]{10}", "maxlength": "10",
              "autocomplete": "off", "dir": "ltr"}
LTR = {"dir": "ltr", "autocomplete": "off"}


def apply_errors(form: forms.BaseForm, error: SijillError,
                 aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors on the form's fields (unknown fields: on the form)."""
    aliases = aliases or {}
    if not error.fields:
        form.add_error(None, str(error.message))
        return
    for problem in error.fields:
        name = aliases.get(problem.field, problem.field)
        target = name if name in form.fields else None
        message = str(problem.message)
        if target is None and name != problem.field:
            message = f"{problem.field}: {message}"
        form.add_error(target, message)


class EnrolmentForm(forms.Form):
    basis = forms.ChoiceField(label=_("Enrolment on the basis of"), choices=Person.Basis.choices,
                              widget=forms.RadioSelect, initial=Person.Basis.DOCUMENT)
    first_name_ar = forms.CharField(label=_("First name in Arabic"), max_length=80,
                                    widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar",
                                                                  "autocomplete": "off"}))
    family_name_ar = forms.CharField(label=_("Family name in Arabic"), max_length=80,
                                     widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar",
                                                                   "autocomplete": "off"}))
    first_name_latin = forms.CharField(label=_("First name in Latin letters"), max_length=80,
                                       widget=forms.TextInput(attrs=LTR))
    family_name_latin = forms.CharField(label=_("Family name in Latin letters"), max_length=80,
                                        widget=forms.TextInput(attrs=LTR))
    sex = forms.ChoiceField(label=_("Sex"), choices=Person.Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_INPUT,
                                 help_text=_("Leave empty when only the year is known."))
    birth_year = forms.IntegerField(label=_("Birth year (only when the date is unknown)"),
                                    required=False, min_value=1890, max_value=9999)
    birth_place_commune = forms.CharField(
        label=_("Commune of birth (HCP code)"), required=False, max_length=12,
        widget=forms.TextInput(attrs={**LTR, "list": "communes"}),
        help_text=_("For example 04.421.01.0 for Rabat."))
    birth_place_abroad = forms.CharField(label=_("Place of birth abroad"), required=False,
                                         max_length=120)
    nationality = forms.CharField(label=_("Nationality (two-letter country code)"),
                                  initial="MA", min_length=2, max_length=2,
                                  widget=forms.TextInput(attrs={**LTR, "size": "3"}))
    residence_status = forms.ChoiceField(label=_("Residence status"),
                                         choices=Person.ResidenceStatus.choices,
                                         initial=Person.ResidenceStatus.CITIZEN)
    cnie = forms.CharField(label=_("CNIE number"), required=False, max_length=12,
                           widget=forms.TextInput(attrs=LTR))
    residence_card = forms.CharField(label=_("Residence card number"), required=False,
                                     max_length=24, widget=forms.TextInput(attrs=LTR))
    birth_certificate_ref = forms.CharField(label=_("Birth certificate reference"),
                                            required=False, max_length=40,
                                            widget=forms.TextInput(attrs=LTR))
    phone = forms.CharField(label=_("Mobile phone"), required=False, max_length=20,
                            widget=forms.TextInput(attrs={**LTR, "type": "tel",
                                                          "inputmode": "tel"}))
    mother_idcs = forms.CharField(label=_("Mother's IDCS"), required=False, max_length=10,
                                  widget=forms.TextInput(attrs=IDCS_ATTRS))
    father_idcs = forms.CharField(label=_("Father's IDCS"), required=False, max_length=10,
                                  widget=forms.TextInput(attrs=IDCS_ATTRS))
    witness_1 = forms.CharField(label=_("First witness's IDCS"), required=False, max_length=10,
                                widget=forms.TextInput(attrs=IDCS_ATTRS))
    witness_2 = forms.CharField(label=_("Second witness's IDCS"), required=False, max_length=10,
                                widget=forms.TextInput(attrs=IDCS_ATTRS))

    ERROR_ALIASES = {"witness_idcs.0": "witness_1", "witness_idcs.1": "witness_2",
                     "witness_idcs": "witness_1"}

    def enrolment_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        witnesses = [w.strip() for w in (d["witness_1"], d["witness_2"]) if w.strip()]
        return {
            "basis": d["basis"], "first_name_ar": d["first_name_ar"],
            "family_name_ar": d["family_name_ar"], "first_name_latin": d["first_name_latin"],
            "family_name_latin": d["family_name_latin"], "sex": d["sex"],
            "birth_date": d["birth_date"], "birth_year": d["birth_year"],
            "birth_place_commune": d["birth_place_commune"].strip() or None,
            "birth_place_abroad": d["birth_place_abroad"],
            "nationality": d["nationality"].upper(), "residence_status": d["residence_status"],
            "cnie": d["cnie"].strip() or None,
            "residence_card": d["residence_card"].strip() or None,
            "birth_certificate_ref": d["birth_certificate_ref"],
            "phone": d["phone"].strip() or None,
            "mother_idcs": d["mother_idcs"].strip() or None,
            "father_idcs": d["father_idcs"].strip() or None,
            "witness_idcs": witnesses, "channel": Person.Channel.CENTRE,
        }


class HeldDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your decision"), widget=forms.RadioSelect,
        choices=[("same_person", _("Same person as the chosen candidate: no new IDCS")),
                 ("new_person", _("A different person: issue a new IDCS")),
                 ("reject", _("Reject the enrolment"))])
    same_as_idcs = forms.ChoiceField(label=_("Candidate who is the same person"),
                                     required=False, widget=forms.RadioSelect, choices=[])
    reason = forms.CharField(label=_("Reason (kept with the decision)"), required=False,
                             max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, candidates: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["same_as_idcs"]).choices = [(c, c) for c in candidates]


_BOOLEAN_SELECT = [("false", _("No")), ("true", _("Yes"))]


def _boolean_as_choice(field: Any, **kwargs: Any) -> forms.Field:
    """Yes / no as two radio buttons (a bare checkbox cannot say "not answered")."""
    if field.get_internal_type() == "BooleanField":
        return forms.TypedChoiceField(label=field.verbose_name, choices=_BOOLEAN_SELECT,
                                      coerce=lambda v: v == "true", widget=forms.RadioSelect,
                                      initial="false")
    return field.formfield(**kwargs)


HouseholdDataForm = modelform_factory(DeclarationVersion, fields=HOUSEHOLD_FIELDS,
                                      formfield_callback=_boolean_as_choice)

_MEMBER_MODEL_FIELDS = tuple(f for f in MEMBER_FIELDS if f != "idcs")
_MemberBase = modelform_factory(MemberDeclaration, fields=_MEMBER_MODEL_FIELDS,
                                formfield_callback=_boolean_as_choice)


class MemberForm(_MemberBase):  # type: ignore[misc, valid-type]
    idcs = forms.CharField(label=_("IDCS"), max_length=10, widget=forms.TextInput(attrs=IDCS_ATTRS))
    moving = forms.BooleanField(
        label=_("Moves here from another household"), required=False)

    field_order = ["idcs", *_MEMBER_MODEL_FIELDS, "moving"]

    def record(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] if name != "idcs"
                else self.cleaned_data["idcs"].strip() for name in MEMBER_FIELDS}


MemberFormSet = forms.formset_factory(MemberForm, extra=0, min_num=1, validate_min=True,
                                      max_num=30, validate_max=True)


class HouseholdPlaceForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune of residence"), choices=[])
    milieu = forms.ChoiceField(label=_("Milieu"),
                               # enum_field always sets choices (never None)
                               choices=cast(list[tuple[str, Any]],
                                            Household._meta.get_field("milieu").choices),
                               widget=forms.RadioSelect)
    address = forms.CharField(label=_("Address of the dwelling"), max_length=300)
    declarant_idcs = forms.CharField(label=_("IDCS of the declarant (an adult member)"),
                                     max_length=10, widget=forms.TextInput(attrs=IDCS_ATTRS))
    notice_language = forms.ChoiceField(label=_("Language of the notices"),
                                        choices=Household.Language.choices, initial="ar")

    def __init__(self, *args: Any, communes: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["commune"]).choices = [("", "—"), *communes]


class ClusterDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Your decision"), widget=forms.RadioSelect,
                                 choices=[("merge", _("Merge: one IDCS survives, the others "
                                                      "are retired into it")),
                                          ("distinct", _("Different people: never propose "
                                                         "them again"))])
    survivor_idcs = forms.ChoiceField(label=_("IDCS that survives (empty: chosen by rule)"),
                                      required=False, choices=[])
    reason = forms.CharField(label=_("Reason (kept with the decision)"), required=False,
                             max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, members: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["survivor_idcs"]).choices = [
            ("", "—"), *[(m, m) for m in members]]


class ImpactForm(forms.Form):
    comparison = forms.ChoiceField(label=_("Eligible when the index is"),
                                   choices=[("<", _("below the threshold (<)")),
                                            ("<=", _("at or below the threshold (≤)"))])


class SimulatorForm(forms.Form):
    threshold = forms.FloatField(label=_("Threshold"), required=False, min_value=0,
                                 max_value=30, widget=forms.NumberInput(attrs={"step": "0.0001",
                                                                               "dir": "ltr"}))
    budget = forms.IntegerField(label=_("Or a monthly budget (DH): find its threshold"),
                                required=False, min_value=0,
                                widget=forms.NumberInput(attrs={"dir": "ltr"}))
    comparison = forms.ChoiceField(label=_("Eligible when the index is"), required=False,
                                   choices=[("", _("the program's rule")),
                                            ("<", _("below the threshold (<)")),
                                            ("<=", _("at or below the threshold (≤)"))])


class DiscrepancyDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your decision"), widget=forms.RadioSelect,
        choices=[("confirm", _("Confirm: the partner's value counts")),
                 ("dismiss", _("Dismiss: the declared value counts again (the household is "
                               "rescored)"))])
    note = forms.CharField(label=_("Note (required to dismiss)"), required=False,
                           max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewEvidenceForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    document_reference = forms.CharField(label=_("Reference of a document (scan, file)"),
                                         required=False, max_length=200)


class ReviewDecisionForm(forms.Form):
    note = forms.CharField(label=_("Decision and its reasons (sent to the household)"),
                           max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintAnswerForm(forms.Form):
    response = forms.CharField(label=_("Answer to the complainant"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 4}))


class PersonSearchForm(forms.Form):
    cnie = forms.CharField(label=_("CNIE or residence card number"), required=False,
                           max_length=24, widget=forms.TextInput(attrs=LTR))
    first_name_latin = forms.CharField(label=_("First name in Latin letters"), required=False,
                                       max_length=80, widget=forms.TextInput(attrs=LTR))
    family_name_latin = forms.CharField(label=_("Family name in Latin letters"),
                                        required=False, max_length=80,
                                        widget=forms.TextInput(attrs=LTR))
    family_name_ar = forms.CharField(label=_("Family name in Arabic"), required=False,
                                     max_length=80,
                                     widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar",
                                                                   "autocomplete": "off"}))
    sex = forms.ChoiceField(label=_("Sex"), required=False,
                            choices=[("", "—"), *Person.Sex.choices])
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DATE_INPUT)


class ActivateForm(forms.Form):
    understood = forms.BooleanField(
        label=_("I understand: every other version is retired and the whole registry is "
                "rescored with this one."))
