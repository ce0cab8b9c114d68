"""Who receives a notice: school members by role, the regulators of a school's region, and each school's
choice of the violation kinds it publishes to the parents' committee; and how a regulator's office is named
as a notice's sender."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, literal, select

from backend.accounts.models import Membership, MembershipStatus, RegulatorScope, Role
from backend.extensions import db
from backend.notices.models import SchoolNoticeSettings
from backend.permissions import Principal
from backend.schools.models import Region, School
from backend.violations.models import CAMERA_HEALTH_KINDS, ViolationKind

# Published to the committee (and shown on the parents' timeline) unless the school chooses otherwise: every
# kind of problem in the kitchen; only camera health (offline, blurred, occluded) is the school's own upkeep.
DEFAULT_PUBLISHED_KINDS: tuple[str, ...] = tuple(kind.value for kind in ViolationKind
                                                 if kind not in CAMERA_HEALTH_KINDS)


def issuing_office(actor: Principal, school: School) -> str:
    """The regulator's office as the school reads it in a notice: the region of the actor's scope that covers
    the school, e.g. 西湖区市场监管部门."""
    scope = next((s for s in actor.scopes if school.region.path.startswith(s.path)), None)
    return f"{scope.region_name}市场监管部门" if scope else "市场监管部门"


def school_members(school_id: int, roles: Iterable[Role]) -> set[int]:
    """Ids of users holding one of ``roles`` actively in a school."""
    wanted = [Role(r).value for r in roles]
    if not wanted:
        return set()
    return set(db.session.scalars(
        select(Membership.user_id).where(Membership.school_id == school_id, Membership.role.in_(wanted),
                                         Membership.status == MembershipStatus.ACTIVE)))


def covering_scopes(*columns: Any, region_path: str) -> Select[Any]:
    """``SELECT columns`` over the regulator scopes that cover a region (its own, its city's, its province's).

    The scope's region is joined as ``Region``: callers may select or filter its columns.
    """
    return (select(*columns).select_from(RegulatorScope).join(Region, Region.id == RegulatorScope.region_id)
            .where(literal(region_path).startswith(Region.path)))


def regional_regulators(school: School) -> set[int]:
    """Ids of regulators whose scope contains the school's region (its county, city or province)."""
    return set(db.session.scalars(covering_scopes(RegulatorScope.user_id, region_path=school.region.path)))


def published_kinds(school_id: int) -> list[str]:
    """The violation kinds a school publishes to its parents' committee."""
    settings = db.session.get(SchoolNoticeSettings, school_id)
    return list(settings.published_kinds) if settings is not None else list(DEFAULT_PUBLISHED_KINDS)


def is_published(school_id: int, kind: str) -> bool:
    """Whether the committee hears about (and parents see) violations of this kind."""
    return kind in published_kinds(school_id)
