# semcom: run `make help` for the targets.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help setup demo test lint fmt

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup:  ## install Debian packages, the venv and Python packages (idempotent)
	@bash scripts/setup.sh

demo: setup  ## set up, then run the hardware-free loopback (TX -> channel emulator -> RX)
	$(VENV)/bin/semcom doctor
	$(VENV)/bin/semcom loopback --out out/loopback

test: setup  ## set up, then lint and run the test suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -v $(PYTEST_ARGS)

lint: setup  ## ruff
	$(VENV)/bin/ruff check .

fmt: setup  ## ruff autofix
	$(VENV)/bin/ruff check --fix .
