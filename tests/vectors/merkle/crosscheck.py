#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Re-derives every merkle vector file in this directory from leaves.txt
with Python's hashlib and the recursive definitions of RFC 9162 section
2.1 (MTH, PATH, PROOF/SUBPROOF), written from the RFC text, with no vigil
code.  A transcription error in any hash shows up as a mismatch.

usage: python3 tests/vectors/merkle/crosscheck.py
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def sha(b):
    return hashlib.sha256(b).digest()


def leaf_hash(d):
    return sha(b"\x00" + d)


def node_hash(l, r):
    return sha(b"\x01" + l + r)


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return sha(b"")
    if len(d) == 1:
        return leaf_hash(d[0])
    k = split(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def records(name):
    with open(os.path.join(HERE, name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line.split()


def main():
    leaves = [b"" if r[2] == "-" else bytes.fromhex(r[2])
              for r in records("leaves.txt")]
    bad = 0
    checked = 0

    def check(what, got, want):
        nonlocal bad, checked
        checked += 1
        if got != want:
            bad += 1
            print("MISMATCH", what)

    for r in records("nodes.txt"):
        lvl, idx = int(r[1]), int(r[2])
        sub = leaves[idx << lvl:(idx + 1) << lvl]
        check(" ".join(r[:3]), mth(sub).hex(), r[3])
    for r in records("roots.txt"):
        check(" ".join(r[:2]), mth(leaves[:int(r[1])]).hex(), r[2])
    for r in records("inclusion.txt"):
        m, n = int(r[1]), int(r[2])
        check(" ".join(r[:3]), [h.hex() for h in path(m, leaves[:n])], r[3:])
    for r in records("consistency.txt"):
        m, n = int(r[1]), int(r[2])
        check(" ".join(r[:3]),
              [h.hex() for h in subproof(m, leaves[:n], True)], r[3:])
    print("%d checked, %d mismatches" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
