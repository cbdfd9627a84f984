"""Encrypted backup archives: AES-256-GCM in 1 MiB chunks, the key from a passphrase (scrypt) or a key file.

Layout: ``PALPATE-ENC1\\n``, one JSON header line (how the key is derived, the salt, the nonce
prefix), then chunks: a 4-byte length and the ciphertext. Each chunk's nonce is the prefix, the
chunk's number and a "last chunk" flag, and the header is authenticated with every chunk, so a
reordered, truncated or extended file fails to decrypt instead of restoring part of a backup.
No Django here: ``palpate restore`` runs before any settings exist.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"PALPATE-ENC1\n"
CHUNK = 1 << 20
# scrypt cost: 2**15 x 8 x 1 takes about 32 MiB and a tenth of a second, per backup or restore.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class DecryptError(ValueError):
    pass


def _derive(secret: bytes, header: dict[str, object]) -> bytes:
    salt = base64.b64decode(str(header["salt"]))
    if header["kdf"] == "scrypt":
        return Scrypt(salt=salt, length=32, n=int(header["n"]), r=int(header["r"]), p=int(header["p"])).derive(secret)  # type: ignore[call-overload]
    if header["kdf"] == "hkdf-sha256":
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"palpate backup").derive(secret)
    raise DecryptError(f"unknown key derivation {header['kdf']!r}")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def encrypt_stream(source: BinaryIO, target: BinaryIO, *, passphrase: bytes | None = None,
                   key_material: bytes | None = None) -> None:
    if (passphrase is None) == (key_material is None):
        raise ValueError("give a passphrase or key material, not both")
    header: dict[str, object] = {"cipher": "AES-256-GCM", "chunk": CHUNK, "salt": base64.b64encode(os.urandom(16)).decode(),
                                 "nonce_prefix": base64.b64encode(os.urandom(7)).decode()}
    if passphrase is not None:
        header.update({"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P})
        secret = passphrase
    else:
        header["kdf"] = "hkdf-sha256"
        secret = key_material or b""
    header_line = json.dumps(header, sort_keys=True).encode() + b"\n"
    aead = AESGCM(_derive(secret, header))
    prefix = base64.b64decode(str(header["nonce_prefix"]))
    target.write(MAGIC + header_line)
    index = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        sealed = aead.encrypt(_nonce(prefix, index, last), chunk, header_line)
        target.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def decrypt_stream(source: BinaryIO, *, passphrase: bytes | None = None, key_material: bytes | None = None
                   ) -> Iterator[bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise DecryptError("not an encrypted Palpate backup")
    header_line = source.readline()
    try:
        header = json.loads(header_line)
    except ValueError as exc:
        raise DecryptError("the encryption header is damaged") from exc
    if header.get("kdf") == "scrypt" and passphrase is None:
        raise DecryptError("this backup was encrypted with a passphrase: give --passphrase-file")
    if header.get("kdf") == "hkdf-sha256" and key_material is None:
        raise DecryptError("this backup was encrypted with a key file: give --key-file")
    aead = AESGCM(_derive(passphrase if passphrase is not None else (key_material or b""), header))
    prefix = base64.b64decode(header["nonce_prefix"])
    index = 0
    size = source.read(4)
    while True:
        if len(size) != 4:
            raise DecryptError("the encrypted backup is truncated")
        (length,) = struct.unpack(">I", size)
        sealed = source.read(length)
        size = source.read(4)
        last = not size
        try:
            yield aead.decrypt(_nonce(prefix, index, last), sealed, header_line)
        except InvalidTag as exc:
            if index == 0:
                raise DecryptError("wrong passphrase or key file (or the backup is damaged)") from exc
            raise DecryptError(f"the encrypted backup is damaged or truncated at chunk {index}") from exc
        if last:
            return
        index += 1
