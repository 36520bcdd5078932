"""The metrics page's form for a code metric: the check, its reference (a column or a constant) and its options."""

import json

from django import forms

from evaluations.code_metrics import CHECKS
from evaluations.forms import OnceForm

# Which options each check takes (code_config_clean refuses the others).
CHECK_OPTIONS = {
    "exact_match": ("ignore_case", "ignore_whitespace"),
    "contains": ("ignore_case", "ignore_whitespace"),
    "regex": ("ignore_case", "match"),
    "valid_json": (),
    "json_schema": (),
    "numeric_close": ("abs_tol", "rel_tol", "score"),
}


class CodeMetricForm(OnceForm):
    name = forms.CharField(label="Check name", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    check = forms.ChoiceField(label="Check", choices=list(CHECKS.items()))
    column = forms.CharField(
        label="Reference column",
        required=False,
        help_text="A dataset column to compare with, such as expected (a dotted path reads into a JSONL object); "
        "or leave empty and give a constant.",
    )
    value = forms.CharField(
        label="Or a constant",
        required=False,
        strip=False,
        help_text="The expected text, the regular expression (Python syntax), the JSON schema, or the number.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
    )
    ignore_case = forms.BooleanField(label="Ignore case", required=False)
    ignore_whitespace = forms.BooleanField(
        label="Ignore surrounding and repeated whitespace", required=False, help_text="Exact match and contains."
    )
    match = forms.ChoiceField(
        label="Regular expression must match",
        choices=[("search", "anywhere in the output"), ("full", "the whole output")],
        required=False,
    )
    abs_tol = forms.FloatField(label="Absolute tolerance", required=False, min_value=0, help_text="Numeric closeness.")
    rel_tol = forms.FloatField(label="Relative tolerance", required=False, min_value=0, help_text="Numeric closeness.")
    score = forms.ChoiceField(
        label="Numeric score",
        choices=[("pass", "1 when close, else 0"), ("distance", "1 - |output - reference| / max(|reference|, 1)")],
        required=False,
    )

    def field_for(self, loc: tuple) -> str | None:
        """A service problem at ("code", "reference", "value") goes on `value`, ("code", "abs_tol") on `abs_tol`."""
        for part in reversed(loc):
            if part == "reference":
                return "column"
            if isinstance(part, str) and part in self.fields:
                return part
        return None

    def code(self) -> dict:
        """The check as metric_create takes it: only the options of the chosen check, the reference if given."""
        data = self.cleaned_data
        check = data["check"]
        config: dict = {"check": check}
        if check != "valid_json":
            if data["column"].strip():
                config["reference"] = {"column": data["column"].strip()}
            elif data["value"]:
                config["reference"] = {"value": data["value"]}
            else:
                config["reference"] = None
        for option in CHECK_OPTIONS[check]:
            value = data.get(option)
            if value not in (None, ""):
                config[option] = value
        return config


def code_form_initial(metric) -> dict:
    """The form's initial values for a code metric's check (its edit page)."""
    config = dict(metric.code)
    reference = config.pop("reference", None) or {}
    value = reference.get("value", "")
    if not isinstance(value, str):
        value = json.dumps(value)
    return {"name": metric.name, "column": reference.get("column", ""), "value": value, **config}
