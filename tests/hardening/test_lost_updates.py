"""No lost updates: GET of an integration returns an ETag; a PUT with a stale If-Match answers 412 and writes nothing
(without If-Match it still saves, as in the vendor's API); the JSON editor page posts the version it loaded and shows a
conflict instead of overwriting a change saved meanwhile."""

import json
import re

import pytest
from django.test import Client

from integrations.models import Integration
from tests.api.conftest import client_for
from tests.runners.conftest import provider_document

PATHS = ["/api/v2/integrations/custom", "/api/v2/integrations/custom/custom"]


@pytest.fixture
def api(admin_user):
    return client_for(admin_user)


def put(api, path, document, **headers):
    return api.put(path, json.dumps(document), content_type="application/json", **headers)


def endpoint_stored():
    return Integration.objects.get(name="custom").endpoint


@pytest.mark.parametrize("path", PATHS)
def test_a_stale_if_match_is_refused_with_412_and_nothing_is_written(api, path):
    put(api, path, provider_document("https://a.example/v1"))
    read = api.get(path)
    etag = read["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)

    first = put(api, path, provider_document("https://b.example/v1"), HTTP_IF_MATCH=etag)  # another client
    second = put(api, path, provider_document("https://c.example/v1"), HTTP_IF_MATCH=etag)

    assert first.status_code == 200 and first["ETag"] != etag
    assert second.status_code == 412
    assert "changed since you read it" in second.json()["detail"]
    assert endpoint_stored() == "https://b.example/v1"
    assert api.get(path)["ETag"] == first["ETag"]


def test_a_put_without_if_match_still_saves(api):
    put(api, PATHS[1], provider_document("https://a.example/v1"))
    assert put(api, PATHS[1], provider_document("https://b.example/v1")).status_code == 200
    assert endpoint_stored() == "https://b.example/v1"


def test_the_current_etag_a_list_or_a_star_match(api):
    etag = put(api, PATHS[1], provider_document("https://a.example/v1"))["ETag"]
    listed = put(api, PATHS[1], provider_document("https://b.example/v1"), HTTP_IF_MATCH=f'"other", {etag}')
    assert listed.status_code == 200
    assert put(api, PATHS[1], provider_document("https://c.example/v1"), HTTP_IF_MATCH="*").status_code == 200
    weak = put(api, PATHS[1], provider_document("https://d.example/v1"), HTTP_IF_MATCH=f"W/{listed['ETag']}")
    assert weak.status_code == 412  # a write needs a strong match
    assert endpoint_stored() == "https://c.example/v1"


def test_if_match_on_an_integration_that_does_not_exist_is_412(api):
    assert put(api, PATHS[1], provider_document("https://a.example/v1"), HTTP_IF_MATCH="*").status_code == 412
    assert not Integration.objects.exists()


def test_the_editor_page_shows_a_conflict_instead_of_overwriting(admin_user, api):
    put(api, PATHS[1], provider_document("https://a.example/v1"))
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/settings/integrations/custom/custom/edit").content.decode()
    version = re.search(r'name="version" value="([0-9a-f]{20})"', page).group(1)
    document = re.search(r"<textarea[^>]*>([^<]*)</textarea>", page).group(1)

    put(api, PATHS[1], provider_document("https://b.example/v1"))  # a colleague saves meanwhile
    edited = document.replace("https://a.example/v1", "https://mine.example/v1").replace("&quot;", '"')
    answer = browser.post("/settings/integrations/custom/custom/edit", {"document": edited, "version": version})

    assert answer.status_code == 422
    assert "Someone else saved this integration after you opened it" in answer.content.decode()
    assert endpoint_stored() == "https://b.example/v1"
    # Reloaded, the page carries the new version, and saving works.
    fresh = re.search(
        r'name="version" value="([0-9a-f]{20})"',
        browser.get("/settings/integrations/custom/custom/edit").content.decode(),
    )
    saved = browser.post("/settings/integrations/custom/custom/edit", {"document": edited, "version": fresh.group(1)})
    assert saved.status_code == 302
    assert endpoint_stored() == "https://mine.example/v1"
