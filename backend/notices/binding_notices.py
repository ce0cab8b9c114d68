"""Which notices a binding request produces, for whom, saying what.

- a request: everyone who may decide it (for a parent, the school's staff, principal and parents' committee;
  for a staff role, the principal), pointing at the approval page;
- a decision: the applicant, approved (the tap opens the mini-program's home) or refused (the tap opens the
  binding page to ask again).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from backend.accounts.models import RELATION_LABELS, ROLE_LABELS, Membership, Role
from backend.notices.models import SubjectType
from backend.notices.outbox import NoticeDraft, enqueue

APPROVALS_PAGE = "pages/accounts/approvals/index"
BIND_PAGE = "pages/accounts/bind/index"


def applicant_of(membership: Membership) -> str:
    """The applicant as approvers read them: name, relation to the child and class for parents."""
    name = membership.applicant_name or membership.user.nickname or "微信用户"
    if Role(membership.role) is not Role.PARENT:
        return f"{name}（{ROLE_LABELS[Role(membership.role)]}）"
    relation = RELATION_LABELS.get(membership.relation or "", "")
    details = "，".join(p for p in (membership.child_class, relation) if p)
    return f"{name}（{details}）" if details else name


def _draft(membership: Membership, purpose: str, title: str, body: str, result: str, applicant: str,
           at: datetime, page: str | None) -> NoticeDraft:
    return NoticeDraft(subject_type=SubjectType.MEMBERSHIP, subject_id=membership.id,
                       school_id=membership.school_id, purpose=purpose, template="binding", title=title, body=body,
                       payload={"school": membership.school.name, "applicant": applicant, "result": result,
                                "at": at.isoformat()}, page=page)


def notify_requested(membership: Membership, approvers: Iterable[int], cause_id: int, now: datetime) -> None:
    """A binding awaits a decision: tell everyone who may make it."""
    applicant = applicant_of(membership)
    role = ROLE_LABELS[Role(membership.role)]
    body = f"{applicant}申请以{role}身份绑定{membership.school.name}，请核对后审核。"
    draft = _draft(membership, "binding_requested", f"新的绑定申请：{applicant}", body, "待审核", applicant, now,
                   APPROVALS_PAGE)
    enqueue(draft, approvers, f"membership:{membership.id}:request:{cause_id}", now, exclude=membership.user_id)


def notify_decided(membership: Membership, approved: bool, reason: str | None, cause_id: int,
                   now: datetime) -> None:
    """Tell the applicant the school's decision."""
    school = membership.school.name
    if approved:
        body = f"您绑定{school}的申请已通过，现在可以查看学校食堂的直播、菜单和台账。"
        draft = _draft(membership, "binding_approved", f"绑定申请已通过：{school}", body, "已通过",
                       applicant_of(membership), now, None)
    else:
        body = f"您绑定{school}的申请未通过。" + (f"原因：{reason}" if reason else "如有疑问请联系学校。")
        draft = _draft(membership, "binding_rejected", f"绑定申请未通过：{school}", body, "未通过",
                       applicant_of(membership), now, BIND_PAGE)
    enqueue(draft, [membership.user_id], f"membership:{membership.id}:decision:{cause_id}", now)
