"""Sensitive values (tax ids, bank account and routing numbers).

A `Sensitive` value never shows itself in `repr`, `str` or f-strings: only its last four
characters survive (`•••••7733`). It is serialised in clear on purpose, because the payload
must reach the ERP; on its way through Temporal the payload codec (runtime/codec.py)
encrypts it. Call `.reveal()` where the clear value is really needed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, PlainSerializer
from pydantic_core import core_schema


def mask(value: str, visible: int = 4) -> str:
    """`•••••7733` for `54-1187733`: only the last `visible` digits/letters survive."""
    tail = "".join(ch for ch in value if ch.isalnum())[-visible:] if visible else ""
    return "•" * 5 + tail


class SensitiveStr:
    """A string that masks itself everywhere it could be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"SensitiveStr('{self.masked()}')"

    def __str__(self) -> str:
        return self.masked()

    def __format__(self, spec: str) -> str:
        return format(self.masked(), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SensitiveStr):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def to_sensitive(value: Any) -> SensitiveStr:
            if isinstance(value, SensitiveStr):
                return value
            if not isinstance(value, str):  # an integer would lose an account number's leading zeros
                raise ValueError("must be a string (digits in quotes)")
            return cls(value.strip())

        return core_schema.no_info_plain_validator_function(
            to_sensitive,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.reveal(), when_used="always"),
            json_schema_input_schema=core_schema.str_schema(),
        )


Sensitive = Annotated[SensitiveStr, PlainSerializer(lambda v: v.reveal(), return_type=str)]
