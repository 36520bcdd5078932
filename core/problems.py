"""Validation problems: what is wrong with some input, and where.

Every validator (the integration document, run messages and parameters, datasets, metrics, evaluations, saved
prompts) reports a list of Problems and raises Invalid with all of them; the API answers them as 422
`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` (api/exception_handlers.py) and the pages show each next to
its field.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem: `loc` is the path to the value (keys and list indexes, e.g. ("model_properties", 1, "based_on")),
    `message` a sentence saying what is wrong and what to do, `type` a short machine-readable kind."""

    loc: tuple[str | int, ...]
    message: str
    type: str = "value_error"

    @property
    def path(self) -> str:
        """`loc` as people write it: model_properties[1].based_on, or (document) for the whole input."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text or "(document)"

    def as_dict(self) -> dict:
        return {"path": self.path, "loc": list(self.loc), "message": self.message, "type": self.type}


class Invalid(Exception):
    """Raised with every Problem found (never only the first)."""

    def __init__(self, errors: list[Problem]):
        super().__init__(f"{len(errors)} problem(s) in the input")
        self.errors = errors
