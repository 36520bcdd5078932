"""Settings > Integrations with a `tls` key: certificates with subject and expiry, a warning 30 days ahead, the key
never shown, and the Test button's words for a TLS failure (against a real server on 127.0.0.1)."""

import datetime
from html import unescape

import pytest
import trustme

from integrations.services import integration_upsert
from runners.execution import run_execute
from runners.models import Job
from tests.factories import api_key_document
from tests.fixtures.certificates import client_leaf, key_lines, now, tls_key
from tests.fixtures.servers import server_tls

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/integrations"


def page(client, url) -> str:
    return unescape(client.get(url).content.decode())


def save(org, admin_user, **document):
    return integration_upsert(organization=org, user=admin_user, name="secure", document=api_key_document(**document))


def test_the_settings_page_shows_subject_and_expiry_and_warns_30_days_ahead(admin_client, org, admin_user):
    ca = trustme.CA()
    soon = client_leaf(ca, "expiring@example.test", not_after=now() + datetime.timedelta(days=12))
    save(org, admin_user, tls=tls_key(ca=ca, client=soon))

    text = page(admin_client, SETTINGS)

    assert "CN=expiring@example.test" in text
    assert "expires in 12 days: renew it" in text
    assert f"valid until {(now() + datetime.timedelta(days=12)):%Y-%m-%d}" in text
    assert "O=trustme" in text  # the CA's subject too
    assert text.count("tls-expiry-warning") == 1  # the CA itself is valid for years
    assert all(line not in text for line in key_lines(soon))


def test_a_certificate_valid_for_long_gets_no_warning(admin_client, org, admin_user):
    ca = trustme.CA()
    save(org, admin_user, tls=tls_key(ca=ca, client=client_leaf(ca, "steady@example.test")))

    text = page(admin_client, SETTINGS)

    assert "CN=steady@example.test" in text and "tls-expiry-warning" not in text


def test_the_editor_shows_the_key_as_the_placeholder(admin_client, org, admin_user):
    ca = trustme.CA()
    client = client_leaf(ca)
    save(org, admin_user, tls=tls_key(ca=ca, client=client))

    text = page(admin_client, "/settings/integrations/custom/secure/edit")

    assert '"client_key": "********"' in text
    assert all(line not in text for line in key_lines(client))


def test_the_test_button_reports_a_refused_client_certificate_in_words(
    admin_client, org, admin_user, https_servers, settings
):
    settings.RUNNERS_MAX_RETRIES = 0
    server_ca, client_ca = trustme.CA(), trustme.CA()
    server = https_servers.openai(server_tls(server_ca, client_ca=client_ca))
    save(org, admin_user, endpoint=server.url, tls=tls_key(ca=server_ca))

    location = admin_client.post("/settings/integrations/custom/secure/test")["Location"]
    for run in Job.objects.get(kind=Job.Kind.TEST).runs.all():
        run_execute(run_id=str(run.pk))
    text = page(admin_client, location)

    assert "requires a client certificate" in text
    assert '"client_certificate": "...", "client_key": "..."' in text


def test_the_test_button_reports_an_unknown_ca_in_words(admin_client, org, admin_user, https_servers, settings):
    settings.RUNNERS_MAX_RETRIES = 0
    server = https_servers.openai(server_tls(trustme.CA()))
    save(org, admin_user, endpoint=server.url)

    location = admin_client.post("/settings/integrations/custom/secure/test")["Location"]
    for run in Job.objects.get(kind=Job.Kind.TEST).runs.all():
        run_execute(run_id=str(run.pk))
    text = page(admin_client, location)

    assert "is not signed by a CA the runners trust" in text
    assert "paste that CA's certificate (PEM)" in text
