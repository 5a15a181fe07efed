"""MicroPython side of the crypto benchmark (gerbang_dev/bench/crypto.py runs it, often under valgrind).

    micropython gerbang_dev/bench/mp_crypto_bench.py OP N PUB_HEX SIG_HEX

Run from the repository root. Loads the modules, builds the PublicKey and the base-point table
once (the signature of MSG comes from the host, so no signing happens here), then does N
operations: verify (firmware), naive (gerbang_dev/bench/naive_ed25519.py), sha
(firmware SHA-512 of 200 bytes), none. The bench runs N=1 and N=3 and takes half the
difference, so start-up, imports and table building cancel out.
OP `time` prints microseconds per verify; `mem` prints heap figures (see crypto.py).
"""

import gc
import sys

sys.path.insert(0, "firmware")
sys.path.insert(0, "gerbang_dev/bench")

from gerbang import ed25519  # noqa: E402
from gerbang.sha512 import sha512  # noqa: E402

MSG = bytes((i * 37 + 11) & 0xFF for i in range(200))  # a certificate-sized Sig_structure

def main():
    op = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    pub = bytes.fromhex(sys.argv[3])
    sig = bytes.fromhex(sys.argv[4])
    key = ed25519.PublicKey(pub)
    from gerbang.ed25519_tables import base_table

    base_table()  # PublicKey() built it; a door unit builds it when the trust list loads
    gc.collect()
    if op == "verify":
        for _ in range(n):
            if not key.verify(MSG, sig):
                raise SystemExit("verify failed")
    elif op == "naive":
        import naive_ed25519

        for _ in range(n):
            if not naive_ed25519.verify(pub, MSG, sig):
                raise SystemExit("naive verify failed")
    elif op == "sha":
        for _ in range(n):
            sha512(MSG)
    elif op == "time":
        import time

        best = None
        for _ in range(n):
            t0 = time.ticks_us()
            key.verify(MSG, sig)
            dt = time.ticks_diff(time.ticks_us(), t0)
            best = dt if best is None or dt < best else best
        print("us", best)
    elif op == "mem":
        # persistent: heap held by one more PublicKey (its table) after a collection
        gc.collect()
        a0 = gc.mem_alloc()
        extra = ed25519.PublicKey(pub)
        gc.collect()
        print("key_bytes", gc.mem_alloc() - a0)
        print("heap_alloc", gc.mem_alloc())
        extra.verify(MSG, sig)
    elif op == "room":
        # leave only about N free bytes (ballast chunks take the rest), then verify once
        ballast = [None] * 2048
        i = 0
        for size in (1024, 128, 16):
            gc.collect()
            while gc.mem_free() - size - 32 > n and i < 2048:
                try:
                    ballast[i] = bytearray(size)
                except MemoryError:  # no contiguous room of this size left: go smaller
                    break
                i += 1
        gc.collect()
        free = gc.mem_free()
        ok = key.verify(MSG, sig)
        print("free", free, "ok" if ok and ballast is not None else "bad")
    elif op == "heap":
        # used with a small -X heapsize to find the smallest heap a verify fits in
        ok = key.verify(MSG, sig) if n else True
        print("ok" if ok else "bad")
    elif op != "none":
        raise SystemExit("unknown op " + op)


main()
