"""Functional acknowledgements (997 and 999) as data: what a partner says about a group we sent
(`FunctionalAckReceived`, mapped by map_997.py), and the code lists the writer uses.

Codes (X12 715/717/718/720/723):
- group (AK901) and transaction set (AK501/IK501): A accepted, E accepted but errors were noted,
  P partially accepted (group only: at least one set rejected), R rejected; M, W, X rejected for
  security or message authentication reasons (transaction sets).
- AK5/IK5 codes: 1 not supported, 2 trailer missing, 3 control numbers in ST and SE differ,
  4 segment count wrong, 5 one or more segments in error, 23 control number not unique.
- AK9 codes: 1 functional group not supported, 2 version not supported, 3 trailer missing,
  4 control numbers in GS and GE differ, 5 transaction set count wrong, 6 group control number
  violates syntax.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from domain.base import DomainModel

AckKind = Literal["997", "999"]


class AckStatus(StrEnum):
    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    REJECTED_SECURITY = "M"
    REJECTED_AUTHENTICATION = "W"
    REJECTED_DECRYPTION = "X"

    @property
    def accepts(self) -> bool:
        """The set (or some of the group) may be processed: A, E or P."""
        return self in (AckStatus.ACCEPTED, AckStatus.ACCEPTED_WITH_ERRORS, AckStatus.PARTIALLY_ACCEPTED)


SEGMENT_IN_ERROR = "5"  # AK5/IK5: one or more segments in error
TA1_NO_ERROR = "000"


class ElementNote(DomainModel):
    """AK4/IK4: an element in error."""

    position: str = Field(description="AK401: element position, `3` or `3:1` for a component")
    reference: str | None = Field(default=None, description="AK402: data element reference number")
    code: str = Field(description="AK403: element syntax error code")
    bad_value: str | None = Field(default=None, description="AK404: copy of the bad element")


class SegmentNote(DomainModel):
    """AK3/IK3: a segment in error, with its elements in error."""

    segment_id: str
    position_in_set: int | None = Field(default=None, description="AK302: ST is 1")
    loop_id: str | None = None
    code: str | None = Field(default=None, description="AK304: segment syntax error code")
    elements: list[ElementNote] = Field(default_factory=list)


class TransactionSetAck(DomainModel):
    code: str = Field(description="AK201: the set's ST01, e.g. 850")
    control_number: str = Field(description="AK202: the set's ST02")
    status: AckStatus
    error_codes: list[str] = Field(default_factory=list, description="AK502..AK506")
    segments: list[SegmentNote] = Field(default_factory=list)


class FunctionalAckReceived(DomainModel):
    """A partner's 997 or 999 about one of our groups: reconciled against the 850s we sent."""

    event_id: str
    kind: AckKind
    functional_id: str = Field(description="AK101: the acknowledged group's GS01, e.g. PO")
    group_control_number: str = Field(description="AK102: the acknowledged group's GS06")
    version: str | None = Field(default=None, description="AK103 (999): the acknowledged group's GS08")
    status: AckStatus = Field(description="AK901")
    included: int | None = Field(default=None, description="AK902: sets the group says it holds")
    received: int | None = Field(default=None, description="AK903: sets the partner received")
    accepted: int | None = Field(default=None, description="AK904: sets the partner accepted")
    error_codes: list[str] = Field(default_factory=list, description="AK905..AK909")
    transaction_sets: list[TransactionSetAck] = Field(default_factory=list)

    def status_of(self, control_number: str) -> AckStatus | None:
        """The status of one set we sent. A set the acknowledgement does not list shares the
        group's status (a 997 may list only sets in error); P leaves an unlisted set accepted."""
        for ack in self.transaction_sets:
            if ack.control_number == control_number:
                return ack.status
        if self.status is AckStatus.PARTIALLY_ACCEPTED:
            return AckStatus.ACCEPTED
        return self.status
