"""Small holes in the document's rules: a trailing newline slipping through "^...$" patterns (handler file names,
class names, header names), and host names written with dots that are not "." (IDNA maps U+3002, U+FF0E and U+FF61
to ".", so "169。254。169。254" would reach the metadata address): each refused at save with its path."""

import pytest

from core.problems import Invalid
from integrations.models import Integration
from tests.factories import make_integration
from tests.runners.conftest import provider_document


def refusal(org, document) -> list[tuple]:
    with pytest.raises(Invalid) as caught:
        make_integration(organization=org, document=document)
    assert not Integration.objects.exists()
    return [(error.loc, error.type) for error in caught.value.errors]


@pytest.mark.parametrize(
    ("config", "loc", "kind"),
    [
        ({"file_name": "handler.py\n", "class_name": "Handler"}, "file_name", "handler_file"),
        ({"file_name": "handler.py", "class_name": "Handler\n"}, "class_name", "handler_class"),
    ],
)
def test_a_trailing_newline_in_a_handler_setting_is_refused(org, settings, config, loc, kind):
    settings.GALILEO_CUSTOM_LLMS_ENABLED = True
    document = provider_document("https://api.example.com/v1", custom_llm_config=config)
    assert (("custom_llm_config", loc), kind) in refusal(org, document)


def test_a_trailing_newline_in_a_header_name_is_refused(org):
    document = provider_document("https://api.example.com/v1", headers={"X-Tenant\n": "acme"})
    assert refusal(org, document) == [(("headers", "X-Tenant\n"), "header_name")]


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"])
@pytest.mark.parametrize("field", ["endpoint", "oauth2_token_url"])
def test_a_host_name_with_a_non_ascii_dot_is_refused(org, dot, field):
    document = provider_document(
        "https://api.example.com/v1", auth="oauth2", token='{"client_id": "a", "client_secret": "b"}'
    )
    document[field] = f"http://169{dot}254{dot}169{dot}254/latest/meta-data"
    assert refusal(org, document) == [((field,), "url_invalid")]


def test_an_international_host_name_is_still_accepted(org):
    make_integration(organization=org, document=provider_document("https://bücher.example/v1"))
