import json

from django import forms

from core.problems import Invalid
from integrations.models import Integration
from integrations.services import (
    IntegrationChanged,
    IntegrationInUse,
    integration_document,
    integration_upsert,
    integration_version,
)
from organizations.models import Organization

STARTER_DOCUMENT = {
    "authentication_type": "api_key",
    "api_key_header": "Authorization",
    "api_key_value": "Bearer YOUR_TOKEN",
    "model_properties": [{"name": "provider-model-name", "alias": "My Model", "based_on": "gpt-4.1"}],
    "endpoint": "https://YOUR_PROVIDER_BASE_URL/v1",
}


class IntegrationDocumentForm(forms.ModelForm):
    """A name and the pasted JSON document, validated and saved by integration_upsert.

    The upsert runs in clean() so that its errors (with their paths) show on the
    form; it writes nothing unless the whole document is valid, and callers run
    it inside their request transaction.
    """

    document = forms.CharField(
        label="Integration JSON",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false", "class": "json-editor"}),
    )
    # The version of the integration the document was loaded from: a save over a newer one is refused.
    version = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    # Set by the "Save anyway" button shown when the document renames or removes models that are in use.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Integration
        fields = ["organization", "name"]

    def __init__(self, *args, user=None, organization: Organization | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.document_errors = []
        # What the document would break (integrations.dependents.Dependent) when it drops aliases in use.
        self.dependents = []
        if organization is not None:
            self.fields.pop("organization")
            self.fixed_organization = organization
        else:
            self.fixed_organization = None
        if self.instance.pk:
            self.fields["name"].disabled = True
            if "organization" in self.fields:
                self.fields["organization"].disabled = True
            self.initial["document"] = json.dumps(integration_document(integration=self.instance), indent=2)
            self.initial["version"] = integration_version(integration=self.instance)
        else:
            self.initial.setdefault("name", "custom")
            self.initial.setdefault("document", json.dumps(STARTER_DOCUMENT, indent=2))

    def clean_name(self):
        name = self.cleaned_data["name"]
        organization = self.fixed_organization or self.cleaned_data.get("organization")
        if not self.instance.pk and Integration.objects.filter(organization=organization, name=name).exists():
            # Adding must never replace an integration the user may not be allowed to change.
            raise forms.ValidationError(f'An integration named "{name}" already exists; pick another name or edit it.')
        return name

    def clean(self):
        cleaned = super().clean()
        stored_organization = self.instance.organization if self.instance.organization_id else None
        organization = self.fixed_organization or cleaned.get("organization") or stored_organization
        name = cleaned.get("name") or self.instance.name
        if not organization or not name or "document" not in cleaned:
            return cleaned
        version = cleaned.get("version")
        try:
            self.instance = integration_upsert(
                organization=organization,
                user=self.user,
                name=name,
                document=cleaned["document"],
                if_match=[version] if version and self.instance.pk else None,
                confirm=bool(cleaned.get("confirm")),
            )
        except IntegrationInUse as exc:
            # Not a problem in the document: the page lists the dependents and offers to save anyway.
            self.dependents = exc.dependents
            self.add_error("document", str(exc))
        except IntegrationChanged:
            message = (
                "Someone else saved this integration after you opened it; saving now would overwrite their change. "
                "Copy your edits, reload the page to see the current version, and apply them to it."
            )
            self.document_errors = [{"path": "(document)", "loc": [], "message": message, "type": "conflict"}]
            self.add_error("document", message)
        except Invalid as exc:
            self.document_errors = [error.as_dict() for error in exc.errors]
            for error in exc.errors:
                target = "name" if error.loc == ("name",) else "document"
                self.add_error(target, f"{error.path}: {error.message}" if target == "document" else error.message)
        return cleaned

    def validate_unique(self):
        # Uniqueness is part of the document validation in integration_upsert.
        pass

    def save(self, commit=True):
        return self.instance
