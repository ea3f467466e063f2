"""997 / 999 received -> `FunctionalAckReceived` (domain/x12/functional_ack.py).

Decisions:
- AK1 names the group acknowledged (AK101 functional id, AK102 control number, AK103 version in a
  999); AK9 its status and counts. Each AK2 starts a transaction set answer, closed by its
  AK5 (997) or IK5 (999); AK3/IK3 and AK4/IK4 between them are its segment and element errors.
- An AK2 without AK5/IK5 is an error (its status would be a guess); so is a status code outside
  the standard's list, and a missing AK1 or AK9.
"""

from __future__ import annotations

from typing import Any

from domain.x12 import map_common as x
from domain.x12.context import MappingContext, MappingError
from domain.x12.functional_ack import AckStatus, FunctionalAckReceived
from domain.x12.model import Segment, TransactionSet

_STATUSES = {status.value for status in AckStatus}


def map_997(ts: TransactionSet, ctx: MappingContext) -> FunctionalAckReceived:
    """Also maps a 999 (same loops, IK3/IK4/IK5 for AK3/AK4/AK5)."""
    sources = x.Sources()
    ak1: Segment | None = None
    ak9: Segment | None = None
    sets: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for segment in x.body(ts, "AK1"):
        tag = segment.tag
        if tag == "AK1" and ak1 is None:
            ak1 = segment
        elif tag == "AK2":
            at = f"transaction_sets[{len(sets)}]"
            sources.note(at, segment)
            current = {
                "code": x.text(segment, 1, f"{at}.code"),
                "control_number": x.text(segment, 2, f"{at}.control_number"),
            }
            current.update(segments=[], at=at, ak2=segment, closed=False)
            sets.append(current)
        elif tag in ("AK3", "IK3") and current is not None:
            current["segments"].append(_segment_note(segment))
        elif tag in ("AK4", "IK4") and current is not None and current["segments"]:
            current["segments"][-1]["elements"].append(_element_note(segment, ctx))
        elif tag in ("AK5", "IK5") and current is not None:
            current["status"] = _status(segment, f"{current['at']}.status")
            current["error_codes"] = [code for code in segment.elements[1:6] if code.strip()]
            current["closed"] = True
            sources.note(f"{current['at']}.status", segment, 1)
        elif tag == "AK9" and ak9 is None:
            ak9 = segment
    assert ak1 is not None  # x.body checked
    if ak9 is None:
        raise MappingError("status", "no AK9 with the group's status", ak1.position, "AK901", x.MISSING)
    unclosed = next((s for s in sets if not s["closed"]), None)
    if unclosed is not None:
        where = unclosed["ak2"]
        raise MappingError(f"{unclosed['at']}.status", "AK2 without AK5/IK5", where.position, "AK501", x.MISSING)
    for name, number in (("functional_id", 1), ("group_control_number", 2), ("version", 3)):
        sources.note(name, ak1, number)
    for name, number in (("status", 1), ("included", 2), ("received", 3), ("accepted", 4)):
        sources.note(name, ak9, number)
    data: dict[str, Any] = {
        "event_id": ctx.event_id,
        "kind": "999" if ts.code == "999" else "997",
        "functional_id": x.text(ak1, 1, "functional_id"),
        "group_control_number": x.text(ak1, 2, "group_control_number"),
        "version": ak1.element(3) or None,
        "status": _status(ak9, "status"),
        "included": _count(ak9, 2, "included"),
        "received": _count(ak9, 3, "received"),
        "accepted": _count(ak9, 4, "accepted"),
        "error_codes": [code.strip() for code in ak9.elements[4:9] if code.strip()],
        "transaction_sets": [{k: v for k, v in s.items() if k not in ("at", "ak2", "closed")} for s in sets],
    }
    return sources.build(FunctionalAckReceived, data, root_field="transaction_sets")


def _status(segment: Segment, field: str) -> AckStatus:
    code = x.text(segment, 1, field)
    if code not in _STATUSES:
        reason = f"{code!r} is not an acknowledgement code ({', '.join(sorted(_STATUSES))})"
        raise MappingError(field, reason, segment.position, x.ref(segment, 1), x.INVALID_CODE)
    return AckStatus(code)


def _count(segment: Segment, number: int, field: str) -> int | None:
    return x.integer(segment, number, field) if segment.element(number) else None


def _segment_note(segment: Segment) -> dict[str, Any]:
    position = segment.element(2)
    return {
        "segment_id": segment.element(1) or "?",
        "position_in_set": int(position) if position.isdigit() else None,
        "loop_id": segment.element(3) or None,
        "code": segment.element(4) or None,
        "elements": [],
    }


def _element_note(segment: Segment, ctx: MappingContext) -> dict[str, Any]:
    position = ":".join(part.strip() for part in segment.components(1, ctx.delimiters) if part.strip())
    return {
        "position": position or "?",
        "reference": segment.element(2) or None,
        "code": segment.element(3) or "?",
        "bad_value": segment.element(4) or None,
    }
