"""AES-256-GCM payload codec: Temporal's history never holds supplier tax ids or bank numbers in
clear. `encode_payloads_json`/`decode_payloads_json` implement the remote codec protocol the
Temporal UI and `temporal --codec-endpoint` speak, served by the API under /codec, where
starter/api/codec_routes.py decides who may call it and audits each call. A malformed request
body raises `CodecRequestError`, a payload that fails authentication `PayloadDecryptionError`:
both are the caller's fault (HTTP 400), never a server error."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from runtime.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE = 12


class PayloadDecryptionError(ValueError):
    pass


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) != 32:
            raise ValueError("the payload encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self._key_id = key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, KEY_ID: self._key_id.encode()},
                data=self._encrypt(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for p in payloads:
            if p.metadata.get("encoding", b"") != ENCODING:
                decoded.append(p)
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode(errors="replace")
            if key_id != self._key_id:
                raise PayloadDecryptionError(f"payload encrypted with unknown key id {key_id!r}")
            try:
                decoded.append(Payload.FromString(self._decrypt(p.data)))
            except DecodeError as error:
                raise PayloadDecryptionError("decrypted payload is not a Temporal payload") from error
        return decoded

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        try:
            return self._aead.decrypt(data[:_NONCE], data[_NONCE:], None)
        except (InvalidTag, ValueError) as error:  # ValueError: too short to hold a nonce and a tag
            raise PayloadDecryptionError("payload failed authentication (tampered or wrong key)") from error


def codec_from_settings(settings: Settings) -> EncryptionCodec:
    try:
        key = base64.b64decode(settings.payload_encryption_key.get_secret_value(), validate=True)
    except ValueError as error:
        raise ValueError("SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY must be base64") from error
    if len(key) != 32:
        raise ValueError("SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY must be the base64 of 32 bytes")
    return EncryptionCodec(key, settings.payload_key_id)


class CodecRequestError(ValueError):
    """The body sent to the remote codec is not `{"payloads": [...]}` of valid payloads."""


def parse_payloads_json(body: Any) -> list[Payload]:
    """The payloads of a remote-codec request body; `CodecRequestError` names what is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
        raise CodecRequestError('payloads: the body must be a JSON object {"payloads": [...]}')
    try:
        return list(json_format.ParseDict(body, Payloads()).payloads)
    except (json_format.ParseError, ValueError, TypeError) as error:
        raise CodecRequestError(f"payloads: not valid Temporal payloads ({error})") from None


def payloads_to_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


async def _apply_json(body: Any, transform: Any) -> dict[str, Any]:
    return payloads_to_json(await transform(parse_payloads_json(body)))


async def encode_payloads_json(codec: PayloadCodec, body: Any) -> dict[str, Any]:
    return await _apply_json(body, codec.encode)


async def decode_payloads_json(codec: PayloadCodec, body: Any) -> dict[str, Any]:
    """Raises `CodecRequestError` for a malformed body and `PayloadDecryptionError` for a payload
    that fails authentication or names an unknown key: both the caller's fault (HTTP 400)."""
    return await _apply_json(body, codec.decode)
