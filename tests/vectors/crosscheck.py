#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""
Re-derives every vector in this directory with implementations that share
no code with libsodium or libvigil: Python's hashlib (BLAKE2b), OpenSSL's
ChaCha20 and ChaCha20-Poly1305 through the `cryptography` package, and the
HChaCha20 core written out below.  Not part of `make check` (it needs
`cryptography`); run it by hand when a vector file is added:

    python3 tests/vectors/crosscheck.py
"""
import base64
import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    """Returns {test: {key: bytes}} from a .exp file."""
    recs, cur = {}, None
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, v = (x.strip() for x in line.split("=", 1))
            if k == "test":
                cur = recs.setdefault(v, {})
                continue
            cur[k] = v[1:-1].encode() if v.startswith('"') else bytes.fromhex(v)
    return recs


def rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = rotl(s[b] ^ s[c], 7)


def hchacha20(key, n16):
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", n16))
    for _ in range(10):
        qr(s, 0, 4, 8, 12), qr(s, 1, 5, 9, 13)
        qr(s, 2, 6, 10, 14), qr(s, 3, 7, 11, 15)
        qr(s, 0, 5, 10, 15), qr(s, 1, 6, 11, 12)
        qr(s, 2, 7, 8, 13), qr(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xaead(key, nonce):
    return ChaCha20Poly1305(hchacha20(key, nonce[:16])), b"\0" * 4 + nonce[16:]


def xstream(key, nonce, msg):
    c = Cipher(algorithms.ChaCha20(hchacha20(key, nonce[:16]),
                                   b"\0" * 8 + nonce[16:]), mode=None)
    return c.encryptor().update(msg)


def derive(root, label):
    return hashlib.blake2b(label, key=root, digest_size=32).digest()


def ad(magic, ident, epoch, name):
    return magic + ident + epoch + bytes([len(name)]) + name


def b32(x):
    return base64.b32encode(x).decode().rstrip("=").lower()


def main():
    bad = 0

    def check(ok, what):
        nonlocal bad
        print(("ok   " if ok else "FAIL ") + what)
        bad += not ok

    v = load("xchacha20poly1305.exp")["aead_xchacha20poly1305_ietf"]
    a, n = xaead(v["key"], v["nonce"])
    check(a.encrypt(n, v["pt"], v["ad"]) == v["ct"] + v["tag"],
          "xchacha20poly1305.exp")
    for name, v in load("blake2b-keyed.exp").items():
        check(hashlib.blake2b(v.get("in", b""), key=v["key"]).digest() ==
              v["out"], "blake2b-keyed.exp " + name)
    r = load("vigil-v1.exp")
    s = r["seal"]
    a, n = xaead(s["key"], s["sealed"][:24])
    check(a.decrypt(n, s["sealed"][24:],
                    ad(b"vgf1", s["id"], s["epoch"], s["field"])) == s["pt"],
          "vigil-v1.exp seal")
    w = r["wrap"]
    a, n = xaead(w["kek"], w["wrapped"][:24])
    check(a.decrypt(n, w["wrapped"][24:],
                    ad(b"vgk1", b"\0" * 16, w["epoch"], w["kind"])) == w["key"],
          "vigil-v1.exp wrap")
    d = r["derive"]
    check(derive(d["root"], d["label"]) == d["out"], "vigil-v1.exp derive")
    b = r["blind_index"]
    check(hashlib.blake2b(b["canon"], key=b["key"], digest_size=16).digest()
          == b["out"], "vigil-v1.exp blind_index")
    p = r["pseudonym"]
    tag = hashlib.blake2b(p["id"], key=derive(p["ckey"], b"psn:mac"),
                          digest_size=8).digest()
    body = xstream(derive(p["ckey"], b"psn:enc"), tag + b"\0" * 16, p["id"])
    check(tag + body == p["psn"], "vigil-v1.exp pseudonym")
    check("psn_" + b32(p["psn"]) == p["psn_text"].decode() and
          "cus_" + b32(p["id"]) == p["id_text"].decode(),
          "vigil-v1.exp text forms")
    k = r["b64_key"]
    check(base64.b64encode(k["key"]) == k["text"], "vigil-v1.exp b64_key")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
