# Diancan: `make run` starts the demo restaurant, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# LAN=true: listen on every interface, and print and encode this machine's LAN address, so
# phones on the same Wi-Fi can order.
LAN ?= false
export LAN
HOST ?= $(if $(filter true 1 yes,$(LAN)),0.0.0.0,127.0.0.1)
export DEBUG ?= true
# The demo's WeChat Pay and Alipay are local simulators (simulators/, payments/README.md); a
# gateway configured in the environment (WECHATPAY_MCHID, ALIPAY_APPID) is used instead of its
# simulator. SIMULATORS=false: the built-in sandbox only.
SIMULATORS ?= true

.PHONY: run test install install-test lint format messages bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Diancan needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(PY) manage.py start_demo
	$(if $(filter true 1 yes,$(SIMULATORS)),$(PY) -m simulators.demo,$(PY) manage.py serve) --bind $(HOST) --port $(PORT)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

# mypy with django-stubs (settings in pyproject.toml); its Django plugin loads the settings.
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	$(PY) manage.py makemessages --locale zh_Hans --locale en --ignore '.venv/*' --no-obsolete
	$(PY) manage.py compilemessages --ignore '.venv/*'

bench: install-test
	$(PY) bench/bench_spine.py

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3
