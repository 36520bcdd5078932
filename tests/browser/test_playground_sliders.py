"""A number parameter left empty is not sent, and its slider shows no value then (Chromium)."""

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from tests.browser.conftest import log_in
from tests.factories import UserFactory, make_integration

pytestmark = pytest.mark.browser

# Unset, the slider is drawn as a bare track (appearance: none, its thumb transparent); set, as Chromium's slider.
APPEARANCE = "(el) => getComputedStyle(el).appearance"


def test_an_empty_fields_slider_shows_no_value_until_one_is_chosen(page, live_server, org):
    admin = UserFactory(username="ada", organization=org, role=Role.ADMIN)
    make_integration(organization=org, user=admin, name="portkey")
    log_in(page, "ada")
    page.goto("/playground")
    page.locator("[data-params-details] summary").first.click()
    slider = page.get_by_label("Temperature slider")
    field = page.get_by_label("Temperature", exact=True)

    expect(field).to_have_value("")
    expect(slider).to_have_class("is-unset")
    expect(slider).to_have_attribute("aria-valuetext", "default (not sent)")
    assert slider.evaluate(APPEARANCE) == "none"

    field.fill("0.7")
    expect(slider).not_to_have_class("is-unset")
    expect(slider).to_have_value("0.7")
    assert slider.evaluate(APPEARANCE) == "auto"

    field.fill("")
    expect(slider).to_have_class("is-unset")
