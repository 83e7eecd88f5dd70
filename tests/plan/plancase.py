"""Helpers the plan tests share: the messages of a plan that fails, a norms table."""

from __future__ import annotations

import pytest

from burnout.errors import ProtocolError
from burnout.plan import parse_protocol

NORMS_TOML = """
[profiles.norms]
exhaustion = {mean = 2.5, sd = 1.3}
cynicism = {mean = 2.0, sd = 1.25}
professional_efficacy = {mean = 4.5, sd = 1.0}
"""

SUBSCALES = ("exhaustion", "cynicism", "professional_efficacy")


def errors_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="plan.toml")
    return info.value.messages


def one_error(text: str) -> str:
    messages = errors_of(text)
    assert len(messages) == 1, messages
    return messages[0]
