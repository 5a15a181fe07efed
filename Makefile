# Gerbang — one-command set-up: every target creates .venv from the pinned lock when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest bench vectors clean demo

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/python gerbang_dev/typecheck_firmware.py

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The README's test command: lint, firmware type check, host + firmware tests (CPython and the
# MicroPython unix port), mpy-cross -march=xtensawin over every firmware file.
test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m gerbang_dev.bench

demo: $(STAMP)
	$(BIN)/python -m gerbang_dev.demo

vectors: $(STAMP)
	$(BIN)/python -m gerbang_cli.cli vectors

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
