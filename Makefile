# Two commands on a fresh Debian machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the test suite runs for real: Dovecot (IMAP + LMTP), notmuch (threading
# baseline), isync (mbsync, benchmarks), tmux (looking at the TUI as a person would).
APT_PACKAGES := dovecot-imapd dovecot-lmtpd notmuch isync tmux openssl ca-certificates

.PHONY: demo test venv apt bench clean lock fuzz

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 needed" >&2; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	# compat: a plain path in a .pth; the default editable finder costs every start ~8 ms
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e . --config-settings editable_mode=compat
	@touch $@

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: venv
	$(BIN)/tui-desk demo

test: venv apt
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The fuzz tests with many more (random) examples than `make test` runs; FUZZ_EXAMPLES per property.
# A failing input is written to tests/fuzz_corpus/ (replayed by every `make test`).
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q --timeout=0 --hypothesis-show-statistics tests/test_fuzz.py $(PYTEST_ARGS)

bench: venv apt
	$(BIN)/python bench/run_all.py

# Re-pin requirements.lock from a fresh resolve of pyproject.toml.
lock:
	rm -rf /tmp/tui-desk-lock && $(PYTHON) -m venv /tmp/tui-desk-lock
	/tmp/tui-desk-lock/bin/pip install -q -e '.[test]'
	/tmp/tui-desk-lock/bin/pip freeze --exclude-editable | grep -v '^tui' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
