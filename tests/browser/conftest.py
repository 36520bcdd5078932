"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against pytest-django's live_server.

Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

import os
import threading
import time
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


class ConnectionCountingWSGIServer(ThreadedWSGIServer):
    """The live server, counting the connections it is serving.

    A page sends requests of its own after a test's last step (the Playground saves its draft on `pagehide`, with
    `keepalive`, when the context closes). One still being served when pytest-django flushes the database blocks the
    flush, and its thread then writes into the next test's data. The page fixture waits for this count to reach zero.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_connections = 0
        self.changed = threading.Condition()

    def process_request(self, request, client_address):
        with self.changed:
            self.open_connections += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connection_done()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connection_done()

    def _connection_done(self):
        with self.changed:
            self.open_connections -= 1
            self.changed.notify_all()

    def wait_until_idle(self, *, quiet: float = 0.3, timeout: float = 15.0) -> bool:
        """Wait until no connection has been open for `quiet` seconds (False if `timeout` seconds pass first)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if self.open_connections == 0:
                    # Quiet for a while: a request the browser sent as it closed may still be on its way.
                    if not self.changed.wait(min(quiet, remaining)) and self.open_connections == 0:
                        return True
                else:
                    self.changed.wait(remaining)


# pytest-django's live_server is one LiveServerThread per session, created after every conftest is imported.
LiveServerThread.server_class = ConnectionCountingWSGIServer


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module.

    The sync Playwright API keeps an event loop in this thread, so Django's ORM
    (called from test bodies and fixtures) must be told that this is safe, but
    only while the browser is open: the variable must not leak into other tests
    (nor into the subprocesses they start, such as `check --deploy`).
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A script or style the Content-Security-Policy blocks is reported on the console only.
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    yield page
    if not page.is_closed():
        page.goto("about:blank")  # the page's own last requests (a draft saved on pagehide) go out now
    context.close()
    server = getattr(live_server.thread, "httpd", None)
    if isinstance(server, ConnectionCountingWSGIServer):
        assert server.wait_until_idle(), "the live server was still serving a request 15 s after the page closed"
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top of a full-page shot
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/settings/integrations")


def requests_to(page, path_part: str) -> list:
    """Every request the page makes whose URL contains path_part, as it is sent."""
    seen = []
    page.on("request", lambda request: seen.append(request) if path_part in request.url else None)
    return seen
