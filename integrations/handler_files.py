"""Where a custom handler's file is (DESIGN.md §4): a bare `*.py` name inside GALILEO_CUSTOM_LLMS_DIRECTORY.

Checked when a document is saved (integrations.services) and again by the runner that loads the file
(runners.custom_handlers), since the directory may change in between or be visible to the workers only.
"""

from pathlib import Path

from django.conf import settings

from integrations.document import HANDLER_FILE_RE


class HandlerConfigError(Exception):
    """A handler that cannot be used; the message is safe to show."""


def resolve_handler_path(file_name: str) -> Path:
    """The handler file for a bare *.py name, refusing anything outside the directory (HandlerConfigError)."""
    if not settings.GALILEO_CUSTOM_LLMS_ENABLED:
        raise HandlerConfigError(
            "Custom handlers are disabled on this deployment (set GALILEO_CUSTOM_LLMS_ENABLED=true)."
        )
    if not HANDLER_FILE_RE.match(file_name) or ".." in file_name:
        raise HandlerConfigError("file_name must be a bare file name ending in .py (no folders).")
    directory = Path(settings.GALILEO_CUSTOM_LLMS_DIRECTORY).resolve()
    path = directory / file_name
    if not path.is_file():
        raise HandlerConfigError(f'"{file_name}" was not found in the custom handlers directory.')
    resolved = path.resolve()
    if resolved.parent != directory:
        raise HandlerConfigError(f'"{file_name}" links outside the custom handlers directory.')
    return resolved
