"""Payload encryption: tax ids and bank numbers never reach Temporal's history in clear."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload

from runtime.codec import (
    EncryptionCodec,
    PayloadDecryptionError,
    codec_from_settings,
    decode_payloads_json,
    encode_payloads_json,
)
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from tests.examples import supplier_request

KEY = os.urandom(32)


async def test_round_trip_and_metadata() -> None:
    codec = EncryptionCodec(KEY, "k1")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"tin": "45-2873311"}')
    [encrypted] = await codec.encode([plain])
    assert encrypted.metadata["encoding"] == b"binary/encrypted" and encrypted.metadata["encryption-key-id"] == b"k1"
    assert b"45-2873311" not in encrypted.data
    assert await codec.decode([encrypted]) == [plain]


async def test_tampering_and_unknown_keys_are_refused() -> None:
    codec = EncryptionCodec(KEY, "k1")
    [encrypted] = await codec.encode([Payload(data=b"x")])
    tampered = Payload(metadata=encrypted.metadata, data=encrypted.data[:-1] + bytes([encrypted.data[-1] ^ 1]))
    with pytest.raises(PayloadDecryptionError):
        await codec.decode([tampered])
    with pytest.raises(PayloadDecryptionError, match="unknown key id"):
        await EncryptionCodec(KEY, "k2").decode([encrypted])


async def test_unencrypted_payloads_pass_through() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    assert await EncryptionCodec(KEY, "k1").decode([plain]) == [plain]


async def test_remote_codec_json_protocol_round_trips() -> None:
    codec = EncryptionCodec(KEY, "k1")
    body = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "MQ=="}]}
    encoded = await encode_payloads_json(codec, body)
    assert encoded["payloads"][0]["data"] != "MQ=="
    assert await decode_payloads_json(codec, encoded) == body


def test_key_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY"):
        codec_from_settings(Settings(payload_encryption_key=base64.b64encode(b"short").decode()))


async def test_supplier_payload_is_encrypted_by_the_data_converter() -> None:
    converter = data_converter(Settings())
    request = supplier_request("new-supplier")
    [payload] = await converter.encode([request])
    for clear in (b"45-2873311", b"883100245561", b"021000021"):
        assert clear not in payload.SerializeToString()
    [decoded] = await converter.decode([payload], [type(request)])
    assert decoded == request
