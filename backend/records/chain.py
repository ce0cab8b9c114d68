"""The tamper-evident record chain of a canteen.

Each entry's hash is ``sha256(prev_hash + canonical JSON)`` where the canonical JSON covers the entry's
metadata, its typed row, its child rows and its attachments (with the sha256 of each uploaded file).
Changing any of those rows, deleting an entry or reordering entries breaks the chain at that point;
deleting entries from the end is caught by comparing with the chain head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.db_types import UTCDateTime
from backend.extensions import db
from backend.records.bundle import Bundle, load_bundle
from backend.records.models import NEW_ENTRIES_KEY, RecordChainHead, RecordEntry
from backend.timeutil import as_utc, utcnow

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
VERIFY_BATCH = 500


def _value(column: Any, value: Any) -> Any:
    """Normalise a column value so that what was written hashes the same as what is read back."""
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, UTCDateTime) or isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(column_type, Date) or isinstance(value, date):
        return value.isoformat()
    if isinstance(column_type, Boolean):
        return bool(value)
    if isinstance(column_type, Float):
        # Doubles round-trip exactly through PostgreSQL and SQLite; repr gives the shortest exact form.
        return repr(float(value))
    if isinstance(column_type, Integer):
        return int(value)
    return str(value) if not isinstance(value, (dict, list)) else value


def canonical_row(obj: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row as a dict of normalised column values.

    Columns a model lists in ``CHAIN_ADDED_COLUMNS`` (added to its table after entries were sealed) count only
    when set: the entries sealed before they existed hash as they did, and a value set later is hashed.
    """
    added = getattr(obj, "CHAIN_ADDED_COLUMNS", frozenset())
    return {column.key: _value(column, getattr(obj, column.key))
            for column in obj.__table__.columns
            if column.key not in exclude and not (column.key in added and getattr(obj, column.key) is None)}


def entry_document(entry: RecordEntry, bundle: Bundle) -> dict[str, Any]:
    """The canonical content of one chain entry."""
    typed = bundle.typed.get(entry.id)
    document: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "entry": canonical_row(entry, exclude=("hash", "prev_hash")),
        "record": canonical_row(typed, exclude=("entry_id",)) if typed is not None else None,
        "attachments": [
            {"role": a.role, "position": a.position, "upload_id": a.upload_id, "sha256": a.upload.sha256,
             "size": a.upload.size, "content_type": a.upload.content_type}
            for a in bundle.attachments.get(entry.id, [])],
    }
    if entry.id in bundle.items:
        document["items"] = [canonical_row(item, exclude=("entry_id",)) for item in bundle.items[entry.id]]
    if entry.id in bundle.dishes:
        document["dishes"] = [
            canonical_row(dish, exclude=("entry_id",)) | {
                "ingredients": [link.item_id for link in bundle.links.get(dish.id, [])]}
            for dish in bundle.dishes[entry.id]]
    if entry.id in bundle.persons:
        document["persons"] = [canonical_row(person, exclude=("entry_id",)) for person in bundle.persons[entry.id]]
    return document


def canonical_json(document: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8 text: the same document always gives the same bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, document: dict[str, Any]) -> str:
    """The hash of an entry given its predecessor's hash."""
    return hashlib.sha256((prev_hash + "\n" + canonical_json(document)).encode()).hexdigest()


def lock_head(canteen_id: int) -> RecordChainHead:
    """Create the canteen's chain head if needed and lock it until the transaction ends.

    On PostgreSQL the row lock serialises appends of one canteen; SQLite serialises every writer anyway.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(RecordChainHead).values(canteen_id=canteen_id, seq=0, hash=GENESIS_HASH,
                                                      updated_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["canteen_id"]))
    return db.session.scalars(select(RecordChainHead).where(RecordChainHead.canteen_id == canteen_id)
                              .with_for_update().execution_options(populate_existing=True)).one()


def start_entry(head: RecordChainHead, *, kind: str, record_date: date, actor_id: int | None,
                root_id: int | None = None, amends_id: int | None = None, reason: str | None = None,
                at: datetime | None = None) -> RecordEntry:
    """Add the next entry of a locked chain, written at ``at`` (now by default); its hash is filled in by
    :func:`seal_entry`."""
    entry = RecordEntry(canteen_id=head.canteen_id, seq=head.seq + 1, kind=kind, record_date=record_date,
                        root_id=root_id, amends_id=amends_id, reason=reason, created_at=at or utcnow(),
                        created_by_id=actor_id, prev_hash=head.hash, hash="")
    db.session.add(entry)
    db.session.info.setdefault(NEW_ENTRIES_KEY, set()).add(id(entry))
    db.session.flush()
    return entry


def seal_entry(head: RecordChainHead, entry: RecordEntry) -> None:
    """Hash an entry after its typed row, children and attachments are flushed, and advance the head."""
    db.session.flush()
    entry.hash = compute_hash(entry.prev_hash, entry_document(entry, load_bundle([entry])))
    db.session.execute(update(RecordChainHead).where(RecordChainHead.canteen_id == head.canteen_id)
                       .values(seq=entry.seq, hash=entry.hash, updated_at=utcnow()))
    db.session.flush()


@dataclass(frozen=True)
class BrokenLink:
    """Where and how the chain is broken."""

    seq: int
    entry_id: int | None
    kind: str | None
    problem: str
    message: str


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of verifying one canteen's chain."""

    canteen_id: int
    checked: int
    head_seq: int
    head_hash: str
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        """Whether the whole chain is intact."""
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and the CLI."""
        return {"canteen_id": self.canteen_id, "ok": self.ok, "checked": self.checked,
                "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_broken": None if self.broken is None else {
                    "seq": self.broken.seq, "entry_id": self.broken.entry_id, "kind": self.broken.kind,
                    "problem": self.broken.problem, "message": self.broken.message}}


PROBLEM_MESSAGES = {
    "seq_gap": "记录序号不连续，可能有记录被删除",
    "prev_hash_mismatch": "前一条记录的哈希不符，链条在此断开",
    "hash_mismatch": "记录内容与其哈希不符，记录在写入后被改动",
    "record_missing": "记录内容缺失",
    "head_mismatch": "链尾与记录不符，末尾记录可能被删除",
}


def _broken(seq: int, entry: RecordEntry | None, problem: str) -> BrokenLink:
    return BrokenLink(seq=seq, entry_id=entry.id if entry else None, kind=entry.kind if entry else None,
                      problem=problem, message=PROBLEM_MESSAGES[problem])


def _forget(entries: list[RecordEntry], bundle: Bundle) -> None:
    """Drop a verified batch from the session so long chains verify in flat memory."""
    loaded: list[Any] = [*entries, *bundle.typed.values()]
    for group in (bundle.items, bundle.dishes, bundle.links, bundle.attachments, bundle.persons):
        for rows in group.values():
            loaded.extend(rows)
    for obj in loaded:
        if obj in db.session:
            db.session.expunge(obj)


def verify_chain(canteen_id: int, batch_size: int = VERIFY_BATCH) -> VerifyResult:
    """Recompute a canteen's chain from its first entry and report the first broken link."""
    head = db.session.get(RecordChainHead, canteen_id)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    expected_seq, running_hash, checked, last_seq = 1, GENESIS_HASH, 0, 0
    while True:
        entries = db.session.scalars(select(RecordEntry).where(RecordEntry.canteen_id == canteen_id,
                                                               RecordEntry.seq > last_seq)
                                     .order_by(RecordEntry.seq).limit(batch_size)).all()
        if not entries:
            break
        bundle = load_bundle(entries)
        for entry in entries:
            if entry.seq != expected_seq:
                return VerifyResult(canteen_id, checked, head_seq, head_hash, _broken(expected_seq, entry, "seq_gap"))
            if entry.prev_hash != running_hash:
                return VerifyResult(canteen_id, checked, head_seq, head_hash,
                                    _broken(entry.seq, entry, "prev_hash_mismatch"))
            if entry.id not in bundle.typed:
                return VerifyResult(canteen_id, checked, head_seq, head_hash,
                                    _broken(entry.seq, entry, "record_missing"))
            if compute_hash(entry.prev_hash, entry_document(entry, bundle)) != entry.hash:
                return VerifyResult(canteen_id, checked, head_seq, head_hash,
                                    _broken(entry.seq, entry, "hash_mismatch"))
            running_hash, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
        last_seq = entries[-1].seq
        _forget(entries, bundle)
    if head_seq != checked or head_hash != running_hash:
        return VerifyResult(canteen_id, checked, head_seq, head_hash, _broken(checked + 1, None, "head_mismatch"))
    return VerifyResult(canteen_id, checked, head_seq, head_hash, None)
