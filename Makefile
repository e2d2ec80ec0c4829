# The two commands of the README. Both do all set-up first (idempotent).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
CKAN := $(VENV)/bin/ckan
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup setup-test bench bench-delivery clean-db

setup:
	bash deploy/setup.sh run

setup-test:
	bash deploy/setup.sh test

run: setup
	@echo "Portal: http://$(HOST):$(PORT)  (accounts: see README or 'ckan sanyi load-demo' output above)"
	$(CKAN) -c deploy/ckan.ini run --host $(HOST) --port $(PORT)

test: setup-test
	bash tests/run.sh

bench: setup
	$(VENV)/bin/python bench/search.py --ini deploy/ckan.ini

# the delivery gateway under uwsgi, as production serves it (its own scratch databases; see bench/delivery.py)
# (wrk, the Debian package, is the load generator: its CPU per call is a few percent of a
# Python client's, which on 2 cores would take the CPU the portal needs)
bench-delivery: setup
	command -v wrk >/dev/null 2>&1 || { $$(command -v sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$(command -v sudo) apt-get install -y -qq wrk; }
	$(VENV)/bin/python bench/delivery.py --ini deploy/ckan.ini --reuse
