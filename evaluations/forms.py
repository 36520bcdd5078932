"""The evaluation pages' forms: a dataset upload, a metric, a new evaluation.

Forms check what HTML input can get wrong (types, JSON, file size) and carry labels, help texts and errors;
the services check the rest and raise Invalid, whose errors `add_problems` puts on the field they are about
(by their path) and in the summary above the form.
"""

import uuid
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.safestring import mark_safe

from core import strict_json
from core.problems import Invalid
from evaluations.datasets import FORMATS, MAX_BYTES, MAX_ROWS
from evaluations.judging import DEFAULT_JUDGE_PROMPT
from evaluations.models import Dataset, Metric
from evaluations.services.metrics import MAX_JUDGES
from runners.parameter_specs import parameter_from_text, parameter_specs

JSON_PLACEHOLDER = '{"temperature": 0}'


def _variable(name: str) -> str:
    return "<code>{{" + name + "}}</code>"


class ProblemsForm(forms.Form):
    """A form that also shows the problems a service found, each on its field and in the summary."""

    # The first element of an error's path -> the field it is shown on (else above the form only).
    problem_fields: dict[str, str] = {}

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")  # labels as the pages always wrote them: "Prompt", not "Prompt:"
        super().__init__(*args, **kwargs)
        self.problems: list[dict] = []

    def field_for(self, loc: tuple) -> str | None:
        head = str(loc[0]) if loc else ""
        name = self.problem_fields.get(head, head)
        return name if name in self.fields else None

    def add_problems(self, exc: Invalid) -> None:
        for error in exc.errors:
            self.problems.append(error.as_dict())
            field = self.field_for(error.loc)
            if field is None or error.message not in self.errors.get(field, []):
                self.add_error(field, error.message)

    def summary(self) -> list[dict[str, str]]:
        """[{"path", "message"}] of every problem: the service's (with their paths), or the form's own."""
        if self.problems:
            return self.problems
        return [
            {"path": "" if name == NON_FIELD_ERRORS else name, "message": message}
            for name, messages in self.errors.items()
            for message in messages
        ]


class OnceForm(ProblemsForm):
    """A form that creates something once: a token made when the form is shown is sent back with it, so that a
    second submit of the same form (a double click, a reload that re-posts) finds what the first one created
    (the services' *_create_once)."""

    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


class DatasetForm(ProblemsForm):
    name = forms.CharField(
        label="Name",
        required=False,
        help_text="Defaults to the file's name.",
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    file = forms.FileField(
        label="Dataset file",
        required=False,
        help_text=(
            "CSV with a header row, or JSONL with one JSON object per line. "
            f"UTF-8, at most {MAX_BYTES // 2**20} MB and {MAX_ROWS:,} rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,.json,text/csv,application/jsonl"}),
    )
    content = forms.CharField(
        label="Or paste CSV or JSONL",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "spellcheck": "false",
                "class": "mono",
                "placeholder": "question,expected\nWhat is the capital of France?,Paris",
            }
        ),
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("auto", "Detect from the file name or content"), *((name, name.upper()) for name in FORMATS)],
        initial="auto",
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_BYTES} bytes.")
        return upload

    def field_for(self, loc: tuple) -> str | None:
        # Problems in the data belong to whichever of the two inputs held it.
        if loc and loc[0] in ("rows", "columns", "file"):
            return "file" if self.files.get("file") else "content"
        return super().field_for(loc)


def _model_choices(groups: list[dict]) -> list:
    return [(group["integration"], [(model["alias"], model["alias"]) for model in group["models"]]) for group in groups]


class MetricForm(OnceForm):
    """An LLM judge: a new one (once per form token), or the next version of one (the token is unused)."""

    name = forms.CharField(label="Metric name", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    judge_model = forms.ChoiceField(
        label="Judge model",
        required=False,
        error_messages={"invalid_choice": "Pick the model that judges (any integration's model)."},
    )
    judges = forms.IntegerField(
        label="No. of judges",
        initial=1,
        min_value=1,
        max_value=MAX_JUDGES,
        help_text="How many times the judge scores each output; the metric is their mean.",
        error_messages={
            key: f"A whole number from 1 to {MAX_JUDGES}." for key in ("required", "invalid", "min_value", "max_value")
        },
        widget=forms.NumberInput(attrs={"step": 1}),
    )
    prompt = forms.CharField(
        label="Judge prompt",
        required=False,
        strip=False,
        initial=DEFAULT_JUDGE_PROMPT,
        help_text=mark_safe(  # noqa: S308 (a constant)
            f"{_variable('output')} is the answer being judged, {_variable('input')} the prompt that produced it, "
            f"and any dataset column (such as {_variable('expected')}) that row's value. The judge is always told "
            'to reply with <code>{"score": 0-1, "reason": "…"}</code>.'
        ),
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    parameters = forms.CharField(
        label="Judge parameters (JSON)",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": JSON_PLACEHOLDER, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args, groups: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["judge_model"].choices = [("", "Pick a model…"), *_model_choices(groups)]
        for name in ("name", "judge_model", "prompt"):
            self.fields[name].widget.attrs["required"] = True

    def clean_parameters(self) -> Any:
        text = self.cleaned_data["parameters"].strip()
        if not text:
            return None
        try:
            return strict_json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        except RecursionError:
            raise forms.ValidationError("Not valid JSON: nested too deeply.") from None


def _parameter_field(spec: dict, *, element_id: str) -> forms.Field:
    """The form field of one run parameter, typed as the Playground's panel shows it (runners.parameter_specs): a
    number (the template adds its slider), a select for a boolean or a choice, lines, or JSON. Its text is read by
    EvaluationForm.clean (parameter_from_text) and its range checked by the service."""
    kind = spec["kind"]
    attrs = {"id": element_id, "class": "param-input", "data-kind": kind, "data-param": spec["name"]}
    if kind in ("number", "integer"):
        step = 1 if kind == "integer" else spec["step"]
        inputmode = "numeric" if kind == "integer" else "decimal"
        number_attrs = {"min": spec["min"], "max": spec["max"], "step": step, "inputmode": inputmode}
        widget = forms.NumberInput(attrs={**attrs, **number_attrs, "placeholder": "default"})
    elif kind in ("boolean", "choice"):
        options = ["true", "false"] if kind == "boolean" else spec["options"]
        widget = forms.Select(attrs=attrs, choices=[("", "default"), *((option, option) for option in options)])
    else:
        placeholder = "one per line" if kind == "lines" else "JSON"
        rows = 2 if kind == "lines" else 3
        text_attrs = {"rows": rows, "spellcheck": "false", "placeholder": placeholder, "class": "param-input mono"}
        widget = forms.Textarea(attrs={**attrs, **text_attrs})
    return forms.CharField(label=spec["label"], required=False, strip=False, help_text=spec["help"], widget=widget)


class DatasetSelect(forms.Select):
    """Options carry their dataset's columns (data-columns), which the page shows as the prompt's variables."""

    def __init__(self, *args, columns: dict[str, list[str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.columns:
            option["attrs"] = {"data-columns": ", ".join(self.columns[str(value)]), **option["attrs"]}
        return option


class EvaluationForm(OnceForm):
    problem_fields = {"messages": "prompt"}

    name = forms.CharField(
        label="Evaluation name",
        required=False,
        help_text="Defaults to the dataset's name and the time.",
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )
    dataset = forms.ChoiceField(
        label="Dataset",
        required=False,
        error_messages={"invalid_choice": "Pick a dataset."},
        widget=DatasetSelect(attrs={"required": True, "aria-describedby": "dataset-columns"}),
    )
    prompt_version = forms.ChoiceField(
        label="Saved prompt",
        required=False,
        help_text="Take the messages (and parameters) of a saved prompt version instead of writing them below.",
        error_messages={"invalid_choice": "No such saved prompt version."},
    )
    system = forms.CharField(
        label="System message",
        required=False,
        strip=False,
        help_text="Optional.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    prompt = forms.CharField(
        label="Prompt",
        required=False,
        strip=False,
        help_text=mark_safe(  # noqa: S308 (a constant)
            f"The user message; {_variable('question')} takes each row's <code>question</code>."
        ),
        widget=forms.Textarea(attrs={"rows": 6, "required": True}),
    )
    models = forms.MultipleChoiceField(label="Models", required=False, widget=forms.CheckboxSelectMultiple)
    metrics = forms.MultipleChoiceField(
        label="Metrics",
        required=False,
        error_messages={"invalid_choice": "No such metric."},
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args,
        datasets: list[Dataset],
        groups: list[dict],
        metrics: list[Metric],
        prompt_versions: list[dict] = (),
        judge_missing: frozenset = frozenset(),
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Grouped by saved prompt (prompts.selectors.prompt_version_options), its versions newest first.
        self.fields["prompt_version"].choices = [
            ("", "None: write the prompt below"),
            *(
                (
                    prompt["prompt"],
                    [
                        (
                            version["id"],
                            f"{prompt['prompt']} · v{version['number']}"
                            + (f" ({', '.join(version['labels'])})" if version["labels"] else ""),
                        )
                        for version in prompt["versions"]
                    ],
                )
                for prompt in prompt_versions
            ),
        ]
        dataset_field = self.fields["dataset"]
        dataset_field.choices = [("", "Pick a dataset…")] + [
            (str(dataset.uuid), f"{dataset.name} v{dataset.version} ({dataset.row_count} rows)") for dataset in datasets
        ]
        dataset_field.widget.columns = {str(dataset.uuid): dataset.columns for dataset in datasets}
        self.fields["models"].choices = _model_choices(groups)
        self.fields["metrics"].choices = [(str(metric.uuid), metric.name) for metric in metrics]
        self.metric_objects = {str(metric.uuid): metric for metric in metrics}
        self.judge_missing = judge_missing  # metrics whose judge model is gone (evaluations.selectors)
        self.groups = groups
        # Per model, one typed field per parameter it supports (the Playground's controls, from the same specs).
        self.parameter_fields: dict[str, list[tuple[str, dict]]] = {}
        specs = parameter_specs()
        for index, model in enumerate(model for group in groups for model in group["models"]):
            fields = []
            for name, spec in specs.items():
                if name in model["supported_parameters"]:
                    # Named by alias (a stable name for scripts and tests); an id without the alias's spaces.
                    field_name = f"parameters:{model['alias']}:{name}"
                    self.fields[field_name] = _parameter_field(spec, element_id=f"param-{index + 1}-{name}")
                    fields.append((field_name, spec))
            self.parameter_fields[model["alias"]] = fields

    def field_for(self, loc: tuple) -> str | None:
        """A service problem at ("models", i, "parameters", name) goes on that model's field of that parameter."""
        if len(loc) >= 3 and loc[0] == "models" and loc[2] == "parameters":
            chosen = self.cleaned_data.get("models") or []
            if isinstance(loc[1], int) and loc[1] < len(chosen):
                fields = {spec["name"]: field for field, spec in self.parameter_fields.get(chosen[loc[1]], [])}
                return fields.get(loc[3]) if len(loc) >= 4 else None
        return super().field_for(loc)

    def clean_prompt(self) -> str:
        written = self.cleaned_data["prompt"].strip() or self.cleaned_data.get("system", "").strip()
        if self.cleaned_data.get("prompt_version"):
            if written:
                raise forms.ValidationError("Pick a saved prompt or write one, not both.")
        elif not self.cleaned_data["prompt"].strip():
            raise forms.ValidationError("Write the prompt, or pick a saved prompt.")
        return self.cleaned_data["prompt"]

    def clean(self) -> dict:
        data = super().clean()
        columns = []
        for alias in data.get("models") or []:
            parameters = {}
            for field, spec in self.parameter_fields[alias]:
                text = (data.get(field) or "").strip()
                if not text:
                    continue  # not set: not sent, the provider's default applies
                try:
                    parameters[spec["name"]] = parameter_from_text(spec, text)
                except ValueError as exc:
                    self.add_error(field, f"{alias}, {spec['label']}: {exc}")
            columns.append({"model": alias, "parameters": parameters})
        data["columns"] = columns
        return data

    def messages(self) -> list[dict] | None:
        """The chat messages the evaluation sends: the system message if given, then the prompt (None when they
        come from a saved prompt version)."""
        if self.cleaned_data.get("prompt_version"):
            return None
        messages = [{"role": "user", "content": self.cleaned_data["prompt"]}]
        if self.cleaned_data["system"].strip():
            messages.insert(0, {"role": "system", "content": self.cleaned_data["system"]})
        return messages

    def model_rows(self) -> list[dict]:
        """For the template: per integration, each model's checkbox and its typed parameter fields, each with
        its spec (kind, min, max, step for the slider)."""
        checkboxes = {str(widget.data["value"]): widget for widget in self["models"]}
        for fields in self.parameter_fields.values():
            for field, _ in fields:
                # Django would point at ids made from the field's name; these fields have ids of their own.
                element_id = self.fields[field].widget.attrs["id"]
                described = [f"{element_id}_helptext"] + ([f"{element_id}_error"] if self.errors.get(field) else [])
                self.fields[field].widget.attrs["aria-describedby"] = " ".join(described)
        return [
            {
                "integration": group["integration"],
                "models": [
                    {
                        "checkbox": checkboxes[model["alias"]],
                        "alias": model["alias"],
                        "parameters": [
                            {"field": self[field], "spec": spec}
                            for field, spec in self.parameter_fields[model["alias"]]
                        ],
                    }
                    for model in group["models"]
                ],
            }
            for group in self.groups
        ]

    def metric_rows(self) -> list[dict]:
        return [
            {
                "checkbox": widget,
                "metric": (metric := self.metric_objects[str(widget.data["value"])]),
                "judge_missing": metric.uuid in self.judge_missing,
            }
            for widget in self["metrics"]
        ]
