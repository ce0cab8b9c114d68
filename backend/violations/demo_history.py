"""Four weeks of demo problems behind ``make demo``, so a regulator's first look shows what the figures are for:
problems found and rectified on time, late, after a rejection, withdrawn as false alarms, handed to the regulators,
and two still open past their deadline; the weekly and daily trends, the rectification rate and its median time,
the ranking of schools.

``flask seed-demo-history`` writes them (``make demo`` runs it after ``flask seed-demo``; the console's browser tests
do not, so their world stays today's). Every step goes through the services the desk and the phone use, at the time
it would have happened: found by the camera (or the records' rules, or the cameras' monitoring), confirmed in the
alarm review, taken on and answered by the canteen manager with a photo, reviewed by the principal (or the
regulator). Each problem is keyed by school and place in the table, so running it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice, SubjectType
from backend.notices.services import mark_read
from backend.permissions import Principal, load_principal
from backend.records.demo import demo_image, shanghai_at
from backend.records.meal_windows import shanghai_today
from backend.schools.models import Camera, KitchenArea, School
from backend.timeutil import utcnow
from backend.violations import lifecycle
from backend.violations.alarm_review import review_alarm
from backend.violations.demo_alarms import raise_demo_alarm, school_cameras
from backend.violations.models import AlarmVerdict, Violation, ViolationKind, ViolationSource, ViolationStatus
from backend.violations.photos import store_photo
from backend.violations.services import RaisedViolation, raise_violation

# How a past problem went: fixed (on time), late (answered after its deadline), rejected (the first answer sent
# back, the second accepted), false_alarm (withdrawn in the alarm review), escalated (the principal handed it to
# the regulators, who accepted the answer), taken (taken on, never answered: past its deadline) and waiting (not
# even taken on: past its deadline).
OUTCOMES = ("fixed", "late", "rejected", "false_alarm", "escalated", "taken", "waiting")


@dataclass(frozen=True)
class PastProblem:
    """One row of the history: when (days before today, Shanghai time), where (the school's n-th camera) and what."""

    days_ago: int
    at: str
    camera: int
    kind: str
    outcome: str


# The camera-found problems follow the kitchen's day (prep from 09:30, cooking to 12:00 and 17:30); the records'
# rules find a missing log after the meal's deadline; someone in the sample room after hours is caught at night.
HISTORY = [
    PastProblem(27, "10:42", 0, ViolationKind.NO_MASK, "fixed"),
    PastProblem(25, "16:05", 1, ViolationKind.NO_HAT, "fixed"),
    PastProblem(23, "13:30", 0, ViolationKind.DISINFECTION_MISSING, "late"),
    PastProblem(22, "11:12", 0, ViolationKind.PHONE, "false_alarm"),
    PastProblem(20, "10:18", 1, ViolationKind.NO_UNIFORM, "fixed"),
    PastProblem(18, "22:40", 2, ViolationKind.PERSON_AFTER_HOURS, "escalated"),
    PastProblem(16, "16:52", 0, ViolationKind.NO_MASK, "rejected"),
    PastProblem(15, "11:35", 0, ViolationKind.CAMERA_OFFLINE_MEAL, "fixed"),
    PastProblem(13, "09:48", 1, ViolationKind.NO_HAT, "fixed"),
    PastProblem(11, "17:10", 0, ViolationKind.SMOKING, "fixed"),
    PastProblem(9, "14:05", 0, ViolationKind.SAMPLE_MISSING, "fixed"),
    PastProblem(8, "10:26", 1, ViolationKind.NO_MASK, "late"),
    PastProblem(6, "11:50", 0, ViolationKind.PHONE, "false_alarm"),
    PastProblem(5, "16:33", 1, ViolationKind.NO_UNIFORM, "taken"),
    PastProblem(4, "10:05", 0, ViolationKind.NO_HAT, "fixed"),
    PastProblem(3, "13:30", 0, ViolationKind.DISINFECTION_MISSING, "waiting"),
    PastProblem(2, "10:40", 1, ViolationKind.NO_MASK, "fixed"),
]
# The second school has fewer problems and answers faster, so the ranking has a leader: it keeps every other row
# and turns a late answer into a timely one.
SECOND_SCHOOL_ROWS = slice(1, None, 2)

MEASURES = {
    ViolationKind.NO_MASK: "已当面提醒当班人员规范佩戴口罩，在更衣室张贴佩戴要求，班前检查增加口罩一项",
    ViolationKind.NO_HAT: "已提醒厨师规范佩戴厨师帽，头发全部收入帽内，班前检查逐人核对",
    ViolationKind.NO_UNIFORM: "已要求当班人员更换工作服，补发两套工作服，更衣室增设挂衣架",
    ViolationKind.PHONE: "已重申操作时禁止使用手机，手机统一存放在更衣柜",
    ViolationKind.SMOKING: "已对吸烟人员批评教育并记录在案，后厨张贴禁烟标识，增加巡查频次",
    ViolationKind.PERSON_AFTER_HOURS: "经查为保洁人员未登记进入留样间，已规范门禁登记，留样间钥匙专人保管",
    ViolationKind.CAMERA_OFFLINE_MEAL: "交换机电源松动导致离线，已重新接线并加装稳压电源",
    ViolationKind.DISINFECTION_MISSING: "已补做消毒并登记，指定洗消员每餐后当场登记消毒记录",
    ViolationKind.SAMPLE_MISSING: "已补齐留样记录，留样员每餐开餐前完成留样并登记",
}
READ_AFTER = timedelta(minutes=25)
FALSE_ALARM_REASON = "画面中为拿着调料瓶的手，并非手机"
REJECT_REASON = "整改照片看不清佩戴情况，请补拍当班全员佩戴口罩的照片"
ESCALATE_REASON = "涉及外包保洁公司人员管理，学校难以独立解决，请监管部门督促"
# Record rules and the cameras' monitoring are facts: they skip the alarm review.
SOURCES = {ViolationKind.DISINFECTION_MISSING: ViolationSource.RECORD_RULE,
           ViolationKind.SAMPLE_MISSING: ViolationSource.RECORD_RULE,
           ViolationKind.CAMERA_OFFLINE_MEAL: ViolationSource.MONITORING}


def _actor(openid: str) -> Principal:
    return load_principal(db.session.scalar(select(User).where(User.openid == openid)))


def _raise(camera: Camera, problem: PastProblem, found: datetime, key: str) -> RaisedViolation:
    source = SOURCES.get(problem.kind, ViolationSource.AI)
    if source == ViolationSource.AI:
        return raise_demo_alarm(camera, problem.kind, found, 0.87, key, now=found)
    canteen_id = db.session.get(KitchenArea, camera.area_id).canteen_id
    return raise_violation(canteen_id=canteen_id, kind=problem.kind, source=source,
                           idempotency_key=f"demo-history:{key}", occurred_at=found,
                           camera_id=camera.id if source == ViolationSource.MONITORING else None,
                           details={"demo": True}, now=found + timedelta(minutes=2))


def _answer(manager: Principal, violation: Violation, school: School, at: datetime) -> None:
    """The canteen manager answers with what was done and a photo of it."""
    photo = store_photo(manager, school, demo_image(f"rectification {violation.id} {at.isoformat()}"))
    lifecycle.submit_rectification(manager, violation, MEASURES[violation.kind], [photo["key"]], now=at)


def _live_through(problem: PastProblem, violation: Violation, school: School, actors: dict[str, Principal],
                  found: datetime) -> None:
    """Take the problem through what happened to it, each step at its time."""
    principal, manager, regulator = actors["principal"], actors["manager"], actors["regulator"]
    step = found + timedelta(minutes=12)
    if violation.source == ViolationSource.AI:
        if problem.outcome == "false_alarm":
            review_alarm(principal, violation, AlarmVerdict.FALSE_POSITIVE, FALSE_ALARM_REASON, now=step)
            return
        review_alarm(principal, violation, AlarmVerdict.CONFIRMED, None, now=step)
    if problem.outcome == "waiting":
        return
    if problem.outcome == "escalated":
        lifecycle.escalate_violation(principal, violation, ESCALATE_REASON, now=step + timedelta(hours=2))
        step += timedelta(hours=20)
    lifecycle.start_rectification(manager, violation, now=step + timedelta(minutes=30))
    if problem.outcome == "taken":
        return
    answered = (violation.due_at + timedelta(hours=7) if problem.outcome == "late"
                else step + timedelta(hours=3))
    _answer(manager, violation, school, answered)
    reviewer = regulator if problem.outcome == "escalated" else principal
    if problem.outcome == "rejected":
        lifecycle.review_rectification(reviewer, violation, False, REJECT_REASON, now=answered + timedelta(hours=1))
        lifecycle.start_rectification(manager, violation, now=answered + timedelta(hours=2))
        answered += timedelta(hours=20)
        _answer(manager, violation, school, answered)
    lifecycle.review_rectification(reviewer, violation, True, None, now=answered + timedelta(hours=1, minutes=15))


def history_of(school_index: int) -> list[PastProblem]:
    """The demo history of the first (1) or second (2) demo school."""
    if school_index == 1:
        return HISTORY
    return [PastProblem(p.days_ago, p.at, p.camera, p.kind, "fixed" if p.outcome == "late" else p.outcome)
            for p in HISTORY[SECOND_SCHOOL_ROWS]]


def seed_demo_history(school_id: int, school_index: int, now: datetime | None = None) -> int:
    """Write a demo school's past four weeks of problems (those not written yet); returns how many it wrote."""
    today = shanghai_today(now or utcnow())
    school = db.session.get(School, school_id)
    cameras = school_cameras(school_id)
    actors = {role: _actor(f"demo-{role}-{school_index}") for role in ("principal", "manager")}
    actors["regulator"] = _actor("demo-regulator")
    written = 0
    for index, problem in enumerate(history_of(school_index)):
        found = shanghai_at(today - timedelta(days=problem.days_ago), problem.at)
        raised = _raise(cameras[problem.camera % len(cameras)], problem, found, f"history-s{school_id}-{index}")
        if raised.created:
            _live_through(problem, raised.violation, school, actors, found)
            _read_when_sent(raised.violation)
            written += 1
    return written


def _read_when_sent(violation: Violation) -> None:
    """Its notices were read within the hour back then (a closed problem's all; an open one's but the last), so the
    inbox holds today's news, not four weeks of it."""
    notices = list(db.session.scalars(select(Notice).where(Notice.subject_type == SubjectType.VIOLATION,
                                                            Notice.subject_id == violation.id)
                                      .order_by(Notice.created_at, Notice.id)))
    if violation.status != ViolationStatus.CLOSED:
        newest = max((n.created_at for n in notices), default=None)
        notices = [n for n in notices if n.created_at != newest]
    for notice in notices:
        mark_read(notice.user_id, notice.id, now=notice.created_at + READ_AFTER)
