"""The survivorship policy as data: per entity and field, which systems carry the field, which of
them are authoritative, the rule that settles it when no authority has a value, and whether the
field is sensitive (never changed automatically; a difference becomes a task for a person).

The policy is a versioned JSON file (survivorship.v1.json beside this module is the default;
the `SUPPLYBRIDGE_SURVIVORSHIP_POLICY` setting names another). `parse_policy` validates it and
names the field and reason of every problem, like every other input of the platform.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources

from pydantic import Field, model_validator

from domain.base import DomainModel


class MasterSystem(StrEnum):
    """The systems that hold master data (the analytics platform only receives golden records)."""

    VENDOR_MANAGEMENT = "vendor_management"
    ERP = "erp"
    CONTRACTS = "contracts"
    ANALYTICS = "analytics"


class Entity(StrEnum):
    SUPPLIERS = "suppliers"
    ITEMS = "items"
    CONTRACTS = "contracts"


class Fallback(StrEnum):
    """What decides a field when no authoritative system has a value for it."""

    MOST_RECENT = "most_recent"
    """the most recently updated non-empty value wins (ties: the order of `systems`)"""
    NEVER_OVERWRITE = "never_overwrite"
    """an empty value is filled; a non-empty value is never replaced (kept, and reported)"""
    UNION = "union"
    """lists (UNSPSC categories, diversity certificates): every system gets the union"""


class FieldRule(DomainModel):
    systems: list[MasterSystem] = Field(min_length=1, description="systems that carry the field")
    authorities: list[MasterSystem] = Field(
        default_factory=list,
        description="authoritative systems, equally so: when two of them disagree, a person decides",
    )
    fallback: Fallback = Fallback.MOST_RECENT
    sensitive: bool = False
    is_list: bool = False

    @model_validator(mode="after")
    def _authorities_carry_the_field(self) -> FieldRule:
        strangers = [s.value for s in self.authorities if s not in self.systems]
        if strangers:
            raise ValueError(f"authorities {strangers} are not among the systems that carry the field")
        if self.fallback is Fallback.UNION and not self.is_list:
            raise ValueError("fallback union is for list fields (set is_list: true)")
        return self


class EntityPolicy(DomainModel):
    system_of_record: MasterSystem = Field(
        description="a record it does not know is an orphan: a person decides, nothing is created"
    )
    required_in: list[MasterSystem] = Field(
        default_factory=list,
        description="systems that must hold every record: a missing one is created there. Only systems "
        "that receive golden records (analytics): a supplier missing from the ERP is onboarded, not synced",
    )
    fields: dict[str, FieldRule] = Field(min_length=1)


class SurvivorshipPolicy(DomainModel):
    version: int = Field(ge=1)
    entities: dict[Entity, EntityPolicy]

    def rules(self, entity: Entity) -> dict[str, FieldRule]:
        return self.entities[entity].fields if entity in self.entities else {}


def parse_policy(text: str) -> SurvivorshipPolicy:
    """Validate a policy document (JSON). Raises pydantic.ValidationError naming each bad field."""
    return SurvivorshipPolicy.model_validate_json(text)


def default_policy_text() -> str:
    return resources.files(__package__).joinpath("survivorship.v1.json").read_text(encoding="utf-8")


def default_policy() -> SurvivorshipPolicy:
    return parse_policy(default_policy_text())
