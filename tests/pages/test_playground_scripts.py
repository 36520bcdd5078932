"""The Playground's scripts as the page loads them: no inline script (CSP), the page script before prompts.js (which
reads its window.Playground), and every module it imports preloaded at the URL the import resolves to."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

JS = Path(settings.BASE_DIR) / "static" / "js"
IMPORT_RE = re.compile(r'^import [^;]*? from "(\.{1,2}/[^"]+)";', re.MULTILINE | re.DOTALL)


def imported_modules(entry: Path) -> set[str]:
    """Every module `entry` imports, directly or not, as paths under static/js/."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        for target in IMPORT_RE.findall(module.read_text()):
            path = (module.parent / target).resolve()
            name = path.relative_to(JS).as_posix()
            if name not in seen:
                seen.add(name)
                todo.append(path)
    return seen


def test_every_imported_module_is_preloaded_and_nothing_else(admin_client, integration):
    page = admin_client.get("/playground").content.decode()
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/js/([^"]+)">', page)
    assert len(preloaded) == len(set(preloaded))
    assert set(preloaded) == imported_modules(JS / "playground.js")


def test_the_scripts_are_files_in_order_and_none_is_inline(admin_client, integration):
    page = admin_client.get("/playground").content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", page)
    sources = [re.search(r'src="([^"]+)"', attributes) for attributes in scripts]
    # The one script without a src is the page data: JSON, which the browser does not run.
    inline = [attributes for attributes, source in zip(scripts, sources, strict=True) if source is None]
    assert inline == [' id="playground-data" type="application/json"']
    ours = [source.group(1) for source in sources if source and "/static/js/" in source.group(1)]
    assert ours.index("/static/js/playground.js") < ours.index("/static/js/prompts.js")
    assert '<script type="module" src="/static/js/playground.js">' in page
    assert '<script src="/static/js/prompts.js" defer>' in page


def test_the_modules_exist_and_import_no_cycle():
    for name in imported_modules(JS / "playground.js"):
        assert (JS / name).is_file(), name
    for name in imported_modules(JS / "playground.js"):
        assert name not in imported_modules(JS / name), f"{name} imports itself through others"
