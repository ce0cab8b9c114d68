"""Deliveries as platform admins read them (the console's 通知投递): each row with whom it went to, named as the
school knows them (backend/accounts/people.py) or as the group robot is called, and the school's name. Numbers
stay masked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.accounts.people import mask_phone, people_in_schools
from backend.db_util import names_by_id
from backend.extensions import db
from backend.notices.models import ChannelDelivery, Notice, NoticeRobot
from backend.schools.models import School

ROBOT = "群机器人"


def notice_deliveries(status: str | None, *, before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Notices by delivery state (``failed`` ones need attention), newest first, named."""
    return named_notices(_newest(Notice, [Notice.status == status] if status else [], before_id, limit))


def channel_deliveries(status: str, channel: str | None, *, before_id: int | None,
                       limit: int) -> list[dict[str, Any]]:
    """SMS and robot deliveries in one state, newest first, named; numbers masked."""
    conditions = [ChannelDelivery.status == status]
    if channel is not None:
        conditions.append(ChannelDelivery.channel == channel)
    return named_channel_deliveries(_newest(ChannelDelivery, conditions, before_id, limit))


def _newest(model: Any, conditions: list[Any], before_id: int | None, limit: int) -> list[Any]:
    """A page of rows, newest first, below ``before_id`` (the last id of the page before)."""
    if before_id is not None:
        conditions = [*conditions, model.id < before_id]
    return list(db.session.scalars(select(model).where(*conditions).order_by(model.id.desc()).limit(limit)))


def _columns(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}


def named_notices(notices: list[Notice]) -> list[dict[str, Any]]:
    """Notices (their WeChat copies) with the recipient's name and role at the school, and the school's name."""
    people = people_in_schools((notice.school_id, notice.user_id) for notice in notices)
    schools = names_by_id(School, (notice.school_id for notice in notices))
    return [{**_columns(notice), "recipient_name": people[(notice.school_id, notice.user_id)].name,
             "recipient_role_label": people[(notice.school_id, notice.user_id)].role_label,
             "school_name": schools.get(notice.school_id)} for notice in notices]


def named_channel_deliveries(rows: list[ChannelDelivery]) -> list[dict[str, Any]]:
    """SMS and robot deliveries with whom each went to (the person, or the robot's name) and the school's name."""
    people = people_in_schools((row.school_id, row.user_id) for row in rows if row.user_id is not None)
    robots = names_by_id(NoticeRobot, (row.robot_id for row in rows))
    schools = names_by_id(School, (row.school_id for row in rows))
    named = []
    for row in rows:
        person = people.get((row.school_id, row.user_id))
        if row.robot_id is not None:
            who, what = robots.get(row.robot_id), ROBOT
        else:
            who, what = (person.name, person.role_label) if person else (None, "")
        named.append({**_columns(row), "phone": mask_phone(row.phone), "recipient_name": who,
                      "recipient_role_label": what, "school_name": schools.get(row.school_id)})
    return named
