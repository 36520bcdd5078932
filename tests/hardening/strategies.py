"""Hypothesis strategies for malformed integration documents: valid seed examples with breaking mutations."""

import copy
import json
from pathlib import Path

from hypothesis import strategies as st

from integrations.catalogue import RUN_PARAMETERS, builtin_model

SEED_EXAMPLES = json.loads((Path(__file__).parent.parent / "data" / "seed_examples.json").read_text())[:5]
TOP_LEVEL_KEYS = {
    "authentication_type",
    "api_key_header",
    "api_key_value",
    "oauth2_token_url",
    "authentication_scope",
    "token",
    "model_properties",
    "default_model",
    "endpoint",
    "custom_header_mapping",
    "headers",
    "custom_llm_config",
}
STRING_FIELDS = ["endpoint", "default_model", "authentication_type"]
NOT_A_STRING = st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({"a": 1}))
text = st.text(min_size=1, max_size=30)


def _remove_required(doc, draw):
    required = ["endpoint", "model_properties"]
    if doc.get("authentication_type") == "api_key":
        required += ["api_key_header", "api_key_value"]
    if doc.get("authentication_type") == "oauth2":
        required += ["token"]
    doc.pop(draw(st.sampled_from(required)), None)


def _wrong_type(doc, draw):
    doc[draw(st.sampled_from(STRING_FIELDS))] = draw(NOT_A_STRING)


def _unknown_key(doc, draw):
    key = draw(text.filter(lambda k: k not in TOP_LEVEL_KEYS))
    where = draw(st.sampled_from(["top", "model"]))
    models = doc.get("model_properties")
    if where == "model" and isinstance(models, list) and models and isinstance(models[0], dict):
        models[0][key] = draw(st.one_of(text, st.integers()))
    else:
        doc[key] = draw(st.one_of(text, st.integers()))


def _bad_endpoint(doc, draw):
    doc["endpoint"] = draw(text.filter(lambda v: not v.lower().startswith(("http://", "https://"))))


def _bad_based_on(doc, draw):
    doc["model_properties"] = [{"name": "m", "based_on": draw(text.filter(lambda v: builtin_model(v) is None))}]


def _bad_parameter(doc, draw):
    name = draw(text.filter(lambda v: v not in RUN_PARAMETERS and v != "stop"))
    doc["model_properties"] = [{"name": "m", "supported_parameters": ["temperature", name]}]


def _no_models(doc, draw):
    doc["model_properties"] = draw(st.sampled_from([[], {}, "gpt-4", None, [None]]))


def _bad_header(doc, draw):
    name = draw(
        st.text(min_size=1, max_size=10).filter(lambda v: any(c in v for c in ' :()/\\"\n@,;=')) | st.just("a b")
    )
    doc["headers"] = {name: "v"}


def _bad_auth_type(doc, draw):
    doc["authentication_type"] = draw(text.filter(lambda v: v not in ("api_key", "oauth2", "none")))


MUTATIONS = [
    _remove_required,
    _wrong_type,
    _unknown_key,
    _bad_endpoint,
    _bad_based_on,
    _bad_parameter,
    _no_models,
    _bad_header,
    _bad_auth_type,
]


@st.composite
def malformed_documents(draw):
    document = copy.deepcopy(draw(st.sampled_from(SEED_EXAMPLES)))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        mutation(document, draw)
    return document


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))


@st.composite
def malformed_run_requests(draw):
    """(messages, parameters) pairs of which at least one is invalid."""
    messages = [{"role": "user", "content": "hi"}]
    parameters = {"temperature": 0.5}
    kind = draw(st.sampled_from(["messages", "role", "content", "unknown_parameter", "out_of_range", "parameters"]))
    if kind == "messages":
        messages = draw(st.one_of(st.just([]), JSON_SCALARS, st.lists(JSON_SCALARS, min_size=1, max_size=3)))
    elif kind == "role":
        messages = [
            {
                "role": draw(text.filter(lambda r: r not in ("system", "user", "assistant", "tool", "developer"))),
                "content": "x",
            }
        ]
    elif kind == "content":
        messages = [{"role": "user", "content": draw(st.one_of(st.none(), st.integers(), st.just({"a": 1})))}]
    elif kind == "unknown_parameter":
        parameters = {draw(text.filter(lambda p: p not in RUN_PARAMETERS and p != "stop")): draw(JSON_SCALARS)}
    elif kind == "out_of_range":
        name, bad = draw(
            st.sampled_from(
                [
                    ("temperature", st.floats(min_value=2.001, max_value=1e6)),
                    ("temperature", st.text(max_size=5)),
                    ("max_tokens", st.integers(max_value=0)),
                    ("max_tokens", st.floats(allow_nan=False)),
                    ("top_p", st.floats(min_value=1.001, max_value=10)),
                    ("n", st.integers(min_value=17)),
                    (
                        "reasoning_effort",
                        text.filter(lambda v: v not in ("none", "minimal", "low", "medium", "high", "xhigh")),
                    ),
                    ("stop_sequences", st.lists(st.integers(), min_size=1, max_size=3)),
                    ("tools", st.one_of(st.text(max_size=5), st.integers())),
                ]
            )
        )
        parameters = {name: draw(bad)}
    else:
        parameters = draw(st.one_of(st.lists(JSON_SCALARS, max_size=2), st.text(min_size=1, max_size=5), st.integers()))
    return messages, parameters
