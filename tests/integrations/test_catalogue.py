import json
import re
from pathlib import Path

import pytest

from integrations.catalogue import RUN_PARAMETERS, builtin_model, builtin_models, builtin_models_by_provider

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "custom-model-integrations.md"


def _seed_aliases_by_provider() -> dict[str, list[str]]:
    text = SEED.read_text()
    section = text[text.index("List of built-in model aliases") : text.index("### General properties")]
    grouped, provider = {}, None
    for line in section.splitlines():
        if (match := re.search(r'<Accordion title="([^"]+)">', line)) and match.group(1) != "Click to expand":
            provider = match.group(1)
            grouped[provider] = []
        elif (match := re.match(r"\s*\* `(.+)`\s*$", line)) and provider:
            grouped[provider].append(match.group(1))
    return grouped


@pytest.mark.skipif(not SEED.exists(), reason="the seed page lives in ../shared beside the checkout")
def test_every_seed_alias_is_in_the_catalogue_under_its_provider():
    expected = _seed_aliases_by_provider()
    actual = {provider: [m.alias for m in models] for provider, models in builtin_models_by_provider().items()}
    assert actual == expected
    assert sum(len(v) for v in expected.values()) == 169


def test_every_catalogue_parameter_is_a_run_parameter():
    for model in builtin_models():
        assert set(model.supported_parameters) <= set(RUN_PARAMETERS), model.alias


@pytest.mark.parametrize(
    ("alias", "has", "lacks"),
    [
        ("o3", {"reasoning_effort", "max_tokens"}, {"temperature", "top_p"}),
        ("o4-mini", {"reasoning_effort"}, {"temperature"}),
        ("gpt-5", {"reasoning_effort", "verbosity"}, {"temperature"}),
        ("gpt-4.1", {"temperature", "logprobs", "response_format"}, {"reasoning_effort"}),
        ("Claude Opus 4.6", {"temperature", "top_k", "stop_sequences"}, {"frequency_penalty", "n"}),
        ("gemini-2.5-pro", {"top_k", "reasoning_effort"}, set()),
        ("BAAI BGE M3 (NVIDIA)", set(), {"temperature"}),
    ],
)
def test_models_carry_the_parameters_they_really_accept(alias, has, lacks):
    parameters = set(builtin_model(alias).supported_parameters)
    assert has <= parameters
    assert not (lacks & parameters)


def test_the_catalogue_is_one_data_file():
    data = json.loads((Path(__file__).resolve().parents[2] / "integrations" / "builtin_models.json").read_text())
    assert {"parameter_profiles", "parameter_names", "providers"} == set(data)
