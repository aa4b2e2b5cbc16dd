"""The console's catalogue page, built from the committed AsyncAPI document and served at ``/_console/catalogue``."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from catalogue import CATALOGUE
from localcloud.console.app import ConsoleApi
from localcloud.console.catalogue import catalogue_page, load_document

pytestmark = pytest.mark.unit


def test_the_page_lists_every_type_with_its_fields_channels_and_operations() -> None:
    # Given the committed contract
    document = load_document()
    assert document is not None
    # When the page is built
    text = catalogue_page(document)
    # Then it names every type, its version and reader, the fields of each model and the channels
    for name, declared in CATALOGUE.items():
        assert f'<h3 id="{name}">{name}</h3>' in text
        assert f"<td>{declared.version}</td>" in text
    assert "<td>item_count</td>" in text and "<td>list of OrderLine</td>" in text
    assert "<td>strict</td>" in text and "dead letters to billing-dlq.fifo after 10 receives" in text
    assert "<td>orders.publish</td>" in text


def test_text_from_the_document_is_escaped() -> None:
    document: dict[str, Any] = {
        "components": {"messages": {"x.<b>": {"summary": "<script>alert(1)</script>"}}, "schemas": {}},
    }
    text = catalogue_page(document)
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_the_console_serves_it() -> None:
    request = EnvironBuilder(path="/_console/catalogue").get_request()
    response = ConsoleApi(cloud=None).handle(request)  # type: ignore[arg-type] - the page needs no cloud
    assert response.status_code == 200
    assert "Message catalogue" in response.get_data(as_text=True)
