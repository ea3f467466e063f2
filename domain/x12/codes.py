"""The X12 code lists we translate, as tables: units of measure (element 355), acknowledgement
line statuses (668), product id qualifiers (235), date qualifiers (374), service levels (284) and
the carriers (SCAC) we name.

Decisions:
- Units: an X12 unit code maps to the item master's unit. Only `CA` (case) differs from ours
  (`CS`); the others are the same letters. The table is one-to-one so a unit written into an 850
  reads back as itself. An X12 code not in the table is an error naming it, never a guess (X12's
  `CS` is "cassette", not case, and is deliberately absent).
- Acknowledgement statuses: a code that cannot become an `AckLineStatus` without losing meaning
  (IS substitution, IH on hold, ...) is an error, so a person looks at it instead of the PO
  taking a substitute silently.
- Product ids: `BP` and `IN` are our item id, `UK`/`EN`/`UP` a GTIN (compared as 14 digits),
  `VP`/`VN`/`MG` the supplier's or manufacturer's part, compared with the item's `mfr_part`.
"""

from __future__ import annotations

from enum import StrEnum

from domain.purchasing import AckLineStatus

# X12 355 -> item-master unit. Documented row by row: CA case -> CS; BX box; EA each; PK package;
# CT carton; DZ dozen; BG bag; BO bottle; KT kit; PR pair; RL roll; TB tube; VI vial; AM ampoule;
# PL pallet; GS gross.
X12_TO_UNIT: dict[str, str] = {
    "CA": "CS",
    "BX": "BX",
    "EA": "EA",
    "PK": "PK",
    "CT": "CT",
    "DZ": "DZ",
    "BG": "BG",
    "BO": "BO",
    "KT": "KT",
    "PR": "PR",
    "RL": "RL",
    "TB": "TB",
    "VI": "VI",
    "AM": "AM",
    "PL": "PL",
    "GS": "GS",
}
UNIT_TO_X12: dict[str, str] = {unit: code for code, unit in X12_TO_UNIT.items()}
assert len(UNIT_TO_X12) == len(X12_TO_UNIT), "the unit table must be one-to-one"


class UnknownCode(ValueError):
    """A code not in one of our tables; the message names the code and the list."""


def unit_from_x12(code: str) -> str:
    """The item-master unit of an X12 unit code (`CA` -> `CS`)."""
    try:
        return X12_TO_UNIT[code]
    except KeyError:
        raise UnknownCode(f"unit code {code!r} is not one we map ({', '.join(sorted(X12_TO_UNIT))})") from None


def unit_to_x12(unit: str) -> str:
    """The X12 unit code of an item-master unit (`CS` -> `CA`)."""
    try:
        return UNIT_TO_X12[unit]
    except KeyError:
        raise UnknownCode(
            f"unit {unit!r} has no X12 unit code in our table ({', '.join(sorted(UNIT_TO_X12))})"
        ) from None


# X12 668 (ACK01) -> our acknowledgement line status.
ACK_STATUS: dict[str, AckLineStatus] = {
    "IA": AckLineStatus.ACCEPTED,  # item accepted
    "AR": AckLineStatus.ACCEPTED,  # accepted and released for shipment
    "DR": AckLineStatus.ACCEPTED,  # accepted, date rescheduled (the new date is the promised date)
    "IB": AckLineStatus.BACKORDERED,  # item backordered
    "BP": AckLineStatus.BACKORDERED,  # accepted, partial shipment, balance backordered
    "IQ": AckLineStatus.QUANTITY_CHANGED,  # accepted, quantity changed
    "IC": AckLineStatus.QUANTITY_CHANGED,  # accepted, changes made (read as the quantity ACK02 confirms)
    "IP": AckLineStatus.PRICE_CHANGED,  # accepted, price changed (the new price is PO104)
    "IR": AckLineStatus.REJECTED,  # item rejected
    "ID": AckLineStatus.REJECTED,  # item deleted
}


def ack_status(code: str) -> AckLineStatus:
    try:
        return ACK_STATUS[code]
    except KeyError:
        raise UnknownCode(
            f"line status {code!r} is not one we map ({', '.join(sorted(ACK_STATUS))}): a person must review it"
        ) from None


class ItemKey(StrEnum):
    """What a product id names in our item master."""

    ITEM_ID = "item_id"
    GTIN = "gtin"
    PART = "mfr_part"


PRODUCT_QUALIFIERS: dict[str, ItemKey] = {
    "BP": ItemKey.ITEM_ID,  # buyer's part number: ours
    "IN": ItemKey.ITEM_ID,  # buyer's item number: ours
    "UK": ItemKey.GTIN,  # GTIN-14
    "EN": ItemKey.GTIN,  # EAN-13
    "UP": ItemKey.GTIN,  # UPC-12
    "VP": ItemKey.PART,  # vendor's part number
    "VN": ItemKey.PART,  # vendor's item number
    "MG": ItemKey.PART,  # manufacturer's part number
}
# Resolution order: our id first, then the GTIN, then a part number (the least unique).
ITEM_KEY_ORDER = (ItemKey.ITEM_ID, ItemKey.GTIN, ItemKey.PART)


def normalise_gtin(value: str) -> str:
    """A GTIN as 14 digits: UPC-12 and EAN-13 are the same number with leading zeros."""
    return value.strip().zfill(14)


# X12 374 date qualifiers we read.
DATE_SHIPPED = "011"
DATE_DELIVERY_ESTIMATED = "017"
DATE_DELIVERY_REQUESTED = "002"
DATE_EFFECTIVE = "007"
# ACK04: the dates a supplier promises a line by, in order of preference.
PROMISED_DATE_QUALIFIERS = ("068", "067", "017")  # current schedule ship, current schedule delivery, est. delivery

# X12 284 (TD512) service levels that mean "ship by the fastest way" (our `expedited`); we write ES.
EXPEDITED_SERVICE_LEVELS = frozenset({"ES", "IE", "ND", "NF", "NM", "ON", "SA", "CX"})
EXPEDITED_SERVICE_LEVEL = "ES"

# SCAC -> the carrier's name, for the carriers our suppliers use; an unknown SCAC is kept as is.
CARRIERS: dict[str, str] = {
    "FDEG": "FedEx Ground",
    "FDEN": "FedEx Express",
    "FXFE": "FedEx Freight",
    "UPSN": "UPS",
    "UPGF": "UPS Freight",
    "USPS": "United States Postal Service",
    "ODFL": "Old Dominion Freight Line",
}

# REF qualifiers that carry a shipment's tracking number, in order of preference:
# 2I tracking number, CN carrier's reference (PRO), BM bill of lading.
TRACKING_QUALIFIERS = ("2I", "CN", "BM")
