"""The registry of ``flask`` commands, the one time type of every CLI option, and the platform's own commands
(demo and scale seeds, admins and regulators).

One pattern: a module with commands defines ``commands``, a :class:`flask.cli.AppGroup` whose commands (each
run in an app context) become ``flask`` commands; a feature that wants its own namespace puts a group in it
(``flask live …``). :data:`CLI_MODULES` lists every such module; ``python -m workers`` runs the ``commands``
group of workers/infra/cli.py the same way.
"""

from __future__ import annotations

import importlib
import secrets
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, insert, select

from backend.accounts import services as accounts
from backend.accounts.models import Membership, MembershipStatus, Relation, Role, User
from backend.audit.actions import AuditAction
from backend.extensions import db
from backend.schools import services as schools
from backend.schools.models import (
    AreaKind,
    Camera,
    Canteen,
    KitchenArea,
    Region,
    School,
    SchoolClass,
    SchoolKind,
    SourceKind,
)
from backend.timeutil import SHANGHAI, utcnow

WEEKDAYS = range(5)
DEMO_MEALS = [("breakfast", "07:00", "08:00"), ("lunch", "11:30", "12:30"), ("dinner", "17:30", "18:30")]
DEMO_LIVE = [("06:30", "13:30"), ("16:30", "19:00")]
# The second demo school's parents may watch at any hour of every day, so whoever runs `make demo` sees live
# kitchens as a parent too; the first keeps school-day windows (and shows the closed state outside them: the
# mini-program's API fixtures are recorded from it).
DEMO_LIVE_ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
DEMO_WORK_HOURS = [("05:30", "20:00")]
DEMO_AREAS = [("热菜烹饪区", AreaKind.HOT_KITCHEN, True), ("切配区", AreaKind.PREP, True),
              ("留样间", AreaKind.SAMPLE_ROOM, False)]
DEMO_CLASSES = [f"{grade}年级{number}班" for grade in "一二三四五六" for number in "一二"]
DEMO_CHECKS = ["no_mask", "no_hat", "person_after_hours", "rodent", "camera_offline", "camera_blurred",
               "camera_occluded"]


def _windows(spans: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [{"weekday": d, "start": s, "end": e} for d in WEEKDAYS for s, e in spans]


def _meal_windows() -> list[dict[str, object]]:
    return [{"weekday": d, "meal": m, "start": s, "end": e} for d in WEEKDAYS for m, s, e in DEMO_MEALS]


def demo_video_path() -> str:
    """The video the demo's cameras loop (resolved by the detection workers' media helper when present)."""
    try:
        from workers.demo_media import demo_video  # type: ignore[import-not-found]

        return str(demo_video())
    except ImportError:
        return str(Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"))


def _user(openid: str, nickname: str, *, admin: bool = False) -> User:
    user = db.session.scalar(select(User).where(User.openid == openid))
    if user is None:
        user = User(openid=openid, nickname=nickname, is_admin=admin)
        db.session.add(user)
        db.session.flush()
    return user


def _region_chain() -> Region:
    province = db.session.scalar(select(Region).where(Region.code == "330000")) or schools.create_region(
        "330000", "浙江省", "province", None)
    city = db.session.scalar(select(Region).where(Region.code == "330100")) or schools.create_region(
        "330100", "杭州市", "city", province)
    return db.session.scalar(select(Region).where(Region.code == "330106")) or schools.create_region(
        "330106", "西湖区", "county", city)


def seed_demo() -> dict[str, int]:
    """Create the demo region, two schools with canteens, areas, cameras, a user of every role and two regulators.

    Running it twice changes nothing: every object is looked up by its natural key first.
    """
    county = _region_chain()
    admin = _user("demo-admin", "平台管理员", admin=True)
    regulator = _user("demo-regulator", "西湖区市场监管局")
    accounts.grant_regulator(regulator, county, admin.id)
    video = demo_video_path()
    created: dict[str, int] = {}
    for index, (name, kind) in enumerate([("西湖实验小学", SchoolKind.PRIMARY), ("文三路中学", SchoolKind.SECONDARY)],
                                         start=1):
        school = db.session.scalar(select(School).where(School.name == name))
        if school is None:
            school = schools.create_school(admin.id, county, name, kind, f"杭州市西湖区示范路{index}号")
            canteen = Canteen(school_id=school.id, name="学生食堂", meal_windows=_meal_windows(),
                              live_windows=DEMO_LIVE_ALL_DAY if index == 2 else _windows(DEMO_LIVE))
            db.session.add(canteen)
            db.session.flush()
            for area_name, area_kind, public in DEMO_AREAS:
                area = KitchenArea(canteen_id=canteen.id, name=area_name, kind=area_kind, public=public)
                db.session.add(area)
                db.session.flush()
                db.session.add(Camera(area_id=area.id, name=f"{area_name}摄像头", source_kind=SourceKind.FILE,
                                      source_url=video, sampling_interval_seconds=5,
                                      work_hours=_windows(DEMO_WORK_HOURS), enabled_checks=DEMO_CHECKS))
        classes = {c.name: c for c in db.session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id))}
        for position, class_name in enumerate(DEMO_CLASSES, start=1):
            if class_name not in classes:
                classes[class_name] = SchoolClass(school_id=school.id, name=class_name, position=position)
                db.session.add(classes[class_name])
        for role in Role:
            user = _user(f"demo-{role.value}-{index}", f"{name}{accounts_role_label(role)}")
            membership = accounts.grant_membership(user, school, role, admin.id)
            if role is Role.PARENT:
                membership.school_class = classes["三年级二班"]
                membership.relation = Relation.MOTHER
        created[name] = school.id
    # A second regulator of the county, as a joint inspection needs two inspectors (created last, so the ids of
    # the users above stay what they were).
    accounts.grant_regulator(_user("demo-regulator-2", "西湖区市场监管局执法二组"), county, admin.id)
    _pending_parent(created["西湖实验小学"])
    from workers.demo_seed import configure_demo_cameras

    configure_demo_cameras()  # sample rooms: staffed only after meals, so the demo video raises violations
    db.session.commit()
    return created


def _pending_parent(school_id: int) -> None:
    """A parent's binding still waiting for approval, so the approvers' pages have something to decide (created
    after every other demo user, so their ids stay what they were)."""
    user = _user("demo-applicant-1", "王小明家长")
    if db.session.scalar(select(Membership.id).where(Membership.user_id == user.id)) is None:
        school_class = db.session.scalar(select(SchoolClass).where(SchoolClass.school_id == school_id,
                                                                   SchoolClass.name == "一年级一班"))
        db.session.add(Membership(user_id=user.id, school_id=school_id, role=Role.PARENT,
                                  status=MembershipStatus.PENDING, applicant_name="王小明妈妈",
                                  relation=Relation.MOTHER, school_class=school_class))
        db.session.flush()


def accounts_role_label(role: Role) -> str:
    """The Chinese name of a role."""
    from backend.accounts.models import ROLE_LABELS

    return ROLE_LABELS[role]


def seed_scale(schools_count: int, parents_per_school: int, batch: int = 1000) -> None:
    """Bulk-create schools with staff and parents for benchmarks (fast core inserts, with a progress bar)."""
    county = _region_chain()
    start = (db.session.scalar(select(func.max(School.id))) or 0) + 1
    tag = secrets.token_hex(3)
    with click.progressbar(range(schools_count), label="seeding schools") as bar:
        for offset in bar:
            number = start + offset
            school = School(region_id=county.id, name=f"压测学校{number}", kind=SchoolKind.PRIMARY)
            db.session.add(school)
            db.session.flush()
            canteen = Canteen(school_id=school.id, name="学生食堂", meal_windows=_meal_windows(),
                              live_windows=_windows(DEMO_LIVE))
            db.session.add(canteen)
            db.session.flush()
            area = KitchenArea(canteen_id=canteen.id, name="热菜烹饪区", kind=AreaKind.HOT_KITCHEN, public=True)
            db.session.add(area)
            db.session.flush()
            db.session.add(Camera(area_id=area.id, name="热菜区摄像头", source_kind=SourceKind.RTSP,
                                  source_url=f"rtsp://10.0.{number % 250}.1/stream1"))
            school_class = SchoolClass(school_id=school.id, name="一年级一班", position=1)
            db.session.add(school_class)
            db.session.flush()
            openids = [f"scale-{tag}-{number}-{role.value}" for role in (Role.PRINCIPAL, Role.STAFF, Role.MANAGER)]
            openids += [f"scale-{tag}-{number}-parent-{i}" for i in range(parents_per_school)]
            for chunk_start in range(0, len(openids), batch):
                chunk = openids[chunk_start:chunk_start + batch]
                ids = db.session.scalars(insert(User).returning(User.id),
                                         [{"openid": o, "is_admin": False} for o in chunk]).all()
                rows = []
                for openid, user_id in zip(chunk, ids, strict=True):
                    role = Role.PARENT if "-parent-" in openid else Role(openid.rsplit("-", 1)[1])
                    rows.append({"user_id": user_id, "school_id": school.id, "role": role,
                                 "status": MembershipStatus.ACTIVE,
                                 "school_class_id": school_class.id if role is Role.PARENT else None})
                db.session.execute(insert(Membership), rows)
            db.session.commit()


commands = AppGroup("platform", help="Demo and scale seeds, admins and regulators.")


@commands.command("seed-demo")
@click.option("--history", is_flag=True,
              help="also four weeks of past problems, each taken through what happened to it, and two weeks of "
                   "both schools' records (make demo)")
def seed_demo_command(history: bool) -> None:
    """Create the demo region, schools, cameras and one user of every role (idempotent)."""
    created = seed_demo()
    for name, school_id in created.items():
        click.echo(f"school {school_id}: {name}")
    click.echo("demo users: demo-admin, demo-regulator, demo-regulator-2, demo-<role>-<1|2> (role: "
               + ", ".join(r.value for r in Role) + ")")
    from backend.records.demo import seed_demo_records

    for name, school_id in created.items():
        if history or name == "西湖实验小学":  # without the history the second school's canteen starts empty
            counts = seed_demo_records(school_id, history=history)
            click.echo(f"demo records of school {school_id}: "
                       + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    from backend.monitoring.demo import seed_demo_camera_health

    click.echo(f"demo camera health: {seed_demo_camera_health()} cameras with 7 days of history")
    if history:  # before today's alarms, so the numbers of problems run in the order they were found
        from backend.violations.demo_history import seed_demo_history

        for index, school_id in enumerate(created.values(), start=1):
            click.echo(f"demo history of school {school_id}: {seed_demo_history(school_id, index)} past problems")
    from backend.violations.demo_alarms import seed_demo_alarms

    alarms = sum(seed_demo_alarms(school_id) for school_id in created.values())
    click.echo(f"demo AI alarms awaiting review: {alarms}")
    from backend.risk.early_warning import compute_warnings

    click.echo(f"demo early warnings: {compute_warnings(utcnow())['raised']} raised")


@commands.command("seed-scale")
@click.option("--schools", "schools_count", type=click.IntRange(1, 100000), required=True)
@click.option("--parents-per-school", type=click.IntRange(0, 100000), default=100, show_default=True)
def seed_scale_command(schools_count: int, parents_per_school: int) -> None:
    """Create many schools and parents for benchmarks."""
    seed_scale(schools_count, parents_per_school)
    click.echo(f"seeded {schools_count} schools with {parents_per_school} parents each")


@commands.command("create-admin")
@click.option("--openid", required=True, help="the admin's WeChat openid")
@click.option("--nickname", default="管理员")
def create_admin_command(openid: str, nickname: str) -> None:
    """Make a user (created if needed) a platform admin."""
    user = _user(openid, nickname)
    user.is_admin = True
    from backend.audit.services import record_audit

    record_audit(None, AuditAction.ADMIN_GRANT, target=("user", user.id))
    db.session.commit()
    click.echo(f"user {user.id} ({openid}) is an admin")


@commands.command("grant-regulator")
@click.option("--openid", required=True)
@click.option("--region-code", required=True, help="administrative code, e.g. 330106")
@click.option("--revoke", is_flag=True, help="remove the scope instead")
def grant_regulator_command(openid: str, region_code: str, revoke: bool) -> None:
    """Give (or take) a regulator's authority over a region."""
    region = db.session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise click.ClickException(f"no region with code {region_code}")
    user = _user(openid, "监管人员")
    if revoke:
        removed = accounts.revoke_regulator(user, region, None)
        db.session.commit()
        click.echo("revoked" if removed else "no such scope")
        return
    accounts.grant_regulator(user, region, None)
    db.session.commit()
    click.echo(f"user {user.id} regulates {region.name} ({region.code})")


#: Every module whose ``commands`` become ``flask`` commands.
CLI_MODULES: tuple[str, ...] = (
    "backend.cli",
    "backend.records.cli",
    "backend.notices.cli",
    "backend.violations.cli",
    "backend.live.cli",
    "workers.camera.cli",
)


def register_cli(app: Flask) -> None:
    """Attach the commands of every module in :data:`CLI_MODULES` to the app's CLI."""
    for name in CLI_MODULES:
        for command in importlib.import_module(name).commands.commands.values():
            app.cli.add_command(command)


class ShanghaiTime(click.ParamType):
    """A date-time option: ISO 8601; without an offset it is Asia/Shanghai wall-clock time (aware result)."""

    name = "time"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse ``value`` (or pass an aware datetime through)."""
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(f"{value!r}: use YYYY-MM-DDTHH:MM (Asia/Shanghai) or an ISO time with an offset", param,
                          ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


#: The type of every CLI option that takes a time.
SHANGHAI_TIME = ShanghaiTime()
