#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Re-checks the vectors in this directory without libsodium or libvigil.

Uses only hashlib and the pyca/cryptography Ed25519 implementation:
derives PeterNeumann's public key from the published signer key, checks
both verifier keys' key hashes, verifies both signatures in
peter-enoch.note and re-signs text.txt, which must reproduce the
published signature line byte for byte (Ed25519 is deterministic).
Run from anywhere: python3 tests/vectors/note/crosscheck.py
"""
import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat)

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


def key_hash(name, key):
    return hashlib.sha256(name + b"\n" + key).digest()[:4]


def parse_vkey(s):
    name, h, k = s.strip().split(b"+", 2)
    raw = base64.b64decode(k, validate=True)
    assert raw[0] == 1 and len(raw) == 33, "not an Ed25519 verifier key"
    assert bytes.fromhex(h.decode()) == key_hash(name, raw), "key hash"
    return name, bytes.fromhex(h.decode()), raw[1:]


fails = 0


def check(cond, what):
    global fails
    print(("ok   " if cond else "FAIL ") + what)
    fails += 0 if cond else 1


text = read("text.txt")
pname, pid, ppk = parse_vkey(read("peter.vkey"))
ename, eid, epk = parse_vkey(read("enoch.vkey"))
check(pname == b"PeterNeumann" and pid.hex() == "c74f20a3", "peter.vkey")
check(ename == b"EnochRoot" and eid.hex() == "af0cfe78", "enoch.vkey")

sk = read("peter.skey").strip().split(b"+", 4)
check(sk[:3] == [b"PRIVATE", b"KEY", b"PeterNeumann"], "peter.skey prefix")
seed = base64.b64decode(sk[4], validate=True)
priv = Ed25519PrivateKey.from_private_bytes(seed[1:])
pub = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
check(seed[0] == 1 and pub == ppk, "peter.skey derives peter.vkey")

note = read("peter-enoch.note")
check(note.startswith(text + b"\n"), "peter-enoch.note text")
for line in note[len(text) + 1:].splitlines():
    dash, name, b64 = line.split(b" ")
    raw = base64.b64decode(b64, validate=True)
    key = {pname: (pid, ppk), ename: (eid, epk)}[name]
    check(dash == "\u2014".encode() and raw[:4] == key[0], name.decode() +
          " signature line: em dash and key id")
    try:
        Ed25519PublicKey.from_public_bytes(key[1]).verify(raw[4:], text)
        check(True, name.decode() + " signature verifies")
    except Exception:
        check(False, name.decode() + " signature verifies")

sig = base64.b64encode(pid + priv.sign(text))
line = "\u2014 ".encode() + pname + b" " + sig + b"\n"
check(read("peter.note") == text + b"\n" + line, "re-signing gives peter.note")

cp = read("c2sp-checkpoint.txt").split(b"\n")
check(len(base64.b64decode(cp[2], validate=True)) == 32,
      "c2sp-checkpoint.txt root hash is 32 bytes")
sys.exit(1 if fails else 0)
