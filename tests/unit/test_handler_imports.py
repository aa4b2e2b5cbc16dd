"""What a consumer's cold start imports: every handler module loads the consumer (and with it Powertools' batch
utility) before any pydantic model.

Powertools' batch utility checks at import whether pydantic is loaded, and if it is, it imports its parser package:
the pydantic models of every Lambda event source (SQS, Kinesis, Kafka, API Gateway, ...), which no consumer here
uses and which took tens of milliseconds of each cold start. A handler that imports its models (or the catalogue)
first pays that; each handler module therefore imports ``messaging.consumer`` first (the scaffold's template too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
loaded = {"batch": "aws_lambda_powertools.utilities.batch", "pydantic": "pydantic",
          "parser": "aws_lambda_powertools.utilities.parser"}
print(json.dumps({name: module in sys.modules for name, module in loaded.items()}))
"""


def consumer_handlers() -> list[str]:
    """The handler modules under ``functions/`` that build a ``MessageConsumer``."""
    modules = []
    for path in sorted(FUNCTIONS.glob("*/*handler.py")):
        if "MessageConsumer(" in path.read_text(encoding="utf-8"):
            modules.append(".".join(path.relative_to(FUNCTIONS).with_suffix("").parts))
    return modules


def test_every_consumer_handler_is_found() -> None:
    assert {"orders.handler", "billing.handler", "quotes.handler", "reply_router.handler"} <= set(consumer_handlers())


def test_no_consumer_handler_loads_powertools_parser_models() -> None:
    # Given each consumer handler module, imported in a fresh interpreter as Lambda does
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(FUNCTIONS), str(ROOT))), "EVENT_TOPIC_ARN": "arn",
           "STATE_TABLE_NAME": "state", "QUOTE_RESPONDER_NAME": "express"}
    running = {
        module: subprocess.Popen(
            [sys.executable, "-c", _PROBE, module], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, cwd=FUNCTIONS,
        )
        for module in consumer_handlers()
    }
    loaded = {}
    for module, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{module}: {err[-1000:]}"
        loaded[module] = json.loads(out.strip().splitlines()[-1])
    # Then each loaded the batch utility (and most pydantic), but none Powertools' parser models
    assert all(found["batch"] for found in loaded.values())
    assert any(found["pydantic"] for found in loaded.values())
    assert {module for module, found in loaded.items() if found["parser"]} == set()


_BUILT = """
import json, sys
import orders.handler
from catalogue import CATALOGUE
def built():
    return sorted(name for name, declared in CATALOGUE.items() if declared.model.__pydantic_complete__)
at_import = built()
CATALOGUE["orders.CreateOrder"].read({"customer_id": "c-1", "lines": [{"sku": "pen", "quantity": 1,
                                      "unit_price": "1.50"}]}, dataschema=None)
print(json.dumps({"at_import": at_import, "after_first_read": built()}))
"""


def test_a_consumer_builds_the_models_of_the_types_it_reads_only_on_first_use() -> None:
    # Given the orders handler imported in a fresh interpreter (the catalogue declares every service's types)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(FUNCTIONS), str(ROOT)))}
    done = subprocess.run([sys.executable, "-c", _BUILT], capture_output=True, text=True, env=env, cwd=FUNCTIONS,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    built = json.loads(done.stdout.strip().splitlines()[-1])
    # Then no catalogued model was built at import (pydantic defer_build), and reading a CreateOrder built its own
    assert built == {"at_import": [], "after_first_read": ["orders.CreateOrder"]}
