"""Shared pydantic configuration for every domain model."""

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    """Strict about unknown fields, and never echoes an input value in a validation error
    (so a tax id or bank number cannot leak through an error message)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=False)


class LenientModel(BaseModel):
    """For records read from external systems: unknown fields are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)
