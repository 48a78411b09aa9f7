# MR Studio — two commands: `make run` and `make test`. Both set everything up first.
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
export VENV TORCH_SPEC

.PHONY: setup setup-test run test test-all lint bench screenshots dist clean

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --test

run: setup
	$(VENV)/bin/mrstudio --study phantom

test: setup-test
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

test-all: setup-test
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q -m "not gpu" $(PYTEST_ARGS)

lint: setup-test
	$(VENV)/bin/ruff check mrstudio tests
	$(VENV)/bin/lint-imports

bench: setup
	$(VENV)/bin/mrstudio bench perf --out docs/bench-perf.md --force
	$(VENV)/bin/mrstudio bench infer --out docs/bench-infer-cpu.md --device cpu --force
	$(VENV)/bin/mrstudio bench cine --data anatomy --out docs/bench-cine-anatomy.md --device cpu --force
	$(VENV)/bin/mrstudio bench cine --out docs/bench-cine.md --device cpu --force
	$(VENV)/bin/mrstudio bench interp --out docs/bench-interp.md --device cpu --force
	$(VENV)/bin/mrstudio bench batch --out docs/bench-batch.md --force
	bash scripts/collect_benchmarks.sh

screenshots: setup
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/mrstudio --screenshot resources/screenshots/main.png

dist: setup
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check "pyinstaller>=6.10"
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/mrstudio.spec
	QT_QPA_PLATFORM=offscreen dist/mrstudio/mrstudio --version
	@du -sh dist/mrstudio

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
