"""Staff register, health certificates (健康证) and the daily morning check (晨检) of a canteen.

Three record kinds on the canteen's chain, written through ``services.create_record`` / ``amend_record``
like every other record (idempotency key, validation of every rule at once, amendments):

- ``staff``: a person of the register (name, post, phone); someone who leaves is amended to inactive;
- ``health_certificate``: a person's certificate (number, issuing body, valid until, photo or scan); its
  status is ``expiring`` 30 days before ``valid_until`` (``presenters.certificate_status``, as for suppliers);
- ``morning_check``: one per canteen and day, each person present with temperature, hands, symptoms and a
  result. Anyone with a finding fails and is off food handling that day: samples cannot name them as sampler.

The read side (:func:`staff_certificates`, :func:`failed_names`, :func:`morning_check_summaries`) is shared by
the presenters, the day view, the compliance rules and the export: a fixed number of statements each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from backend.extensions import db
from backend.records import certificate_readings
from backend.records.certificate_fields import HEALTH_CERTIFICATE
from backend.records.models import (
    SYMPTOM_LABELS,
    CheckResult,
    HealthCertificate,
    MorningCheck,
    MorningCheckPerson,
    RecordEntry,
    RecordKind,
    StaffMember,
)
from backend.records.services import (
    DOCUMENT_TYPES,
    Prepared,
    RuleBreaches,
    _attach,
    _fail,
    _not_future,
    _uploads,
    shanghai_date,
)
from backend.records.versions import is_current, logical_id

# 《食品安全国家标准 餐饮服务通用卫生规范》 GB 31654: a temperature from 37.3 °C is a fever.
FEVER_FROM_C = 37.3


def current_staff(canteen_id: int, staff_ids: Iterable[int] | None = None) -> dict[int, StaffMember]:
    """Current staff rows of a canteen by staff record id (all of them, or only ``staff_ids``)."""
    query = (select(logical_id(), StaffMember).join(StaffMember, StaffMember.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id == canteen_id, RecordEntry.kind == RecordKind.STAFF, is_current()))
    if staff_ids is not None:
        query = query.where(logical_id().in_(sorted(set(staff_ids))))
    return dict(db.session.execute(query).all())


def staff_certificates(staff_ids: Iterable[int]) -> dict[int, list[tuple[RecordEntry, HealthCertificate]]]:
    """Current health certificates per staff record id, newest ``valid_until`` first."""
    found: dict[int, list[tuple[RecordEntry, HealthCertificate]]] = defaultdict(list)
    wanted = sorted(set(staff_ids))
    if not wanted:
        return found
    rows = db.session.execute(
        select(RecordEntry, HealthCertificate).join(HealthCertificate, HealthCertificate.entry_id == RecordEntry.id)
        .where(is_current(), HealthCertificate.staff_id.in_(wanted))
        .order_by(HealthCertificate.valid_until.desc(), RecordEntry.id.desc())).all()
    for entry, certificate in rows:
        found[certificate.staff_id].append((entry, certificate))
    return found


def newest_valid_until(staff_ids: Iterable[int] | Select[Any]) -> dict[int, date]:
    """The latest ``valid_until`` of each person's current certificates (people without one are left out), in
    one grouped statement; ``staff_ids`` may be a query of ids (a province's register is more people than
    PostgreSQL takes bound parameters)."""
    wanted = staff_ids if isinstance(staff_ids, Select) else sorted(set(staff_ids))
    if not isinstance(wanted, Select) and not wanted:
        return {}
    return dict(db.session.execute(
        select(HealthCertificate.staff_id, func.max(HealthCertificate.valid_until))
        .join(RecordEntry, RecordEntry.id == HealthCertificate.entry_id)
        .where(is_current(), HealthCertificate.staff_id.in_(wanted)).group_by(HealthCertificate.staff_id)).all())


def morning_checks(canteen_ids: list[int] | Any, day: date) -> list[tuple[RecordEntry, MorningCheck]]:
    """The current morning checks of the canteens on ``day`` (one per canteen)."""
    return [(entry, row) for entry, row in db.session.execute(
        select(RecordEntry, MorningCheck).join(MorningCheck, MorningCheck.entry_id == RecordEntry.id)
        .where(RecordEntry.canteen_id.in_(canteen_ids), RecordEntry.kind == RecordKind.MORNING_CHECK,
               RecordEntry.record_date == day, is_current()).order_by(RecordEntry.id)).all()]


def persons_of(entry_ids: list[int]) -> dict[int, list[MorningCheckPerson]]:
    """The people of morning-check versions, in the order they were checked."""
    found: dict[int, list[MorningCheckPerson]] = defaultdict(list)
    if entry_ids:
        for person in db.session.scalars(select(MorningCheckPerson).where(MorningCheckPerson.entry_id.in_(entry_ids))
                                          .order_by(MorningCheckPerson.entry_id, MorningCheckPerson.position)):
            found[person.entry_id].append(person)
    return found


def summary_counts(persons: list[MorningCheckPerson]) -> dict[str, int]:
    """How many were checked, passed and failed: all a parent may know of a morning check."""
    failed = sum(1 for p in persons if p.result == CheckResult.FAIL)
    return {"checked": len(persons), "passed": len(persons) - failed, "failed": failed}


def morning_check_summaries(canteen_ids: list[int], day: date) -> dict[int, dict[str, Any]]:
    """Per canteen with a morning check on ``day``: its record id, time and counts (no names, no health data)."""
    checks = morning_checks(canteen_ids, day)
    persons = persons_of([entry.id for entry, _ in checks])
    return {entry.canteen_id: {"id": entry.record_id, "checked_at": row.checked_at,
                               **summary_counts(persons.get(entry.id, []))} for entry, row in checks}


def failed_names(canteen_id: int, day: date) -> set[str]:
    """Names of the people who failed the canteen's morning check of ``day``: off food handling that day."""
    checks = morning_checks([canteen_id], day)
    failed_ids = [p.staff_id for group in persons_of([e.id for e, _ in checks]).values() for p in group
                  if p.result == CheckResult.FAIL]
    return {member.name for member in current_staff(canteen_id, failed_ids).values()} if failed_ids else set()


def findings(person: dict[str, Any]) -> list[str]:
    """What keeps a person off food handling: a fever, any symptom, hands not fit (empty when none)."""
    found = []
    if person["temperature_c"] >= FEVER_FROM_C:
        found.append(f"体温 {person['temperature_c']:g}°C")
    if person.get("symptoms"):
        found.append("、".join(SYMPTOM_LABELS[code] for code in person["symptoms"]))
    if not person["hands_ok"]:
        found.append("手部有伤口或感染")
    return found


# Writing -----------------------------------------------------------------------------------------------
def _duplicate_check(canteen_id: int, model: Any, condition: Any, amend: RecordEntry | None, code: str,
                     message: str) -> None:
    """Refuse (409) a second current record of a canteen matching ``condition`` (other than the amended one)."""
    query = (select(RecordEntry.id, RecordEntry.root_id).join(model, model.entry_id == RecordEntry.id)
             .where(RecordEntry.canteen_id == canteen_id, is_current(), condition))
    if amend is not None:
        query = query.where(logical_id() != amend.record_id)
    existing = db.session.execute(query.limit(1)).first()
    if existing is not None:
        raise _fail(409, code, message, record_id=existing[1] or existing[0])


def prepare_staff(canteen: Any, values: dict[str, Any], now: datetime, amend: RecordEntry | None) -> Prepared:
    """A person of the staff register; two current people of one canteen never share a name."""
    name = values["name"].strip()

    def check_locked() -> None:
        _duplicate_check(canteen.id, StaffMember, StaffMember.name == name, amend, "staff_exists",
                         f"该食堂已登记「{name}」，如需修改请提交更正")

    def build(entry: RecordEntry) -> None:
        db.session.add(StaffMember(entry_id=entry.id, name=name, post=values["post"].strip(),
                                   phone=values.get("phone"), active=values.get("active", True)))

    return Prepared(shanghai_date(now), build, check_locked)


def _staff_member(canteen: Any, staff_id: int, **where: Any) -> StaffMember:
    member = current_staff(canteen.id, [staff_id]).get(staff_id)
    if member is None:
        raise _fail(422, "staff_not_found", "人员不存在或不属于该食堂", **where)
    return member


def prepare_health_certificate(canteen: Any, values: dict[str, Any], now: datetime,
                               amend: RecordEntry | None) -> Prepared:
    """A person's health certificate with its photo (or PDF of an electronic certificate)."""
    rules = RuleBreaches()
    member: StaffMember | None = None
    with rules.check():
        member = _staff_member(canteen, values["staff_id"], field="staff_id")
    with rules.check():
        reading = certificate_readings.reading_for_record(values, canteen, HEALTH_CERTIFICATE)
    if values.get("valid_from") and values["valid_from"] > values["valid_until"]:
        rules.add(_fail(422, "validity_reversed", "有效期起始日期不能晚于截止日期", field="valid_from"))
    with rules.check():
        scans = _uploads(canteen, values["scan_upload_ids"], DOCUMENT_TYPES, "scan_upload_ids")
    rules.raise_any()

    def build(entry: RecordEntry) -> None:
        number, issuer = values["number"].strip(), values["issuer"].strip()
        db.session.add(HealthCertificate(entry_id=entry.id, staff_id=values["staff_id"], number=number,
                                         issuer=issuer, valid_from=values.get("valid_from"),
                                         valid_until=values["valid_until"]))
        _attach(entry, "scan", scans)
        certificate_readings.confirm(reading, entry, {
            "number": number, "holder": member.name if member else None, "valid_from": values.get("valid_from"),
            "valid_until": values["valid_until"], "issuer": issuer}, now)

    return Prepared(shanghai_date(now), build)


def _check_persons(canteen: Any, persons: list[dict[str, Any]], rules: RuleBreaches) -> list[str]:
    """The rules of each person checked (each broken one goes to ``rules``); returns each one's result."""
    ids = [p["staff_id"] for p in persons]
    if len(set(ids)) != len(ids):
        rules.add(_fail(422, "duplicate_person", "同一人员不能在晨检中出现两次", field="persons"))
    members = current_staff(canteen.id, ids)
    results = []
    for line, person in enumerate(persons, start=1):
        member = members.get(person["staff_id"])
        if member is None:
            rules.add(_fail(422, "staff_not_found", "人员不存在或不属于该食堂", field="persons", line=line,
                            staff_id=person["staff_id"]))
        elif not member.active:
            rules.add(_fail(422, "staff_inactive", f"「{member.name}」已离职，不能参加晨检", field="persons",
                            line=line, staff_id=person["staff_id"]))
        found = findings(person)
        result = person.get("result") or (CheckResult.FAIL if found else CheckResult.PASS)
        if found and result == CheckResult.PASS:
            who = member.name if member is not None else f"第 {line} 人"
            rules.add(_fail(422, "check_result_inconsistent",
                            f"「{who}」{'；'.join(found)}，晨检结果不能为合格", field="persons", line=line))
        results.append(str(result))
    return results


def prepare_morning_check(canteen: Any, values: dict[str, Any], now: datetime,
                          amend: RecordEntry | None) -> Prepared:
    """The day's morning check: every person present, checked on the day it is for, one check per day."""
    check_date, persons = values["check_date"], values["persons"]
    rules = RuleBreaches()
    checked_at = values.get("checked_at") or now
    with rules.check():
        checked_at = _not_future(checked_at, now, "checked_at")
        if shanghai_date(checked_at) != check_date:
            raise _fail(422, "checked_at_not_on_date", "晨检时间应在晨检当天", field="checked_at")
    results = _check_persons(canteen, persons, rules)
    rules.raise_any()

    def check_locked() -> None:
        _duplicate_check(canteen.id, MorningCheck, MorningCheck.check_date == check_date, amend,
                         "morning_check_exists", "当天已有晨检记录，如需补充人员请提交更正")

    def build(entry: RecordEntry) -> None:
        db.session.add(MorningCheck(entry_id=entry.id, check_date=check_date, checked_at=checked_at,
                                    checker_name=values["checker_name"], remarks=values.get("remarks")))
        for position, (person, result) in enumerate(zip(persons, results, strict=True), start=1):
            db.session.add(MorningCheckPerson(
                entry_id=entry.id, position=position, staff_id=person["staff_id"],
                temperature_c=float(person["temperature_c"]), hands_ok=person["hands_ok"],
                symptoms=",".join(sorted(set(person.get("symptoms") or []))), result=result,
                remarks=person.get("remarks")))

    return Prepared(check_date, build, check_locked)


STAFF_PREPARERS = {
    RecordKind.STAFF: prepare_staff,
    RecordKind.HEALTH_CERTIFICATE: prepare_health_certificate,
    RecordKind.MORNING_CHECK: prepare_morning_check,
}
