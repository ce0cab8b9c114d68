"""Which notices a seal (封存) produces, for whom, saying what.

A seal binds the people who keep the canteen's records (its manager, the school's food-safety staff and the
principal): a sealed batch must not be cooked, a sealed sample not thrown away, a sealed area not worked in.
They are told when a seal is placed and when it is released, by whom and why, in the same transaction as the
seal's record; the one who sealed is not told of their own act.
"""

from __future__ import annotations

from datetime import datetime

from backend.notices.models import SubjectType
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.recipients import school_members
from backend.permissions import Action, roles_allowed
from backend.schools.models import Canteen

# The page a seal's notice opens: 台账填报, which lists each canteen's seals in force.
HUB_PAGE = "pages/records/hub/index"
# What a seal in force forbids, by target (the refusals' words: ``records.sealing.refuse_sealed``).
FORBIDDEN = {"item": "使用该批次食品", "sample": "处置该留样", "area": "在该区域作业（含消毒记录）"}


def _draft(seal_id: int, canteen: Canteen, purpose: str, title: str, body: str, target: str, reason: str,
           state: str, at: datetime) -> NoticeDraft:
    return NoticeDraft(subject_type=SubjectType.RECORD, subject_id=seal_id, school_id=canteen.school_id,
                       purpose=purpose, template="seal", title=title, body=body,
                       payload={"school": canteen.school.name, "target": target, "reason": reason, "state": state,
                                "at": at.isoformat()}, page=HUB_PAGE)


def _bound(canteen: Canteen) -> set[int]:
    return school_members(canteen.school_id, roles_allowed(Action.RECORDS_WRITE))


def notify_sealed(seal_id: int, canteen: Canteen, target: str, target_name: str, reason: str, by: str,
                  actor_id: int | None, now: datetime) -> None:
    """A seal was placed: tell who it binds what is sealed, by whom, why and what it forbids."""
    body = (f"{by}封存了{canteen.name}的「{target_name}」，原因：{reason}。"
            f"解除封存前不得{FORBIDDEN[target]}。")
    draft = _draft(seal_id, canteen, "seal_placed", f"封存通知：{target_name}", body, target_name, reason, "已封存",
                   now)
    enqueue(draft, _bound(canteen), f"seal:{seal_id}:placed", now, exclude=actor_id)


def notify_released(seal_id: int, canteen: Canteen, target_name: str, reason: str, by: str, actor_id: int | None,
                    now: datetime) -> None:
    """A seal was released: what is free again, by whom and why."""
    body = f"{by}解除了{canteen.name}「{target_name}」的封存，原因：{reason}。"
    draft = _draft(seal_id, canteen, "seal_released", f"解除封存：{target_name}", body, target_name, reason, "已解除",
                   now)
    enqueue(draft, _bound(canteen), f"seal:{seal_id}:released", now, exclude=actor_id)
