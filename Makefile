# tarjama: `make run` sets up and translates the sample article; `make test` sets up and runs every test.
# Both create .venv when it is missing.  Override: make run ARTICLE=path/to/article.txt

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARTICLE ?= examples/seed_article.ar.txt
# torch first, pinned: on our machines pip takes the local 2.13.0 CPU wheel; an unpinned torch
# would pull a multi-GB CUDA build.  Any torch already installed that satisfies pyproject is kept.
TORCH  ?= torch==2.13.0
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup run demo test lint browser clean

$(BIN)/tarjama: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install "$(TORCH)"
	$(PIP) install -e ".[fast,ray,dev]"
	touch $@

setup: $(BIN)/tarjama

## the main job: translate and summarize an article with the real models (needs their weights)
run: setup
	$(BIN)/tarjama translate $(ARTICLE) --to en,es --summary

## the same on generated random-weight models, clearly labelled DEMO (output is noise)
demo: setup
	$(BIN)/tarjama demo $(ARTICLE)

## Debian's chromium for the browser tests (playwright cannot download browsers here)
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## pytest exit 5 (no tests collected) counts as a failure
test: setup browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); s=$$?; \
	  if [ $$s -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$s

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .models .pytest_cache
