"""AES-256-GCM payload codec: Temporal's history never holds supplier tax ids or bank numbers in
clear. `encode_payloads_json`/`decode_payloads_json` implement the remote codec protocol the
Temporal UI and `temporal --codec-endpoint` speak, served by the API under /codec."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
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
            key_id = p.metadata.get(KEY_ID, b"").decode()
            if key_id != self._key_id:
                raise PayloadDecryptionError(f"payload encrypted with unknown key id {key_id!r}")
            decoded.append(Payload.FromString(self._decrypt(p.data)))
        return decoded

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        try:
            return self._aead.decrypt(data[:_NONCE], data[_NONCE:], None)
        except InvalidTag as error:
            raise PayloadDecryptionError("payload failed authentication (tampered or wrong key)") from error


def codec_from_settings(settings: Settings) -> EncryptionCodec:
    try:
        key = base64.b64decode(settings.payload_encryption_key.get_secret_value(), validate=True)
    except ValueError as error:
        raise ValueError("SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY must be base64") from error
    if len(key) != 32:
        raise ValueError("SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY must be the base64 of 32 bytes")
    return EncryptionCodec(key, settings.payload_key_id)


async def _apply_json(body: dict[str, Any], transform: Any) -> dict[str, Any]:
    payloads = json_format.ParseDict(body, Payloads())
    result = Payloads(payloads=await transform(list(payloads.payloads)))
    return json_format.MessageToDict(result)


async def encode_payloads_json(codec: PayloadCodec, body: dict[str, Any]) -> dict[str, Any]:
    return await _apply_json(body, codec.encode)


async def decode_payloads_json(codec: PayloadCodec, body: dict[str, Any]) -> dict[str, Any]:
    return await _apply_json(body, codec.decode)
