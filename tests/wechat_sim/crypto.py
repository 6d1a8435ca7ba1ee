"""WeChat callback crypto, written from Tencent's protocol description.

Independent of wechatpy on purpose (hashlib + ``cryptography`` only), so tests
can cross-check two implementations against each other and against Tencent's
published sample vectors.

Protocol summary (公众号 "安全模式" and 企业微信 callbacks are identical except
that 企业微信 is always encrypted and uses the corpid as the receive-id):

* plaintext signature  = sha1(join(sorted([token, timestamp, nonce])))
* msg_signature        = sha1(join(sorted([token, timestamp, nonce, encrypt])))
* AESKey               = base64decode(EncodingAESKey + "=")   (43 chars -> 32 bytes)
* cipher               = AES-256-CBC, IV = AESKey[:16]
* padding              = PKCS#7 to a 32-byte block (pad byte 1..32)
* plaintext layout     = random(16) | len(msg) as 4-byte big-endian | msg | receive_id
* Encrypt              = base64(ciphertext)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class SimCryptoError(ValueError):
    """Bad key, bad padding, bad layout or wrong receive-id."""


def _to_bytes(v: str | bytes) -> bytes:
    return v if isinstance(v, bytes) else v.encode("utf-8")


def sha1_signature(*parts: str | bytes) -> str:
    """SHA-1 hex of the lexicographically sorted, concatenated parts."""
    items = sorted(_to_bytes(p) for p in parts)
    return hashlib.sha1(b"".join(items)).hexdigest()


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """公众号 ``signature`` (URL verification and every POST query)."""
    return sha1_signature(token, timestamp, nonce)


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """``msg_signature`` for safe mode / 企业微信 (also over the encrypted echostr)."""
    return sha1_signature(token, timestamp, nonce, encrypt)


def signatures_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise SimCryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as e:
        raise SimCryptoError(f"EncodingAESKey is not base64: {e}") from e
    if len(key) != 32:
        raise SimCryptoError("EncodingAESKey must decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block: int = BLOCK) -> bytes:
    n = block - (len(data) % block)  # 1..block, a full block when already aligned
    return data + bytes([n]) * n


def pkcs7_unpad(data: bytes, block: int = BLOCK) -> bytes:
    if not data or len(data) % 16:
        raise SimCryptoError("ciphertext length is not a multiple of the AES block")
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise SimCryptoError("bad PKCS#7 padding")
    return data[:-n]


def _cipher(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(
    encoding_aes_key: str,
    receive_id: str,
    message: str | bytes,
    *,
    random16: bytes | None = None,
) -> str:
    """Encrypt ``message`` for ``receive_id`` (appid / corpid); returns base64 text."""
    key = aes_key(encoding_aes_key)
    rnd = os.urandom(16) if random16 is None else random16
    if len(rnd) != 16:
        raise SimCryptoError("random prefix must be 16 bytes")
    body = _to_bytes(message)
    plain = rnd + struct.pack(">I", len(body)) + body + _to_bytes(receive_id)
    enc = _cipher(key).encryptor()
    ct = enc.update(pkcs7_pad(plain)) + enc.finalize()
    return base64.b64encode(ct).decode("ascii")


def decrypt_raw(encoding_aes_key: str, encrypted: str) -> tuple[bytes, bytes]:
    """Decrypt base64 ``encrypted``; returns (message bytes, receive_id bytes)."""
    key = aes_key(encoding_aes_key)
    try:
        ct = base64.b64decode(encrypted, validate=True)
    except binascii.Error as e:
        raise SimCryptoError(f"Encrypt is not base64: {e}") from e
    if not ct or len(ct) % 16:
        raise SimCryptoError("ciphertext length is not a multiple of the AES block")
    dec = _cipher(key).decryptor()
    plain = pkcs7_unpad(dec.update(ct) + dec.finalize())
    if len(plain) < 20:
        raise SimCryptoError("plaintext too short")
    (n,) = struct.unpack(">I", plain[16:20])
    if 20 + n > len(plain):
        raise SimCryptoError("declared message length exceeds plaintext")
    return plain[20 : 20 + n], plain[20 + n :]


def decrypt(encoding_aes_key: str, encrypted: str, expected_receive_id: str | None) -> str:
    """Decrypt and check the trailing receive-id (skip the check with None)."""
    msg, rid = decrypt_raw(encoding_aes_key, encrypted)
    if expected_receive_id is not None and rid != _to_bytes(expected_receive_id):
        raise SimCryptoError(f"receive-id mismatch: {rid!r}")
    return msg.decode("utf-8")
