"""Units, categories, attributes, locations, channels and assortments use cases."""

from __future__ import annotations

from datetime import date

import pytest

from onestore.catalog import assortments, network, taxonomy
from onestore.catalog import reference as reads
from onestore.catalog.assortments import LineSpec
from onestore.db.database import Database
from onestore.kernel.errors import Conflict, NotFound, ValidationFailed

from .conftest import events


def test_units_are_created_once_and_updated_only_on_change(reference: Database) -> None:
    with reference.uow() as uow:
        taxonomy.create_unit(uow, code="m", name="Metre", decimals=2)
        with pytest.raises(Conflict):
            taxonomy.create_unit(uow, code="m", name="Again")
        taxonomy.update_unit(uow, "m", name="Metre")
        assert taxonomy.update_unit(uow, "m", decimals=3).decimals == 3
        with pytest.raises(ValidationFailed):
            taxonomy.update_unit(uow, "m", decimals=9)
        uow.commit()
    assert events(reference, "catalog.unit_updated") == 1
    with reference.uow(readonly=True) as uow:
        assert [u.code for u in reads.list_units(uow)] == ["ea", "m"]


def test_categories_form_a_tree_without_loops(reference: Database) -> None:
    with reference.uow() as uow:
        taxonomy.create_category(
            uow, code="fashion-women-tops", name="Tops", parent="fashion-women"
        )
        with pytest.raises(ValidationFailed) as caught:
            taxonomy.update_category(uow, "fashion", parent="fashion-women-tops")
        assert caught.value.errors[0].field == "parent" and "loop" in caught.value.errors[0].reason
        with pytest.raises(ValidationFailed, match="loop"):
            taxonomy.update_category(uow, "fashion", parent="fashion")
        with pytest.raises(ValidationFailed, match="unknown category"):
            taxonomy.create_category(uow, code="x", name="X", parent="nope")
        moved = taxonomy.update_category(uow, "fashion-women-tops", parent="home", name="Tops!")
        assert (moved.parent_code, moved.name) == ("home", "Tops!")
        root = taxonomy.update_category(uow, "fashion-women-tops", parent=None)
        assert root.parent_code is None
        uow.commit()
    with reference.uow(readonly=True) as uow:
        children = reads.list_categories(uow, parent="fashion")
        assert [c.code for c in children] == ["fashion-men", "fashion-women"]
        with pytest.raises(NotFound):
            reads.get_category_or_raise(uow, "nope")


def test_attribute_choices_can_grow_but_not_shrink(reference: Database) -> None:
    with reference.uow() as uow:
        grown = taxonomy.update_attribute(uow, "material", choices=["cotton", "linen", "wool"])
        assert grown.choices == ["cotton", "linen", "wool"]
        with pytest.raises(ValidationFailed, match="keep cotton"):
            taxonomy.update_attribute(uow, "material", choices=["linen", "wool"])
        with pytest.raises(ValidationFailed) as caught:
            taxonomy.create_attribute(uow, code="fit", name="Fit", value_type="choice")
        assert caught.value.errors[0].field == "choices"
        with pytest.raises(Conflict):
            taxonomy.create_attribute(uow, code="material", name="M", value_type="text")


def test_locations_and_channels(reference: Database) -> None:
    with reference.uow() as uow:
        with pytest.raises(Conflict):
            network.create_location(
                uow,
                code="DC-01",
                name="x",
                kind="dc",
                latitude=0,
                longitude=0,
                country="US",
                timezone="UTC",
            )
        moved = network.update_location(uow, "DC-01", {"name": "Kent DC 2", "latitude": 47.4})
        assert (moved.name, moved.latitude) == ("Kent DC 2", 47.4)
        with pytest.raises(ValidationFailed):
            network.update_location(uow, "DC-01", {"kind": "store"})
        with pytest.raises(ValidationFailed) as caught:
            network.create_channel(
                uow,
                code="ST-02",
                name="x",
                kind="store",
                currency="USD",
                location="DC-01",
                locations=["DC-01", "NOPE"],
            )
        assert {e.field for e in caught.value.errors} == {"location", "locations.1"}
        with pytest.raises(ValidationFailed) as caught:
            network.create_channel(uow, code="MP", name="x", kind="marketplace", currency="ZZZ")
        assert caught.value.errors[0].field == "currency"
        web = network.update_channel(uow, "WEB", locations=["DC-01", "ST-01"])
        assert web.locations == ["DC-01", "ST-01"]
        same = network.update_channel(uow, "WEB", locations=["ST-01", "DC-01"])
        assert same == web
        uow.commit()
    assert events(reference, "catalog.channel_updated") == 1
    with reference.uow(readonly=True) as uow:
        store = reads.get_channel_or_raise(uow, "ST-01")
        assert (store.kind, store.location, store.locations) == ("store", "ST-01", ["ST-01"])
        assert [c.code for c in reads.list_channels(uow, kind="web")] == ["WEB"]
        assert [loc.code for loc in reads.list_locations(uow, kind="store")] == ["ST-01"]


def test_assortments_resolve_codes_and_replace_lists(reference: Database) -> None:
    with reference.uow() as uow:
        with pytest.raises(ValidationFailed) as caught:
            assortments.create_assortment(
                uow,
                code="A",
                name="A",
                channels=["WEB", "NOPE"],
                lines=[LineSpec(category="fashion"), LineSpec(product="NOPE"), LineSpec()],
            )
        assert {e.field for e in caught.value.errors} == {
            "channels.1",
            "lines.1.product",
            "lines.2",
        }
        with pytest.raises(ValidationFailed, match="before valid_from"):
            assortments.create_assortment(
                uow, code="A", name="A", valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)
            )
        created = assortments.create_assortment(
            uow, code="A", name="A", channels=["WEB"], lines=[LineSpec(category="fashion")]
        )
        assert created.lines[0].category == "fashion" and created.channels == ["WEB"]
        same = assortments.update_assortment(uow, "A", channels=["WEB"])
        assert same == created
        changed = assortments.update_assortment(
            uow, "A", channels=["WEB", "ST-01"], lines=[LineSpec(category="home", exclude=True)]
        )
        assert changed.channels == ["ST-01", "WEB"]
        assert [(ln.category, ln.exclude) for ln in changed.lines] == [("home", True)]
        uow.commit()
    assert events(reference, "catalog.assortment_updated") == 1
