# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench bench-quick bench-denoise-quality smoke package pretrained clean

# Reinstall only when pyproject.toml changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/aestudio

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The tests, a smoke run of the app, and every benchmark in its quick mode (so they keep working).
test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	QT_QPA_PLATFORM=offscreen $(BIN)/aestudio smoke --out build/smoke/1366x768 --size 1366x768
	QT_QPA_PLATFORM=offscreen $(BIN)/aestudio smoke --out build/smoke/1920x1080 --size 1920x1080
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py --quick

# Every figure (about 25 minutes); the denoising quality rows come from the last saved run of
# benchmarks/denoise_quality.py unless bench-denoise-quality reruns it (about an hour).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py

bench-denoise-quality: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py --with-denoise-quality

bench-quick: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py --quick

# The one-folder desktop app in dist/aestudio/, built in its own venv with CPU torch,
# then checked with a smoke run (docs/packaging.md).
package:
	PYTHON=$(PYTHON) bash packaging/build_app.sh

# Rebuild the bundled photo denoiser's training set and weights (packaging/pretrained.py).
pretrained: $(STAMP)
	$(BIN)/python packaging/pretrained.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
