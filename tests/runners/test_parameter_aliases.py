import pytest

from core.problems import Invalid
from runners.parameters import validate_parameters


def test_stop_is_accepted_as_stop_sequences_and_a_single_string_becomes_a_list():
    assert validate_parameters({"stop": "END"}) == {"stop_sequences": ["END"]}


def test_stop_and_stop_sequences_together_are_an_error_not_a_silent_choice():
    with pytest.raises(Invalid) as caught:
        validate_parameters({"stop": ["a"], "stop_sequences": ["b"]})
    assert caught.value.errors[0].path == "parameters.stop"
