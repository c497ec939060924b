# The two commands of the README: `make run` and `make test`. Also `make lint` and `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
COURSE := courseware/content/hyperv
export PORT

.PHONY: run test test-fast lint bench bench-load install clean-var

# Create the virtualenv and install the pinned requirements; redone only when requirements.txt changes.
$(BIN)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

install: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	@if [ -f $(COURSE)/course.yaml ]; then \
		$(BIN)/python manage.py load_course $(COURSE) || echo "WARNING: the course did not load (problems above); serving the site anyway."; \
	fi
	@echo
	@echo "  Hyper-V Lab is starting on http://127.0.0.1:$(PORT)/  (health: http://127.0.0.1:$(PORT)/healthz)"
	@echo "  Sign in: create an account at http://127.0.0.1:$(PORT)/accounts/signup/"
	@echo "           or, for a demo instructor and student, run in another terminal:"
	@echo "           $(BIN)/python manage.py createdemo"
	@echo "  Ctrl-C stops the web server and the Celery worker together."
	@echo
	$(BIN)/honcho -f Procfile.dev start --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# The quick loop while editing: everything but the browser tests and the tests that start a real Celery worker.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not browser and not worker" -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy --strict labs/sim

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

# The capacity test (locust, about 8 minutes, loads the machine): PostgreSQL and Redis on 127.0.0.1.
bench-load: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python bench/load.py

clean-var:
	rm -rf var/
