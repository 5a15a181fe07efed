"""`make bench` part: the scan log on littlefs, counted by the block device (flash cost, fit, wear).

Runs gerbang_dev/bench/mp_scanlog_bench.py under the MicroPython unix port (the firmware's own
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
        [MICROPYTHON, "-X", "heapsize=112K", "gerbang_dev/bench/mp_scanlog_bench.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    vals = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        vals[key] = int(value)
    return vals


FILLS_PER_YEAR = 2  # assumed long offline periods that fill the flash (each ~11 days of scans)


def per_day(v: dict[str, int], key: str, count: str) -> float:
    """Erases per day at SCANS_PER_DAY from a run's erases per append (acks included)."""
    return SCANS_PER_DAY * v[key] / max(1, v[count])


def years(erases_per_day: float) -> float:
    return ERASE_CYCLES / erases_per_day / 365


def run() -> None:
    v = measure()
    rec = v["record_bytes"]
    fit = v["records_in_2mib"]
    print(f"record: {rec} bytes; segments of {v['segment_records']} records, reserve "
          f"{v['reserve_blocks']} blocks; sync (ack) every {v['ack_every']} appends")
    print(f"records that fit in 2 MiB beside a 36 KiB trust file (filled until the first drop): "
          f"{fit} ({2 * 1024 * 1024 / fit:.1f} flash bytes per record; "
          f"{v['free_blocks_at_full']} blocks free at full)")
    for key, text in (("sync", "synced (acked segments deleted at the ack)"),
                      ("offline", "offline, ~48 unacked segments in the directory"),
                      ("lazy", "near full, old policy (acked segments kept until needed)")):
        n = max(1, v[key + "_appends"])
        print(f"per append, {text}: {v[key + '_erases'] / n:.2f} erases, "
              f"{v[key + '_bytes'] / n:.0f} bytes programmed, {v[key + '_reads'] / n:.0f} "
              f"block reads (worst single append {v[key + '_worst_reads']}), "
              f"{1000 * v[key + '_ms_unix'] / n:.0f} us on the unix port")
    print(f"baseline, same run, 1000 records flushed every 128 (not durable): "
          f"{v['batched_1000_bytes']} bytes programmed, {v['batched_1000_erases']} blocks erased "
          f"-> durability costs x{v['sync_erases'] / max(1, v['batched_1000_erases']) * 1000 / max(1, v['sync_appends']):.0f} erases")
    print(f"cursor update (ack) + append, 20 pairs: {v['ackpair_20_erases']} erases, "
          f"{v['ackpair_20_bytes'] / 20:.0f} bytes programmed each")
    fill_max = v["fill_max_block"]
    print(f"one fill (offline until the first drop, {v['fill_appends']} appends): "
          f"{v['fill_erases']} erases on {v['fill_blocks_erased']} blocks, most-erased block "
          f"{fill_max} (mean {v['fill_erases'] / max(1, v['fill_blocks_erased']):.0f})")
    rows = []
    for key, wkey, text in (("lazy", "lazy", "old policy (keep acked), near full"),
                            ("prompt", "prompt", "new policy (delete at ack)"),
                            ("long", "long", "new policy, longer window")):
        if key == "long":
            n = v["prompt_appends"] + v["more_appends"]
            e = v["prompt_erases"] + v["more_erases"]
        else:
            n, e = v[key + "_appends"], v[key + "_erases"]
        mx = v[wkey + "_max_block"]
        mean_day = SCANS_PER_DAY * e / max(1, n) / (BLOCKS - STATIC_BLOCKS)
        worst_day = SCANS_PER_DAY * mx / max(1, n)
        fills_day = FILLS_PER_YEAR * fill_max / 365
        rows.append((years(worst_day + fills_day), years(mean_day)))
        print(f"steady state, {text}: {n} appends, {e} erases on {v[wkey + '_blocks_erased']} "
              f"blocks, most-erased {mx} (mean over {BLOCKS - STATIC_BLOCKS}: "
              f"{e / (BLOCKS - STATIC_BLOCKS):.0f}) -> lifetime {years(mean_day):.1f} years "
              f"mean-based, {years(worst_day):.1f} years worst block, "
              f"{rows[-1][0]:.1f} with {FILLS_PER_YEAR} fills/year")
    worst_years = rows[-1][0]
    print(f"projected lifetime (worst block, new policy, {SCANS_PER_DAY} scans/day, acks every "
          f"{v['ack_every']}, {FILLS_PER_YEAR} fills/year, {ERASE_CYCLES} cycles): "
          f"{worst_years:.1f} years; mean-based {rows[-1][1]:.1f} years")
    for ok, text in (
        (rec <= 32, f"record <= 32 bytes ({rec})"),
        (fit >= 40_000, f">= 40,000 records in 2 MiB ({fit})"),
        (worst_years >= 10, f"lifetime >= 10 years, worst block ({worst_years:.1f})"),
    ):
        print(("PASS " if ok else "FAIL ") + text)
