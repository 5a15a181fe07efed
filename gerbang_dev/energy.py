"""Energy estimate of a door unit: a day's state profile -> mAh/day and battery days.

The profile is what the firmware's EnergyMeter records (gerbang/energy.py, App.status()
["energy"]): seconds spent in sleep / idle / scanning / deciding / wifi over some period. It is
scaled to 24 h. Or give a synthetic day (--scans, --sync-every, --sync-seconds).

Currents (mA) per state = ESP32 part + scanner part. Datasheet figures (docs/FIRMWARE.md):
scanner 30 standby / 160 scanning (illumination on), ESP32 light sleep ~1, WiFi TX 160-260
(we take 200 as the average of a sync window: association, TLS, a few requests). Assumed, not
from the design notes: CPU awake without radio (modem sleep, 160 MHz) 40 mA, busy deciding
(240 MHz) 60 mA, relay coil 70 mA for relay_ms per allow. In continuous mode the scanner
illuminates all the time (160 mA whatever the ESP32 does); in induction mode only while reading.

    gerbang energy --profile status.json --battery-mah 10000
    python -m gerbang_dev.energy --scans 800 --sync-every 900 --mode induction
"""

from __future__ import annotations

import argparse
import json
import sys

DAY = 86400.0
ESP32_MA = {"sleep": 1.0, "idle": 40.0, "scanning": 40.0, "deciding": 60.0, "wifi": 200.0}
SCANNER_STANDBY_MA = 30.0
SCANNER_ACTIVE_MA = 160.0
RELAY_MA = 70.0
STATES = ("sleep", "idle", "scanning", "deciding", "wifi")


def currents(mode: str = "induction") -> dict[str, float]:
    """mA per state for the whole unit (ESP32 + scanner)."""
    out = {}
    for s in STATES:
        scan = SCANNER_ACTIVE_MA if (mode == "continuous" or s == "scanning") else SCANNER_STANDBY_MA
        out[s] = ESP32_MA[s] + scan
    return out


def synthetic_day(scans: int, sync_every_s: float, sync_s: float, scan_s: float = 0.4,
                  decide_s: float = 0.15, light_sleep: bool = False) -> dict[str, float]:
    """Seconds per state for a day with `scans` scans and a sync every sync_every_s."""
    syncs = DAY / sync_every_s if sync_every_s > 0 else 0
    busy = {"scanning": scans * scan_s, "deciding": scans * decide_s, "wifi": syncs * sync_s}
    rest = max(0.0, DAY - sum(busy.values()))
    busy["sleep" if light_sleep else "idle"] = rest
    busy.setdefault("sleep", 0.0)
    busy.setdefault("idle", 0.0)
    return busy


def estimate(seconds: dict[str, float], mode: str = "induction", allows: int = 0,
             relay_ms: int = 3000, battery_mah: float = 10000.0, derate: float = 0.8) -> dict:
    """-> {"mah_per_day", "battery_days", "by_state": {state: mAh/day}, "period_s"}."""
    period = sum(seconds.get(s, 0.0) for s in STATES)
    if period <= 0:
        raise ValueError("empty profile")
    scale = DAY / period
    ma = currents(mode)
    by_state = {s: seconds.get(s, 0.0) * scale * ma[s] / 3600.0 for s in STATES}
    by_state["relay"] = allows * scale * relay_ms / 1000.0 * RELAY_MA / 3600.0
    total = sum(by_state.values())
    return {"mah_per_day": total, "battery_days": battery_mah * derate / total,
            "by_state": by_state, "period_s": period, "currents_ma": ma}


def _profile_seconds(path: str) -> dict[str, float]:
    """The 'seconds' of a profile file, or a one-line refusal (exit 2)."""
    import click

    try:
        with open(path) as f:
            prof = json.load(f)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--profile") \
            from None
    except ValueError as e:
        raise click.BadParameter(f"{path} is not JSON ({e})", param_hint="--profile") from None
    prof = prof.get("energy", prof) if isinstance(prof, dict) else None
    seconds = prof.get("seconds") if isinstance(prof, dict) else None
    if not isinstance(seconds, dict) or not all(
            isinstance(v, int | float) and v >= 0 for v in seconds.values()):
        raise click.BadParameter(f"{path}: expected {{'seconds': {{state: seconds}}}} "
                                 "(App.status()['energy'])", param_hint="--profile")
    return seconds


def cmd(args: argparse.Namespace) -> int:
    import click

    allows = args.allows
    if args.profile:
        seconds = _profile_seconds(args.profile)
    else:
        seconds = synthetic_day(args.scans, args.sync_every, args.sync_seconds,
                                light_sleep=args.light_sleep)
        if allows is None:
            allows = args.scans
    try:
        r = estimate(seconds, args.mode, allows or 0, args.relay_ms, args.battery_mah,
                     args.derate)
    except ValueError as e:
        raise click.BadParameter(f"{e}: the profile covers no time", param_hint="--profile") \
            from None
    if args.json:
        print(json.dumps(r, indent=1))
        return 0
    print(f"profile over {r['period_s']:.0f} s, scaled to 24 h, scanner mode {args.mode}")
    for s, v in r["by_state"].items():
        print(f"  {s:9s} {v:9.1f} mAh/day")
    print(f"total {r['mah_per_day']:.0f} mAh/day; {args.battery_mah:.0f} mAh battery "
          f"(x{args.derate} usable) lasts {r['battery_days']:.2f} days")
    return 0


def register():  # type: ignore[no-untyped-def]
    """The `gerbang energy` click command (entry point gerbang.dev_commands)."""
    import click

    pos = click.FloatRange(min=0, min_open=True)

    @click.command("energy", help=__doc__, short_help="mAh/day and battery days from a profile")
    @click.option("--profile", type=click.Path(dir_okay=False),
                  help="JSON from the board: {'seconds': {...}} or App.status()")
    @click.option("--scans", type=click.IntRange(0, 10**6), default=500,
                  help="scans per day (synthetic day)")
    @click.option("--allows", type=click.IntRange(0, 10**6), default=None,
                  help="relay pulses per profile period")
    @click.option("--sync-every", type=pos, default=900.0, help="seconds between syncs")
    @click.option("--sync-seconds", type=click.FloatRange(0, 3600), default=4.0,
                  help="radio-on time per sync")
    @click.option("--light-sleep", is_flag=True, help="idle time spent in light sleep")
    @click.option("--mode", type=click.Choice(["induction", "continuous"]), default="induction")
    @click.option("--relay-ms", type=click.IntRange(0, 60000), default=3000)
    @click.option("--battery-mah", type=pos, default=10000.0)
    @click.option("--derate", type=click.FloatRange(0, 1, min_open=True), default=0.8,
                  help="usable fraction of the capacity")
    @click.option("--json", "json_", is_flag=True)
    def energy(json_: bool, **kw) -> int:  # type: ignore[no-untyped-def]
        return cmd(argparse.Namespace(json=json_, **kw))

    return energy


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("energy"))
