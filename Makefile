# The README's commands. Every target sets up what it needs: a virtualenv with the pinned requirements
# (re-installed only when a requirements file changes) and, for the CDK CLI targets, the pinned aws-cdk@2 in node_modules.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
CDK := node_modules/.bin/cdk
REQUIREMENTS := requirements-dev.txt requirements.txt functions/requirements.txt

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export AWS_EC2_METADATA_DISABLED := true
export PYTHONDONTWRITEBYTECODE := 1

PORT ?= 4566
STAGE ?=
STAGE_ARG := $(if $(STAGE),--stage $(STAGE))

.PHONY: setup browser test test-e2e test-deploy lint pytest demo synth local deploy-local bench chaos figures service clean

$(STAMP): $(REQUIREMENTS) pyproject.toml functions/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	@echo "installing pinned requirements into $(VENV)"
	@$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements-dev.txt
	@$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --editable functions  # the runtime (messaging)
	@$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --editable .  # the fifo-messaging command
	@# The editable install maps the service packages that exist now; functions/ on the path finds one added later
	@# (make service) too, as the checkout's tests do (pytest's pythonpath).
	@echo "$(CURDIR)/functions" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/fifo-messaging-services.pth"
	@$(PY) -m cli.aws_endpoint $(VENV)/bin/aws  # the pinned AWS CLI v1, honouring AWS_ENDPOINT_URL for every service
	@touch $@

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The console's browser tests drive the OS package's Chromium (no browser is downloaded at run time).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing chromium (Debian package) for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: install the Debian package chromium (as root: make setup)" >&2; exit 1; fi; }

setup: $(STAMP) browser

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy functions infra localcloud cli demo benchmarks chaos figures scaffold contracts
	$(PY) -m contracts --check

# Lint (ruff + strict mypy, about 75 s cold because of aws-cdk-lib's types) and the test suite run side by side, each
# line shown as it completes: pytest prints one line per test module (its results and progress).
test: $(STAMP) browser
	@$(MAKE) --no-print-directory -j2 --output-sync=line lint pytest

pytest: $(STAMP) browser
	$(VENV)/bin/pytest

# The long end-to-end runs (tests marked slow), kept out of make test's three minutes; CI runs them after make test.
test-e2e: $(STAMP) browser
	$(VENV)/bin/pytest -m slow

# The real CDK CLI (synth with bundling, bootstrap, deploy, diff, a second stage, destroy) into an empty local cloud
# server: about 2 min.
test-deploy: $(STAMP) $(CDK)
	$(VENV)/bin/pytest -m deploy tests/deploy

demo: $(STAMP)
	$(PY) -m demo

synth: $(STAMP) $(CDK)
	$(CDK) synth --quiet
	$(VENV)/bin/cfn-lint

# make local PORT=4567 [STAGE=dev]: the local cloud on localhost:PORT with the app deployed.
local: $(STAMP)
	$(PY) -m localcloud serve --port $(PORT) $(STAGE_ARG)

# make deploy-local PORT=4567 [STAGE=dev]: the real CDK CLI (bootstrap, deploy --all) against a running local cloud.
deploy-local: $(STAMP) $(CDK)
	$(PY) -m localcloud cdk-deploy --port $(PORT) $(STAGE_ARG)

# The product against the Powertools-docs baseline; ARGS passes options, e.g. make bench ARGS="--cold-runs 20";
# ARGS=--record keeps the run in docs/results/bench.json.
bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache

# The example system under injected faults; ARGS passes options, e.g. make chaos ARGS="--consumer naive";
# ARGS=--record keeps the run in docs/results/chaos.json (chaos-naive.json for the naive consumer);
# ARGS="--sabotage drop-conditions" (or drop-publishes) breaks the product on purpose: the run must exit 1.
chaos: $(STAMP)
	$(PY) -m chaos $(ARGS)

# The docs pages' figure blocks rewritten from the recorded runs in docs/results/; a record older than the last commit
# that changed functions/, chaos/, localcloud/ or benchmarks/ is refused unless it says why (older_than_code).
figures: $(STAMP)
	$(PY) -m figures $(ARGS)

# make service NAME=inventory: a new service (code, CDK stack, tests, registrations), see the README's "Add a service".
# NAME reaches the generator through the environment, so no character of it is ever parsed by the shell.
service: export SERVICE_NAME = $(NAME)
service: $(STAMP)
	@$(PY) -m scaffold "$$SERVICE_NAME"

.PHONY: dist
# The runtime and CLI wheels (fifo_messaging_runtime-*.whl, fifo_messaging-*.whl) into dist/, built from clean copies of
# their sources with the standard build backend; pip install dist/*.whl installs both, see docs/own-code.md.
dist: $(STAMP)
	$(PY) -m infra.dist --out dist

# The message contracts (contracts/asyncapi.yaml, contracts/schemas/) regenerated from the catalogue, the models and the
# synthesized app; refused (exit 1, nothing written) when a change breaks readers or writers of a published version.
.PHONY: contracts contracts-check
contracts: $(STAMP)
	$(PY) -m contracts

# Exit 1 when contracts/ differs from what the code generates or the code breaks it (make lint runs it).
contracts-check: $(STAMP)
	$(PY) -m contracts --check

# The conformance suite (cases recorded against AWS) against the local cloud and against bare moto, per area;
# ARGS=--record keeps the run in docs/results/conformance.json (make figures puts it in docs/local-cloud-fidelity.md).
.PHONY: conformance
conformance: $(STAMP)
	$(PY) -m benchmarks.conformance $(ARGS)
