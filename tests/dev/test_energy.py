"""Energy estimate: hand-computed figures, scaling, and the CLI."""

import json
import subprocess
import sys

import pytest

from gerbang_dev import energy


def test_one_hour_idle_profile_by_hand():
    # a whole day idle, induction mode: ESP32 awake 40 mA + scanner standby 30 mA = 70 mA
    r = energy.estimate({"idle": 3600.0}, "induction", battery_mah=1000, derate=1.0)
    assert r["mah_per_day"] == pytest.approx(70 * 24)
    assert r["battery_days"] == pytest.approx(1000 / (70 * 24))


def test_continuous_mode_costs_scanner_illumination_all_day():
    ind = energy.estimate({"sleep": 86400.0}, "induction")["mah_per_day"]
    cont = energy.estimate({"sleep": 86400.0}, "continuous")["mah_per_day"]
    assert ind == pytest.approx((1 + 30) * 24)
    assert cont == pytest.approx((1 + 160) * 24)


def test_sync_windows_and_relay_add_up():
    day = energy.synthetic_day(scans=0, sync_every_s=900, sync_s=4, light_sleep=True)
    assert day["wifi"] == pytest.approx(96 * 4)
    r = energy.estimate(day, "induction", allows=100, relay_ms=3000)
    assert r["by_state"]["wifi"] == pytest.approx(96 * 4 * 230 / 3600)
    assert r["by_state"]["relay"] == pytest.approx(100 * 3 * 70 / 3600)


def test_profile_from_board_is_scaled_to_a_day():
    half = energy.estimate({"idle": 1800.0, "deciding": 1800.0}, "induction")
    assert half["period_s"] == 3600
    assert half["mah_per_day"] == pytest.approx(12 * 70 + 12 * 90)
    with pytest.raises(ValueError):
        energy.estimate({}, "induction")


def test_cli_reads_board_status_json(tmp_path):
    p = tmp_path / "status.json"
    p.write_text(json.dumps({"energy": {"seconds": {"sleep": 80000, "idle": 6000,
                                                    "scanning": 200, "deciding": 100,
                                                    "wifi": 100}}}))
    out = subprocess.run([sys.executable, "-m", "gerbang_dev.energy", "--profile", str(p), "--json"],
                         capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    assert 700 < r["mah_per_day"] < 1200
    assert subprocess.run([sys.executable, "-m", "gerbang_dev.energy", "--help"],
                          capture_output=True).returncode == 0
