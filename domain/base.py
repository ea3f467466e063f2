"""Shared pydantic configuration for every domain model."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema


class DomainModel(BaseModel):
    """Strict about unknown fields, and never echoes an input value in a validation error
    (so a tax id or bank number cannot leak through an error message)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=False)


class LenientModel(BaseModel):
    """For records read from external systems: unknown fields are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)


def _no_number_for_a_date(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date as YYYY-MM-DD, not a number")
    return value


# A calendar date as JSON carries it (`"2026-11-24"`): pydantic would otherwise also take a number
# as a Unix time, which the documented schema (`format: date`) does not allow.
IsoDate = Annotated[date, BeforeValidator(_no_number_for_a_date)]


def decimal_text(*, pattern: str, integer_max: int, integer_min: int, description: str) -> Any:
    """A decimal sent as a string matching `pattern`, or as a JSON integer within bounds; never a
    float (binary floats round money). What the schema documents is what validation accepts."""

    def check(value: Any) -> Any:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, float) and value.is_integer():  # `3.0` is an integer to JSON Schema
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # its bounds: the field's own gt/ge/le rules, with their usual messages
        if isinstance(value, str) and re.fullmatch(pattern, value):
            return value
        raise ValueError(f'{description}: a decimal string such as "12.50" (or an integer), never a float')

    schema = {
        "anyOf": [
            {"type": "string", "pattern": pattern},
            {"type": "integer", "minimum": integer_min, "maximum": integer_max},
        ],
        "description": description,
    }
    return (BeforeValidator(check), WithJsonSchema(schema))
