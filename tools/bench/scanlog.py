"""`make bench` part: the scan log on littlefs, counted by the block device (flash cost, fit, wear).

Runs tools/bench/mp_scanlog_bench.py under the MicroPython unix port (the firmware's own
interpreter, ESP32 heap) against a counting 512 x 4 KiB block device, then derives the lifetime.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")

SCANS_PER_DAY = 5000
SYNCS_PER_DAY = 96  # one sync (one cursor write) every 15 minutes
ERASE_CYCLES = 100_000
BLOCKS = 512
STATIC_BLOCKS = 64  # firmware + trust list + config (256 KiB) never rotate: no wear levelling


def measure() -> dict[str, int]:
    proc = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=112K", "tools/bench/mp_scanlog_bench.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    vals = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        vals[key] = int(value)
    return vals


def lifetime_years(v: dict[str, int]) -> float:
    erases_per_day = (SCANS_PER_DAY / 1000 * v["durable_1000_erases"]
                      + SYNCS_PER_DAY * v["ack_20_erases"] / 20)
    return ERASE_CYCLES * (BLOCKS - STATIC_BLOCKS) / erases_per_day / 365


def run() -> None:
    v = measure()
    years = lifetime_years(v)
    rec = v["record_bytes"]
    fit = v["records_in_2mib"]
    print(f"record: {rec} bytes; segments of {v['segment_records']} records, "
          f"reserve {v['reserve_blocks']} blocks")
    print(f"records that fit in 2 MiB (filled until the first drop): {fit} "
          f"({2 * 1024 * 1024 / fit:.1f} flash bytes per record; "
          f"{v['free_blocks_at_full']} blocks free at full)")
    print(f"per 1,000 durable appends (flush each): {v['durable_1000_bytes']} bytes programmed, "
          f"{v['durable_1000_erases']} blocks erased, {v['durable_1000_progs']} programs, "
          f"{v['durable_1000_reads']} reads ({v['durable_1000_ms_unix']} ms on the unix port)")
    print(f"baseline, same run, flush every 128 records (not durable): "
          f"{v['batched_1000_bytes']} bytes programmed, {v['batched_1000_erases']} blocks erased "
          f"-> durability costs x{v['durable_1000_erases'] / max(1, v['batched_1000_erases']):.0f} "
          f"erases")
    print(f"cursor update (ack): {v['ack_20_bytes'] / 20:.0f} bytes programmed, "
          f"{v['ack_20_erases'] / 20:.2f} blocks erased each")
    print(f"wear over one fill: {v['fill_erases']} erases on {v['fill_blocks_erased']} blocks, "
          f"max {v['fill_max_erases_per_block']} per block "
          f"(mean {v['fill_erases'] / max(1, v['fill_blocks_erased']):.1f})")
    print(f"projected lifetime: {years:.1f} years at {SCANS_PER_DAY} scans/day + "
          f"{SYNCS_PER_DAY} syncs/day, {ERASE_CYCLES} erase cycles/block, erases spread by "
          f"littlefs over {BLOCKS - STATIC_BLOCKS} blocks ({STATIC_BLOCKS} static)")
    for ok, text in (
        (rec <= 32, f"record <= 32 bytes ({rec})"),
        (fit >= 40_000, f">= 40,000 records in 2 MiB ({fit})"),
        (years >= 10, f"lifetime >= 10 years ({years:.1f})"),
    ):
        print(("PASS " if ok else "FAIL ") + text)
