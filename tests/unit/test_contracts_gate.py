"""The compatibility gate on temporary copies of the models: each kind of change caught or passed, and ``make
contracts`` / ``make contracts-check`` (:func:`contracts.generate.run`) refusing, writing and checking accordingly."""

from __future__ import annotations

import io
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from contracts.gate import breaking_changes, check_type
from contracts.generate import differing, read_committed, run
from contracts.schemas import type_schema
from messaging.contracts import Catalogue, MessageType
from messaging.envelope import Kind

pytestmark = pytest.mark.unit

TYPE = "shop.OrderPlaced"


class Status(StrEnum):
    OPEN = "open"
    PAID = "paid"


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str
    quantity: int


class Placed(BaseModel):
    """The published version: the committed contract."""

    model_config = ConfigDict(extra="forbid")
    order_id: str
    total: Decimal
    status: Status
    lines: list[Line]
    note: str = ""


def declared(model: type[BaseModel], **rules: Any) -> MessageType:
    return MessageType(TYPE, Kind.EVENT, model, channel="shop-events", **rules)


def breaks(new_model: type[BaseModel], *, strict: bool = False, **rules: Any) -> list[str]:
    old = type_schema(declared(Placed, strict=strict))
    new_type = declared(new_model, strict=strict, **rules)
    return [str(b) for b in check_type(TYPE, old, type_schema(new_type), new_type)]


# -- what breaks ----------------------------------------------------------------------------------------------------


def test_a_removed_required_field_is_caught_with_the_type_and_field_named() -> None:
    class NoTotal(BaseModel):
        order_id: str
        status: Status
        lines: list[Line]
        note: str = ""

    assert breaks(NoTotal) == [
        f"{TYPE}: field total: removed (or renamed) (bump the major version and add an upcaster)"
    ]


def test_a_renamed_field_is_caught_as_removed_and_new_required() -> None:
    class Renamed(BaseModel):
        order_ref: str
        total: Decimal
        status: Status
        lines: list[Line]
        note: str = ""

    found = breaks(Renamed)
    assert any("field order_id: removed (or renamed)" in b for b in found)
    assert any("field order_ref: new required field" in b for b in found)


def test_a_changed_field_type_is_caught() -> None:
    class IntegerTotal(BaseModel):
        order_id: int
        total: Decimal
        status: Status
        lines: list[Line]
        note: str = ""

    assert breaks(IntegerTotal) == [
        f"{TYPE}: field order_id: type changed from string to integer (bump the major version and add an upcaster)"
    ]


def test_an_optional_field_made_required_is_caught() -> None:
    class NoteRequired(BaseModel):
        order_id: str
        total: Decimal
        status: Status
        lines: list[Line]
        note: str

    assert breaks(NoteRequired) == [
        f"{TYPE}: field note: optional field made required (bump the major version and add an upcaster)"
    ]


def test_an_enum_value_removed_is_caught_and_one_added_passes() -> None:
    class Narrow(StrEnum):
        OPEN = "open"

    class Wide(StrEnum):
        OPEN = "open"
        PAID = "paid"
        REFUNDED = "refunded"

    class NarrowStatus(BaseModel):
        order_id: str
        total: Decimal
        status: Narrow
        lines: list[Line]
        note: str = ""

    class WideStatus(BaseModel):
        order_id: str
        total: Decimal
        status: Wide
        lines: list[Line]
        note: str = ""

    assert breaks(NarrowStatus) == [
        f'{TYPE}: field status: enum value "paid" removed (bump the major version and add an upcaster)'
    ]
    assert breaks(WideStatus) == []


def test_a_nested_field_removed_is_named_by_its_path() -> None:
    class ShortLine(BaseModel):
        sku: str

    class ShortLines(BaseModel):
        order_id: str
        total: Decimal
        status: Status
        lines: list[ShortLine]
        note: str = ""

    assert breaks(ShortLines) == [
        f"{TYPE}: field lines[].quantity: removed (or renamed) (bump the major version and add an upcaster)"
    ]


def test_a_new_required_field_is_caught() -> None:
    class WithCurrency(Placed):
        currency: str

    assert breaks(WithCurrency) == [
        f"{TYPE}: field currency: new required field (messages of older writers lack it) (bump the major version "
        "and add an upcaster)"
    ]


def test_a_literal_narrowed_is_an_enum_value_removed() -> None:
    old = {"type": "object", "properties": {"mode": {"enum": ["a", "b"], "type": "string"}}}
    new = {"type": "object", "properties": {"mode": {"const": "a", "type": "string"}}}
    assert [b.field for b in breaking_changes(TYPE, old, new)] == ["mode"]


def test_a_field_removed_inside_an_optional_nested_model_is_caught() -> None:
    class Address(BaseModel):
        street: str
        city: str

    class ShortAddress(BaseModel):
        street: str

    class WithAddress(Placed):
        address: Address | None = None

    class WithShortAddress(Placed):
        address: ShortAddress | None = None

    class AddressRequired(Placed):
        address: Address

    old = type_schema(declared(WithAddress))
    found = [str(b) for b in breaking_changes(TYPE, old, type_schema(declared(WithShortAddress)))]
    assert found == [f"{TYPE}: field address.city: removed (or renamed) (bump the major version and add an upcaster)"]
    required = [b.change for b in breaking_changes(TYPE, old, type_schema(declared(AddressRequired)))]
    assert required == ["optional field made required", "null no longer allowed (older writers send it)"]


# -- what passes ----------------------------------------------------------------------------------------------------


def test_an_optional_field_added_passes() -> None:
    class WithChannel(Placed):
        sales_channel: str | None = None
        gift: bool = False

    assert breaks(WithChannel) == []


def test_descriptions_defaults_and_a_required_field_made_optional_pass() -> None:
    class Relaxed(BaseModel):
        """Another description."""

        order_id: str = Field(description="the order")
        total: Decimal
        status: Status
        lines: list[Line] = Field(default_factory=list)
        note: str = "none"

    assert breaks(Relaxed) == []


def test_an_optional_field_added_to_a_strict_type_is_caught() -> None:
    class WithChannel(Placed):
        sales_channel: str | None = None

    assert breaks(WithChannel, strict=True) == [
        f"{TYPE}: field sales_channel: field added to a strict type (its older readers refuse it) (bump the major "
        "version and add an upcaster)"
    ]


def test_a_breaking_change_passes_with_the_major_version_bumped_and_an_upcaster() -> None:
    class V2(BaseModel):
        order_id: str
        total: Decimal
        status: Status
        lines: list[Line]
        note: str = ""
        item_count: int

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "item_count": sum(line["quantity"] for line in data["lines"])}

    assert breaks(V2, version="2.0", upcasters={1: v1_to_v2}) == []
    assert breaks(V2, version="1.1") != []  # a minor bump does not allow it


def test_a_major_bump_without_an_upcaster_or_a_version_going_back_is_caught() -> None:
    class V2(Placed):
        item_count: int

    assert breaks(V2, version="2.0") == [
        f"{TYPE}: major version bumped to 2.0 without an upcaster (1 -> 2)"
    ]
    old = type_schema(declared(Placed, version="2.0", upcasters={1: dict}))
    back = declared(Placed)
    assert [str(b) for b in check_type(TYPE, old, type_schema(back), back)] == [
        f"{TYPE}: version went back from major 2 to 1.0"
    ]


def test_a_type_removed_from_the_catalogue_is_caught_and_a_new_type_passes() -> None:
    old = type_schema(declared(Placed))
    assert [b.change for b in check_type(TYPE, old, None, None)] == [
        f"type removed from the catalogue (to retire it, delete contracts/schemas/{TYPE}.json first)"
    ]
    assert check_type(TYPE, None, old, declared(Placed)) == []


def test_literal_kinds_and_nullable_fields_compare_by_their_json_types() -> None:
    class A(BaseModel):
        mode: Literal["x", "y"]
        maybe: int | None = None

    class B(BaseModel):
        mode: Literal["x", "y"]
        maybe: str | None = None

    found = [b.field for b in breaking_changes(TYPE, type_schema(declared(A)), type_schema(declared(B)))]
    assert found == ["maybe"]


# -- make contracts and make contracts-check on a directory ---------------------------------------------------------


def _run(catalogue: Catalogue, directory: Path, *, check: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(catalogue, {}, directory, check=check, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_make_contracts_refuses_a_break_naming_type_and_field_and_writes_nothing(tmp_path: Path) -> None:
    # Given contracts published for the current model
    assert _run(Catalogue(declared(Placed)), tmp_path)[0] == 0
    before = read_committed(tmp_path).files

    class NoTotal(BaseModel):
        order_id: str
        status: Status
        lines: list[Line]
        note: str = ""

    # When the model loses a required field and make contracts / make contracts-check run
    status, _, err = _run(Catalogue(declared(NoTotal)), tmp_path)
    check_status, _, check_err = _run(Catalogue(declared(NoTotal)), tmp_path, check=True)
    # Then both refuse, naming the type and the field, with the same message
    assert (status, check_status) == (1, 1)
    assert f"error: {TYPE}: field total: removed (or renamed)" in err
    assert err == check_err
    # And nothing was written
    assert read_committed(tmp_path).files == before


def test_make_contracts_writes_a_compatible_change_and_the_check_then_passes(tmp_path: Path) -> None:
    # Given published contracts
    _run(Catalogue(declared(Placed)), tmp_path)

    class WithChannel(Placed):
        sales_channel: str | None = None

    new = Catalogue(declared(WithChannel))
    # When an optional field is added: the check sees the committed files are stale
    status, _, err = _run(new, tmp_path, check=True)
    assert status == 1 and f"error: contracts/schemas/{TYPE}.json differs from what the code generates" in err
    # Then make contracts writes it, and the check passes
    assert _run(new, tmp_path)[0] == 0
    assert "sales_channel" in (tmp_path / "schemas" / f"{TYPE}.json").read_text(encoding="utf-8")
    assert _run(new, tmp_path, check=True)[0] == 0
    assert differing(read_committed(tmp_path), read_committed(tmp_path)) == []
