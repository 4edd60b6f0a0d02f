# Development tasks. `make example` and `make test` are the README's two commands.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
FIXTURES ?= ../shared/pyinfra-fixtures

.PHONY: dev example test test-rust test-python lint-python fixtures fuzz lint clean

$(BIN)/maturin:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "maturin>=1.9,<2" "pytest>=8" "jinja2>=3" "pyyaml>=6" "ruff>=0.8" "mypy>=1.13"

## Build the extension into the virtualenv (debug build, shares cargo's cache).
dev: $(BIN)/maturin
	@$(BIN)/python -c "import jsonschema" 2>/dev/null || $(BIN)/pip install -q "jsonschema>=4"
	$(BIN)/maturin develop -q

## Run the example deploy on @local twice; the second run changes nothing.
example: dev
	rm -rf /tmp/oxinfra-example
	cd examples && ../$(BIN)/oxinfra @local deploy.py -y
	cd examples && ../$(BIN)/oxinfra @local deploy.py -y 2>&1 | tee /tmp/oxinfra-example-second-run.log
	@! grep -E "\] (Success|Error)" /tmp/oxinfra-example-second-run.log && echo "second run: no changes"

test-rust:
	if cargo nextest --version >/dev/null 2>&1; then cargo nextest run --workspace --no-fail-fast; else cargo test --workspace; fi

test-python: dev lab
	$(BIN)/pytest -q tests/python

## Python lint and the check of `_core`'s stubs against the built extension.
lint-python: dev
	$(BIN)/ruff check python tests
	$(BIN)/ruff format --check python tests
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest oxinfra._core

## pyinfra's own fixtures, when ../shared is beside the project.
fixtures: dev
	@if [ -d "$(FIXTURES)" ]; then $(BIN)/python -m oxinfra.fixtures "$(FIXTURES)" --min-rate 95; \
	else echo "skipped: no pyinfra fixtures at $(FIXTURES)"; fi

## Bounded-time fuzzing of the fact parsers and argument loaders (fuzz/src/main.rs):
## FUZZ_SECONDS per target, five targets; a panic fails and saves the input in fuzz/findings/.
FUZZ_SECONDS ?= 15
fuzz:
	cargo build -q -p oxinfra-fuzz
	@for target in facts operations ssh-config cli arguments; do target/debug/oxinfra-fuzz $$target $(FUZZ_SECONDS) || exit 1; done

## The whole suite: Rust tests, Python tests (lab hosts built first), Python lint, fixtures, fuzzing.
test: test-rust test-python lint-python fixtures fuzz

lint: lint-python
	cargo clippy --workspace --all-targets

clean:
	rm -rf target $(VENV)

## The lab's sshd test hosts (lab/README.md): build once, cached in $LAB_STATE (default
## /var/lib/lab); a no-op when up to date. Skipped where the lab tests skip.
.PHONY: lab
lab:
	@if [ "$${LAB_SKIP:-0}" = 1 ]; then echo "lab: skipped (LAB_SKIP=1)"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then echo "lab: skipped (needs root and unshare)"; \
	else lab/lab build; fi

## The side-by-side benchmark of issue 5 (bench/README.md): oxinfra (release build),
## pyinfra and Ansible on lab hosts; BENCH_ARGS="--hosts 10 --rtt 0 --tools oxinfra,pyinfra" for a smoke run.
.PHONY: bench
bench: lab
	bench/run $(BENCH_ARGS)
