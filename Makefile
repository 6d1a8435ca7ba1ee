# Two commands do everything on a fresh machine:
#   make run   — install, migrate a SQLite database under var/, load demo data, serve on 127.0.0.1:8080
#   make test  — install what the tests need (Chromium, CJK fonts, Node gateway) and run the suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: run test install system-deps lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages: Chromium for browser tests, CJK fonts so Chinese renders (pages and PDFs).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk'; then \
		$(APT) update -qq && $(APT) install -y -qq chromium fonts-wqy-microhei fonts-noto-cjk >/dev/null; \
	fi

run: $(STAMP)
	mkdir -p var
	$(BIN)/linggong db upgrade
	$(BIN)/linggong demo load
	$(BIN)/linggong serve

# The official Node Wechaty gateway (puppet-service + mock puppet) used by the channel tests.
gateway/node_modules/.installed: gateway/package.json gateway/package-lock.json
	cd gateway && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) system-deps gateway/node_modules/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Static checks. For now the import contracts of pyproject.toml ([tool.importlinter]: layers, pure
# matching, storage's private SQLite fast paths); ruff and mypy may join here later.
lint: $(STAMP)
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var .pytest_cache
