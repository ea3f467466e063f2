"""The HTTP `EventSink`s (adapters/event_sinks.py): signed webhooks and team notification channels.

`WebhookSink` POSTs the CloudEvent in the structured JSON format (`application/cloudevents+json`,
the whole event in the body; binary mode's `ce-*` headers are not sent) with:
- `Idempotency-Key` and `X-SupplyBridge-Event-Id`: the event id, the same on every redelivery (a
  receiver deduplicates on it: the relay delivers at least once);
- `X-SupplyBridge-Event-Type`: the CloudEvents type, to route without parsing the body;
- `X-SupplyBridge-Signature` when the subscription has a secret: `runtime.webhooks.sign`, i.e.
  `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the scheme our own inbound
  webhooks verify (`runtime.webhooks.verify` is the receiver's recipe). It is computed per attempt,
  so a redelivery carries a fresh timestamp.

`TeamChannelSink` posts `{"text": "<one line>"}` (`notification_text`) to a team's incoming
webhook. Both Slack and Microsoft Teams incoming webhooks accept a body of just `text`, so no
`blocks` or cards: one body for both.

Decisions (both sinks):
- A 2xx answer is delivered; anything else raises `DeliveryFailed` with a short reason: the
  status and the first 200 characters of the answer, or the error's class and message on a
  timeout or a connection failure. Only the start of an error answer is read.
- Redirects are not followed (the shared client has `follow_redirects=False` and each request
  says so): a signed event goes where it was subscribed, and a 3xx is a failure naming its
  Location, so the subscription can be pointed at the final URL.
- Reasons never name the subscription's URL (an incoming-webhook URL is itself a secret).
- No retries here: the relay retries with backoff and dead-letters.
"""

from __future__ import annotations

import json
import re

import httpx
from cloudevents.core.v1.event import CloudEvent

from adapters.event_sinks import DeliveryFailed
from domain.cloud_events import CONTENT_TYPE, TYPE_PREFIX, structured
from domain.subscriptions import Subscription
from runtime.webhooks import SIGNATURE_HEADER, sign

IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_ID_HEADER = "X-SupplyBridge-Event-Id"
EVENT_TYPE_HEADER = "X-SupplyBridge-Event-Type"
USER_AGENT = "SupplyBridge-Events/1"
REASON_BODY_CHARS = 200
SUMMARY_CHARS = 300
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class WebhookSink:
    """`EventSink` of `Channel.WEBHOOK`: the signed CloudEvent to `subscription.url`."""

    def __init__(self, client: httpx.AsyncClient, *, timeout: float) -> None:
        self.client = client
        """Shared with the other HTTP sink; its owner closes it (runtime.event_sinks.close_sinks)."""
        self._timeout = timeout

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        body = structured(event)
        headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: event.get_id(),
            EVENT_ID_HEADER: event.get_id(),
            EVENT_TYPE_HEADER: event.get_type(),
        }
        if subscription.secret:
            headers[SIGNATURE_HEADER] = sign(subscription.secret, body)
        await post(self.client, _url(subscription), body, headers, timeout=self._timeout)

    async def close(self) -> None:
        """Nothing of its own to release: `client` is closed by its owner."""


class TeamChannelSink:
    """`EventSink` of `Channel.TEAM`: one readable line to the team's incoming webhook."""

    def __init__(self, client: httpx.AsyncClient, *, timeout: float) -> None:
        self.client = client
        """Shared with the other HTTP sink; its owner closes it (runtime.event_sinks.close_sinks)."""
        self._timeout = timeout

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        text = notification_text(event, subscription.team or "team")
        # `&`, `<` and `>` are escaped as Slack asks (they start its links); Teams renders the
        # entities as the characters.
        body = json.dumps({"text": text.translate(_SLACK_ESCAPES)}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, IDEMPOTENCY_HEADER: event.get_id()}
        await post(self.client, _url(subscription), body, headers, timeout=self._timeout)

    async def close(self) -> None:
        """Nothing of its own to release: `client` is closed by its owner."""


def notification_text(event: CloudEvent, team: str) -> str:
    """One line a person can act on, e.g.
    `[accounts_payable] Invoice INV-1 exception raised: price, quantity — <summary> · subject
    SUP-1/INV1 · invoice.exception_raised · workflow invoice-SUP-1-INV1`.

    The thing is named by the data's `<entity>_number` when there is one (an invoice's number as
    the supplier wrote it), else by the subject; `kinds`/`kind` follow the colon and `summary`
    the dash (cut at 300 characters). The subject, our event type and the workflow id (when the
    event has one) close the line, to find the run and its task."""
    our_type = event.get_type().removeprefix(TYPE_PREFIX)
    entity, _, happened = our_type.partition(".")
    data = event.get_data()
    details = data if isinstance(data, dict) else {}
    subject = event.get_subject() or ""
    named = details.get(f"{entity}_number") or subject
    line = f"[{team}] {_words(entity).capitalize()} {named} {_words(happened)}".rstrip()
    kinds = details.get("kinds") or details.get("kind")
    if isinstance(kinds, str):
        kinds = [kinds]
    if isinstance(kinds, list) and kinds:
        line += ": " + ", ".join(_words(str(kind)) for kind in kinds)
    summary = details.get("summary")
    if isinstance(summary, str) and summary.strip():
        line += " — " + _cut(_one_line(summary), SUMMARY_CHARS)
    tail = [f"subject {subject}"] if subject else []
    tail.append(our_type)
    workflow_id = event.get_extension("workflowid")
    if workflow_id:
        tail.append(f"workflow {workflow_id}")
    return " · ".join([line, *tail])


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> None:
    """POST `body`; return on a 2xx, else raise `DeliveryFailed` with a short reason."""
    try:
        async with client.stream(
            "POST", url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        ) as response:
            if response.is_success:
                await _drain(response)  # read the (short) answer, so the connection goes back to the pool
                return
            status = f"HTTP {response.status_code}"
            if response.is_redirect or 300 <= response.status_code < 400:
                location = response.headers.get("location", "no Location")
                raise DeliveryFailed(f"{status} redirect to {location} (redirects are not followed)")
            start = await _start_of(response)
            raise DeliveryFailed(f"{status}: {start}" if start else status)
    except httpx.TimeoutException as error:
        raise DeliveryFailed(f"no answer within {timeout:g}s ({_error(error)})") from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise DeliveryFailed(_error(error)) from error


async def _drain(response: httpx.Response, limit: int = 65_536) -> None:
    """Read an answer up to `limit` bytes: a connection whose answer was read is kept for the next
    delivery (no new TCP and TLS handshake per event); a longer one is left to be closed."""
    read = 0
    try:
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > limit:
                return
    except (httpx.HTTPError, httpx.StreamError):
        return  # delivered all the same: the status said so (or it was read already)


async def _start_of(response: httpx.Response) -> str:
    """The first characters of an error answer, on one line (reading stops there)."""
    read = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            read += chunk
            if len(read) >= REASON_BODY_CHARS * 4:  # enough bytes for 200 characters of UTF-8
                break
    except httpx.HTTPError:
        pass  # the status says enough
    return _cut(_one_line(read.decode("utf-8", errors="replace")), REASON_BODY_CHARS)


def _url(subscription: Subscription) -> str:
    if not subscription.url:
        raise DeliveryFailed(f"subscription {subscription.subscription_id} has no url")
    return subscription.url


def _error(error: Exception) -> str:
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
