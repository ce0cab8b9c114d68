"""Seals (封存): a regulator of the school's region or the school's principal seals a received food batch, a
retained sample or a kitchen area, with a reason, and releases it (解除封存) with a reason.

A seal and its release are records of the canteen's hash chain (kinds ``seal`` and ``seal_release``, written
through ``services._write`` under the chain's lock, audited in the same transaction). While a seal is in force
(no release names it): a sealed batch cannot be used in a menu (create or correction, 409 ``item_sealed``), a
sealed sample cannot be disposed of (409 ``sample_sealed``), the receiving or sample record holding what is
sealed cannot be corrected, and no record of work in a sealed area is taken (a disinfection naming it, 409
``area_sealed``). Seals themselves are never corrected: a wrong seal is released, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.notices import seal_notices
from backend.notices.recipients import issuing_office
from backend.permissions import Action, Principal, require, seal_authority
from backend.records.models import (
    SEAL_KINDS,
    ReceivingItem,
    RecordEntry,
    RecordKind,
    SampleDisposal,
    SampleLog,
    Seal,
    SealAuthority,
    SealRelease,
    SealTarget,
)
from backend.records.services import (
    Prepared,
    WriteResult,
    _write,
    current_items,
    shanghai_date,
)
from backend.records.versions import current_version, is_current
from backend.schools.models import Canteen, KitchenArea
from backend.timeutil import shanghai_iso

# What each target's refusal is called, and its machine code.
SEALED_CODES = {SealTarget.ITEM: "item_sealed", SealTarget.SAMPLE: "sample_sealed", SealTarget.AREA: "area_sealed"}


def _fail(status: int, code: str, message: str, **details: Any) -> ApiError:
    return ApiError(status, code, message, details)


def _released_ids(seal_ids: list[int]) -> dict[int, tuple[RecordEntry, SealRelease]]:
    """Releases of these seals, by seal id."""
    if not seal_ids:
        return {}
    rows = db.session.execute(select(RecordEntry, SealRelease).join(SealRelease, SealRelease.entry_id == RecordEntry.id)
                              .where(SealRelease.seal_id.in_(seal_ids))).all()
    return {release.seal_id: (entry, release) for entry, release in rows}


def seals_in_force(canteen_id: int, *, items: Collection[int] = (), samples: Collection[int] = (),
                   areas: Collection[int] = ()) -> list[tuple[RecordEntry, Seal]]:
    """The seals in force on any of these batches (item logical ids), samples (record ids) or areas."""
    wanted = [column.in_(list(ids)) for column, ids in ((Seal.item_id, items), (Seal.sample_id, samples),
                                                        (Seal.area_id, areas)) if ids]
    if not wanted:
        return []
    released = select(SealRelease.entry_id).where(SealRelease.seal_id == RecordEntry.id).exists()
    return [tuple(row) for row in db.session.execute(
        select(RecordEntry, Seal).join(Seal, Seal.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id == canteen_id, or_(*wanted), ~released).order_by(RecordEntry.seq))]


def refuse_sealed(canteen_id: int, *, items: list[int], samples: list[int], areas: list[int], use: str) -> None:
    """409 naming the first seal in force on any of these, what it holds and why."""
    found = seals_in_force(canteen_id, items=items, samples=samples, areas=areas)
    if not found:
        return
    entry, seal = found[0]
    raise _fail(409, SEALED_CODES[SealTarget(seal.target)],
                f"「{seal.target_name}」已被封存（{seal.reason}），解除封存前不得{use}",
                seal_id=entry.id, target=seal.target, item_id=seal.item_id, sample_id=seal.sample_id,
                area_id=seal.area_id)


def check_amendable(entry: RecordEntry) -> None:
    """Seals are released, never corrected; a receiving with a sealed batch or a sealed sample waits for the
    release."""
    if entry.kind in SEAL_KINDS:
        raise _fail(409, "record_not_amendable", "封存记录不能更正；如需解除封存，请提交解除封存记录")
    if entry.kind == RecordKind.RECEIVING:
        items = [item.logical_id for item in db.session.scalars(
            select(ReceivingItem).where(ReceivingItem.entry_id == entry.id))]
        refuse_sealed(entry.canteen_id, items=items, samples=[], areas=[], use="更正该进货记录")
    elif entry.kind == RecordKind.SAMPLE:
        refuse_sealed(entry.canteen_id, items=[], samples=[entry.record_id], areas=[], use="更正该留样记录")


# Preparers (run by services._write) --------------------------------------------------------------------
def _target(canteen: Canteen, values: dict[str, Any]) -> tuple[str, dict[str, int], str]:
    """The target's kind, its id column and the name it is shown by; 422 when it is not the canteen's."""
    target = values["target"]
    if target == SealTarget.ITEM:
        found = current_items(canteen.id, [values["target_id"]]).get(values["target_id"])
        if found is None:
            raise _fail(422, "seal_target_not_found", "要封存的食品批次不存在或不属于该食堂", field="target_id")
        item = found[0]
        return target, {"item_id": item.logical_id}, f"{item.ingredient}（批号 {item.batch}）"
    if target == SealTarget.SAMPLE:
        entry = current_version(values["target_id"], canteen_id=canteen.id, kind=RecordKind.SAMPLE)
        if entry is None:
            raise _fail(422, "seal_target_not_found", "要封存的留样不存在或不属于该食堂", field="target_id")
        sample = db.session.get(SampleLog, entry.id)
        disposed = db.session.scalar(
            select(RecordEntry.id).join(SampleDisposal, SampleDisposal.entry_id == RecordEntry.id)
            .where(SampleDisposal.sample_id == entry.record_id, is_current()).limit(1))
        if disposed is not None:
            raise _fail(409, "sample_already_disposed", "该留样已处置，无法封存")
        return target, {"sample_id": entry.record_id}, f"{sample.service_date.isoformat()} {sample.dish_name} 留样"
    area = db.session.get(KitchenArea, values["target_id"])
    if area is None or area.canteen_id != canteen.id:
        raise _fail(422, "seal_target_not_found", "要封存的区域不存在或不属于该食堂", field="target_id")
    return target, {"area_id": area.id}, area.name


def _prepare_seal(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    target, ids, name = _target(canteen, values)
    reason = values["reason"].strip()

    def check_locked() -> None:
        found = seals_in_force(canteen.id, items=[ids.get("item_id")] if "item_id" in ids else [],
                               samples=[ids["sample_id"]] if "sample_id" in ids else [],
                               areas=[ids["area_id"]] if "area_id" in ids else [])
        if found:
            raise _fail(409, "already_sealed", f"「{name}」已在封存中", seal_id=found[0][0].id)

    def build(entry: RecordEntry) -> None:
        db.session.add(Seal(entry_id=entry.id, target=target, target_name=name[:200], reason=reason,
                            authority=values["authority"], **ids))

    def after(entry: RecordEntry) -> None:
        record_audit(entry.created_by_id, AuditAction.RECORDS_SEAL, school_id=canteen.school_id,
                     target=("record", entry.id),
                     details={"canteen_id": canteen.id, "target": target, **ids, "reason": reason,
                              "authority": values["authority"]})
        seal_notices.notify_sealed(entry.id, canteen, target, name, reason, values["by"], entry.created_by_id, now)

    return Prepared(shanghai_date(now), build, check_locked, after)


def _prepare_release(canteen: Canteen, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    seal_id = values["seal_id"]
    reason = values["reason"].strip()
    sealed = db.session.get(Seal, seal_id)

    def check_locked() -> None:
        if seal_id in _released_ids([seal_id]):
            raise _fail(409, "seal_already_released", "该封存已解除")

    def build(entry: RecordEntry) -> None:
        db.session.add(SealRelease(entry_id=entry.id, seal_id=seal_id, reason=reason, authority=values["authority"]))

    def after(entry: RecordEntry) -> None:
        record_audit(entry.created_by_id, AuditAction.RECORDS_SEAL_RELEASE, school_id=canteen.school_id,
                     target=("record", entry.id), details={"canteen_id": canteen.id, "seal_id": seal_id,
                                                           "reason": reason, "authority": values["authority"]})
        seal_notices.notify_released(seal_id, canteen, sealed.target_name, reason, values["by"], entry.created_by_id,
                                     now)

    return Prepared(shanghai_date(now), build, check_locked, after)


SEAL_PREPARERS = {RecordKind.SEAL: _prepare_seal, RecordKind.SEAL_RELEASE: _prepare_release}


# Services ----------------------------------------------------------------------------------------------
def _acting(principal: Principal, canteen: Canteen) -> dict[str, str]:
    """In which capacity the caller seals or releases, and how the school's notice names them."""
    authority = seal_authority(principal, canteen.school)
    by = {SealAuthority.REGULATOR: issuing_office(principal, canteen.school),
          SealAuthority.PRINCIPAL: f"{canteen.school.name}校长"}.get(SealAuthority(authority), "平台管理员")
    return {"authority": authority, "by": by}


def seal(principal: Principal, canteen: Canteen, values: dict[str, Any], *, idempotency_key: str, fingerprint: str,
         now: datetime | None = None) -> WriteResult:
    """Seal a batch, sample or area of the canteen (once per Idempotency-Key)."""
    require(principal, Action.RECORDS_SEAL, canteen.school)
    values = {**values, **_acting(principal, canteen)}
    return _write(principal, canteen, RecordKind.SEAL, values, key=idempotency_key, fingerprint=fingerprint,
                  amend=None, reason=None, now=now, action=Action.RECORDS_SEAL)


def release(principal: Principal, seal_id: int, reason: str, *, idempotency_key: str, fingerprint: str,
            now: datetime | None = None) -> WriteResult:
    """Release a seal (by its record id) with the reason."""
    entry = db.session.get(RecordEntry, seal_id)
    if entry is None:
        raise not_found("记录")
    canteen = db.session.get(Canteen, entry.canteen_id)
    require(principal, Action.RECORDS_SEAL, canteen.school)
    if entry.kind != RecordKind.SEAL:
        raise _fail(422, "not_a_seal", "该记录不是封存记录")
    values = {"seal_id": entry.id, "reason": reason, **_acting(principal, canteen)}
    return _write(principal, canteen, RecordKind.SEAL_RELEASE, values, key=idempotency_key, fingerprint=fingerprint,
                  amend=None, reason=None, now=now, action=Action.RECORDS_SEAL)


# Reading -----------------------------------------------------------------------------------------------
def present_seal(entry: RecordEntry, row: Seal | SealRelease,
                 releases: dict[int, tuple[RecordEntry, SealRelease]]) -> dict[str, Any]:
    """The fields of a seal (with its release, if any) or of a release."""
    authority_label = SealAuthority.labels().get(row.authority, row.authority)
    if isinstance(row, SealRelease):
        return {"seal_id": row.seal_id, "reason": row.reason, "authority": row.authority,
                "authority_label": authority_label}
    released = releases.get(entry.id)
    return {"target": row.target, "target_label": SealTarget.labels()[row.target], "item_id": row.item_id,
            "sample_id": row.sample_id, "area_id": row.area_id, "target_name": row.target_name, "reason": row.reason,
            "authority": row.authority, "authority_label": authority_label, "sealed_at": shanghai_iso(entry.created_at),
            "in_force": released is None,
            "release": None if released is None else {
                "release_id": released[0].id, "released_at": shanghai_iso(released[0].created_at),
                "released_by_id": released[0].created_by_id, "reason": released[1].reason,
                "authority": released[1].authority,
                "authority_label": SealAuthority.labels().get(released[1].authority, released[1].authority)}}


def seal_presenter(entries: list[RecordEntry]) -> Any:
    """A presenter of the seals and releases among ``entries`` (one query for the releases)."""
    releases = _released_ids([e.id for e in entries if e.kind == RecordKind.SEAL])

    def present(entry: RecordEntry, row: Any) -> dict[str, Any]:
        return present_seal(entry, row, releases)

    return present


def seal_entries(canteen_id: int, *, in_force: bool | None = None, target: str | None = None,
                 limit: int = 200) -> list[RecordEntry]:
    """The canteen's seals, newest first: all, only those in force, or only released ones."""
    query = (select(RecordEntry).join(Seal, Seal.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id == canteen_id, RecordEntry.kind == RecordKind.SEAL))
    released = select(SealRelease.entry_id).where(SealRelease.seal_id == RecordEntry.id).exists()
    if in_force is True:
        query = query.where(~released)
    elif in_force is False:
        query = query.where(released)
    if target is not None:
        query = query.where(Seal.target == target)
    return list(db.session.scalars(query.order_by(RecordEntry.seq.desc()).limit(limit)))


def seals_between(canteen_id: int, date_from: date, date_to: date) -> list[RecordEntry]:
    """Seals made or released between two days (inclusive; the seals themselves, oldest first)."""
    released = (select(SealRelease.seal_id).join(RecordEntry, RecordEntry.id == SealRelease.entry_id)
                .where(RecordEntry.canteen_id == canteen_id, RecordEntry.record_date.between(date_from, date_to)))
    return list(db.session.scalars(
        select(RecordEntry).where(RecordEntry.canteen_id == canteen_id, RecordEntry.kind == RecordKind.SEAL,
                                  or_(RecordEntry.record_date.between(date_from, date_to),
                                      RecordEntry.id.in_(released)))
        .order_by(RecordEntry.seq)))


def sealed_targets(canteen_id: int) -> dict[str, set[int]]:
    """What is under seal in the canteen now, by target kind: item logical ids, sample record ids, area ids."""
    released = select(SealRelease.entry_id).where(SealRelease.seal_id == Seal.entry_id).exists()
    out: dict[str, set[int]] = defaultdict(set)
    for seal_row in db.session.scalars(select(Seal).join(RecordEntry, RecordEntry.id == Seal.entry_id)
                                       .where(RecordEntry.canteen_id == canteen_id, ~released)):
        value = seal_row.item_id or seal_row.sample_id or seal_row.area_id
        out[seal_row.target].add(value)
    return {target.value: out.get(target.value, set()) for target in SealTarget}

