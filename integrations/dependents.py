"""What an integration's models serve elsewhere, so that deleting it can say what it would break first.

Integrations sit below the apps that refer to their models (by alias: a metric's judge model, a saved prompt
version's model), and must not import them. Those apps register a finder here in their AppConfig.ready
(dependents_finder_register); integration_dependents asks each.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

from integrations.models import Integration


@dataclass(frozen=True)
class Dependent:
    """One thing that stops working without the integration's models.

    `kind` is "metric" or "prompt"; `id` its public id; `detail` says which model it needs and how
    ('judge model "GPT 5.2"', 'v1, v3 on "GPT 5.2"'); `url` its page, or "" when it has none.
    """

    kind: str
    id: str
    name: str
    detail: str
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# finder(organization_id, aliases) -> the dependents that use one of these model aliases.
Finder = Callable[[int, list[str]], list[Dependent]]
_finders: dict[str, Finder] = {}


def dependents_finder_register(kind: str, finder: Finder) -> None:
    """Register (or replace) the finder of one kind of dependent; called from an app's ready()."""
    _finders[kind] = finder


def integration_dependents(*, integration: Integration) -> list[Dependent]:
    """Everything that uses one of the integration's models, by kind (as registered) then name."""
    return alias_dependents(
        organization_id=integration.organization_id,
        aliases=list(integration.models.values_list("alias", flat=True)),
    )


def alias_dependents(*, organization_id: int, aliases: list[str]) -> list[Dependent]:
    """Everything in the organisation that uses one of these model aliases (an edit of an integration that renames
    or removes models checks the aliases it drops), by kind (as registered) then name."""
    if not aliases:
        return []
    found: list[Dependent] = []
    for kind in sorted(_finders):
        found += sorted(_finders[kind](organization_id, list(aliases)), key=lambda item: item.name.lower())
    return found


def dependents_summary(dependents: list[Dependent]) -> str:
    """One sentence naming what would break: 'metrics “Correctness” and prompts “Support bot”'."""
    words = {"metric": ("metric", "metrics"), "prompt": ("saved prompt", "saved prompts")}
    parts = []
    for kind in sorted({item.kind for item in dependents}):
        names = [f"“{item.name}”" for item in dependents if item.kind == kind]
        singular, plural = words.get(kind, (kind, f"{kind}s"))
        parts.append(f"{singular if len(names) == 1 else plural} {', '.join(names)}")
    return " and ".join(parts)
