"""Loading the typed rows, children and attachments of many record versions in a constant number of queries.

Both the hash chain (hashing and verification) and the API presenters read records through this module,
so what is hashed is exactly what is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.records.models import (
    TYPED_MODELS,
    DishIngredient,
    MenuDish,
    MorningCheckPerson,
    ReceivingItem,
    RecordAttachment,
    RecordEntry,
    RecordKind,
)


@dataclass
class Bundle:
    """Everything stored for a set of record versions, keyed by entry id."""

    typed: dict[int, Any] = field(default_factory=dict)
    items: dict[int, list[ReceivingItem]] = field(default_factory=lambda: defaultdict(list))
    dishes: dict[int, list[MenuDish]] = field(default_factory=lambda: defaultdict(list))
    links: dict[int, list[DishIngredient]] = field(default_factory=lambda: defaultdict(list))
    attachments: dict[int, list[RecordAttachment]] = field(default_factory=lambda: defaultdict(list))
    persons: dict[int, list[MorningCheckPerson]] = field(default_factory=lambda: defaultdict(list))


def load_bundle(entries: Iterable[RecordEntry]) -> Bundle:
    """Load what belongs to ``entries``: one query per kind present, plus children and attachments."""
    bundle = Bundle()
    by_kind: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry.id)
    ids = [i for group in by_kind.values() for i in group]
    if not ids:
        return bundle
    for kind, kind_ids in by_kind.items():
        model = TYPED_MODELS[kind]
        for row in db.session.scalars(select(model).where(model.entry_id.in_(kind_ids))):
            bundle.typed[row.entry_id] = row
    if by_kind.get(RecordKind.RECEIVING):
        for item in db.session.scalars(select(ReceivingItem).where(ReceivingItem.entry_id.in_(
                by_kind[RecordKind.RECEIVING])).order_by(ReceivingItem.entry_id, ReceivingItem.line_no)):
            bundle.items[item.entry_id].append(item)
    if by_kind.get(RecordKind.MENU):
        dishes = db.session.scalars(select(MenuDish).where(MenuDish.entry_id.in_(by_kind[RecordKind.MENU]))
                                    .order_by(MenuDish.entry_id, MenuDish.position)).all()
        for dish in dishes:
            bundle.dishes[dish.entry_id].append(dish)
        if dishes:
            for link in db.session.scalars(select(DishIngredient).where(DishIngredient.dish_id.in_(
                    [d.id for d in dishes])).order_by(DishIngredient.dish_id, DishIngredient.position)):
                bundle.links[link.dish_id].append(link)
    if by_kind.get(RecordKind.MORNING_CHECK):
        for person in db.session.scalars(select(MorningCheckPerson).where(MorningCheckPerson.entry_id.in_(
                by_kind[RecordKind.MORNING_CHECK])).order_by(MorningCheckPerson.entry_id, MorningCheckPerson.position)):
            bundle.persons[person.entry_id].append(person)
    for attachment in db.session.scalars(
            select(RecordAttachment).where(RecordAttachment.entry_id.in_(ids))
            .options(joinedload(RecordAttachment.upload))
            .order_by(RecordAttachment.entry_id, RecordAttachment.role, RecordAttachment.position)):
        bundle.attachments[attachment.entry_id].append(attachment)
    return bundle
