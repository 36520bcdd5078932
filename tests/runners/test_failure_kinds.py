"""Failure kinds are one enumeration, used by every runner module, and the README's fault table documents each."""

import ast
import re
from pathlib import Path

import pytest

from runners.failures import FailureKind
from runners.transport import TransportError

BASE_DIR = Path(__file__).resolve().parents[2]
FAULT_TABLE_HEADER = "| fault | status | error_type | attempts |"


def documented_kinds() -> set[str]:
    """The error_type column of the fault table in README's "Fault tolerance and security"."""
    readme = (BASE_DIR / "README.md").read_text()
    section = readme.split("## Fault tolerance and security", 1)[1].split("\n## ", 1)[0]
    table = section.split(FAULT_TABLE_HEADER, 1)[1].strip().splitlines()[1:]  # after the header's separator row
    kinds = set()
    for row in table:
        if not row.startswith("|"):
            break
        error_types = row.strip("|").split("|")[2]
        kinds.update(kind.strip() for kind in error_types.split("/") if kind.strip())
    return kinds


def test_the_readme_documents_every_failure_kind_and_no_other():
    documented = documented_kinds()

    assert documented - set(FailureKind.values) == set(), "documented in README but not a FailureKind"
    assert set(FailureKind.values) - documented == set(), "a FailureKind missing from README's fault table"


def test_failure_kinds_keep_the_strings_runs_store():
    # Run.error_type and the API's error.type keep these values: renaming one is an API change.
    assert FailureKind.TIMEOUT == "timeout"
    assert FailureKind("token_endpoint_error") is FailureKind.TOKEN_ENDPOINT_ERROR
    assert all(re.fullmatch(r"[a-z_]+", kind) for kind in FailureKind.values)


def test_no_runner_module_names_a_failure_kind_as_a_bare_string():
    bare = []
    for path in sorted((BASE_DIR / "runners").glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            keywords = node.keywords if isinstance(node, ast.Call) else []
            for keyword in keywords:
                if keyword.arg == "error_type" and isinstance(keyword.value, ast.Constant) and keyword.value.value:
                    bare.append(f"{path.relative_to(BASE_DIR)}:{node.lineno}")
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Constant) and side.value in FailureKind.values
                for side in [node.left, *node.comparators]
            ):
                bare.append(f"{path.relative_to(BASE_DIR)}:{node.lineno}")

    assert bare == []


def test_a_failure_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="not_a_kind"):
        TransportError("message", permanent=True, error_type="not_a_kind")
