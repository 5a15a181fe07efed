"""SHA-512 (firmware/gerbang/sha512.py): FIPS 180 known answers, incremental use, hashlib."""

import sys

from fwtest import check, skip
from gerbang.sha512 import SHA512, sha512

# Published known answers (FIPS 180-2 appendix C / NIST CSRC SHA-512 examples).
_ABC = ("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
_EMPTY = ("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
_TWO_BLOCK = ("8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
              "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
_TWO_BLOCK_MSG = (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                  b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
_448 = ("204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
        "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445")
_448_MSG = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
_MILLION_A = ("e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
              "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b")


def _hex(b):
    return "".join("%02x" % x for x in b)


def test_known_answers():
    check(_hex(sha512(b"abc")) == _ABC)
    check(_hex(sha512(b"")) == _EMPTY)
    check(_hex(sha512(_448_MSG)) == _448)
    check(_hex(sha512(_TWO_BLOCK_MSG)) == _TWO_BLOCK)


def test_million_a_incrementally():
    h = SHA512()
    chunk = b"a" * 1000
    for _ in range(1000):
        h.update(chunk)
    check(_hex(h.digest()) == _MILLION_A)


def test_digest_is_64_bytes_of_bytes_type():
    d = sha512(b"abc")
    check(isinstance(d, bytes) and len(d) == 64)


def test_accepts_bytearray_and_memoryview():
    check(_hex(sha512(bytearray(b"abc"))) == _ABC)
    check(_hex(sha512(memoryview(b"xxabcxx")[2:5])) == _ABC)


def test_split_updates_equal_one_shot_around_block_boundaries():
    data = bytes((i * 7 + 3) & 0xFF for i in range(300))
    for n in (0, 1, 110, 111, 112, 113, 127, 128, 129, 239, 240, 256, 300):
        whole = sha512(data[:n])
        for cut in (0, 1, n // 2, n - 1, n):
            if not 0 <= cut <= n:
                continue
            h = SHA512()
            h.update(data[:cut])
            h.update(data[cut:n])
            check(h.digest() == whole, "split %d/%d" % (cut, n))


def test_digest_does_not_finalize():
    h = SHA512(b"ab")
    first = h.digest()
    check(h.digest() == first)
    h.update(b"c")
    check(_hex(h.digest()) == _ABC)


def test_one_bit_change_changes_digest():
    check(sha512(b"abd") != sha512(b"abc"))


def test_matches_hashlib_on_random_lengths():
    if sys.implementation.name == "micropython":
        skip("no hashlib.sha512 on MicroPython: cross-check runs under CPython")
    import hashlib
    import random

    rng = random.Random(512)
    for n in list(range(0, 300)) + [rng.randrange(300, 3000) for _ in range(10)]:
        data = bytes(rng.getrandbits(8) for _ in range(n))
        check(sha512(data) == hashlib.sha512(data).digest(), "length %d" % n)
