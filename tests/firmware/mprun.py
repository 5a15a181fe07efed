"""Run firmware test modules under the MicroPython unix port (the pytest of the device side).

    micropython -X heapsize=112K tests/firmware/mprun.py test_cbor [test_x ...]
    micropython -X heapsize=112K tests/firmware/mprun.py test_check.py::test_clock_policy

Run from the repository root. Calls every `test_*` function of each module (no fixtures; or
the one named after `::`) and prints `N passed, N failed` as its last line; exit status 1 on
any failure.
"""

import gc
import os
import sys

sys.path.insert(0, "tests/firmware")
# GERBANG_FIRMWARE: a directory of the firmware compiled to .mpy (as deployed); default: source
sys.path.insert(0, os.getenv("GERBANG_FIRMWARE") or "firmware")

passed = failed = skipped = 0
for name in sys.argv[1:]:
    name, _, only = name.rsplit("/", 1)[-1].partition("::")
    if name.endswith(".py"):
        name = name[:-3]
    mod = __import__(name)
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_") or (only and attr != only):
            continue
        fn = getattr(mod, attr)
        if not callable(fn):
            continue
        gc.collect()
        try:
            fn()
            passed += 1
            print("PASS", name, attr)
        except Exception as e:  # report and go on, like pytest
            if type(e).__name__ == "SkipTest":
                skipped += 1
                print("SKIP", name, attr, e)
                continue
            failed += 1
            print("FAIL", name, attr)
            sys.print_exception(e)
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
