"""What our metrics and traces may carry. Pure rules, used by runtime/metrics*.py and
runtime/telemetry.py.

Metric labels are bounded, operational values (a workflow type, an outcome, a team, a system, a
result kind), never a supplier, PO, invoice or person: `label_value` turns anything else into
`other`, so a surprising value can neither leak an id nor explode the number of series.

Span attributes are scrubbed before any span leaves the process (`scrub_attributes`), because
instrumentation records what it sees:
- URLs (`http.url`, `url.full`, `http.target`, ...) lose their user info, their query string and
  fragment (our adapters send filters such as `?tax_id=` and `?name=` there: the ERP supplier
  search) and every path segment that is not id-shaped (`{redacted}`);
- attributes that capture headers, query strings or end users (`http.request.header.*`,
  `url.query`, `enduser.*`, ...) are dropped;
- every other string loses tax ids (EIN `12-3456789`, SSN `123-45-6789`), runs of 8 or more digits
  (bank account and routing numbers, a TIN without dashes) and pydantic's `input_value=...`
  (a validation error repeats the refused value, a name included).
Temporal's own ids (`temporalWorkflowID`, `temporalRunID`, ...) are kept as they are: they never
carry a tax id, bank number or name (README, "Supplier onboarding"), and a run id's digits must
not be mistaken for an account number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"
REDACTED_SEGMENT = "{redacted}"
OTHER = "other"

_LABEL = re.compile(r"[A-Za-z][A-Za-z_-]{0,62}")
_ID_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:@+-]{0,79}")
_TAX_ID = re.compile(r"(?<!\d)(\d{2}-\d{7}|\d{3}-\d{2}-\d{4})(?!\d)")
_DIGIT_RUN = re.compile(r"\d{8,}")
_INPUT_VALUE = re.compile(r"input_value=(?:'[^']*'|\"[^\"]*\"|[^,\]\s]*)")

URL_KEYS = frozenset({"http.url", "url.full", "http.target", "url.path", "http.request.url", "url.original"})
DROPPED_PREFIXES = (
    "http.request.header.",
    "http.response.header.",
    "url.query",
    "url.fragment",
    "enduser.",
    "user.",
    "http.request.body",
    "db.statement",
)
KEPT_AS_IS = frozenset(
    {"temporalWorkflowID", "temporalRunID", "temporalActivityID", "temporalUpdateID", "temporalSignalName"}
)


def label_value(value: object, *, allowed: Sequence[str] | None = None) -> str:
    """A metric label value: a word of letters, `_` and `-`, at most 63 characters (`allowed`,
    when given: one of those), else `other`; empty or None is `none`. No digits: every id we
    have (supplier, PO, invoice, vendor, tax id) has some, and none of our label values does
    (workflow types, outcomes, teams, systems, results)."""
    if value is None or value == "":
        return "none"
    text = str(value)
    if allowed is not None:
        return text if text in allowed else OTHER
    return text if _LABEL.fullmatch(text) else OTHER


def scrub_text(text: str) -> str:
    """`text` without tax ids, long digit runs or pydantic's echo of a refused value."""
    text = _INPUT_VALUE.sub(f"input_value={REDACTED}", text)
    text = _TAX_ID.sub(REDACTED, text)
    return _DIGIT_RUN.sub(REDACTED, text)


def scrub_url(url: str) -> str:
    """`url` (absolute, or a path with its query) with no user info, query or fragment, and each
    path segment that is not id-shaped replaced by `{redacted}`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    segments = [_scrub_segment(segment) for segment in parts.path.split("/")]
    netloc = parts.hostname or ""
    if netloc and parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    query = "REDACTED" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))


def _scrub_segment(segment: str) -> str:
    if not segment:
        return segment
    decoded = unquote(segment)
    if not _ID_SEGMENT.fullmatch(decoded) or scrub_text(decoded) != decoded:
        return REDACTED_SEGMENT
    return segment


def scrub_value(key: str, value: Any) -> Any:
    """One attribute's value, scrubbed for its key (None: drop the attribute)."""
    if key.startswith(DROPPED_PREFIXES):
        return None
    if key in KEPT_AS_IS:
        return value
    if isinstance(value, str):
        return scrub_url(value) if key in URL_KEYS else scrub_text(value)
    if isinstance(value, tuple | list):
        return tuple(scrub_text(item) if isinstance(item, str) else item for item in value)
    return value


def scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes a span may keep (see the module docstring)."""
    kept: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        scrubbed = scrub_value(key, value)
        if scrubbed is not None:
            kept[key] = scrubbed
    return kept
