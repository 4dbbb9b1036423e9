# Two commands matter: `make test` and `make demo`. Everything they need is installed here,
# so a fresh machine with Python >= 3.11 and make is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := engine journal hactl

.PHONY: test lint typecheck pytest demo soak bench rpm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes; the project itself is installed editable.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check --no-cache $(PACKAGES) tests bench packaging

typecheck: $(STAMP)
	$(BIN)/mypy --strict $(PACKAGES)

pytest: $(STAMP)
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/python -m hactl.demo

# Thousands of seeds beyond CI's 500, over two-, three- and five-node shapes.
soak: $(STAMP)
	$(BIN)/hactl sim --seeds 1..5000 --nodes 2 --groups 2 --links 1 --faults all --duration 2m --jobs $$(nproc)
	$(BIN)/hactl sim --seeds 1..5000 --nodes 3 --groups 3 --faults all --duration 2m --jobs $$(nproc)
	$(BIN)/hactl sim --seeds 1..2000 --nodes 5 --groups 6 --faults all --duration 2m --jobs $$(nproc)

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info

# The three RPMs for this host's python3.11 (see packaging/rpm/build-rpms.sh for RHEL builds).
rpm: $(STAMP)
	packaging/rpm/build-rpms.sh --python python3.11 --local --out build/rpm
