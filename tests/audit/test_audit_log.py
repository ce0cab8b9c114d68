"""The audit log: who watched which camera, who changed what and who exported what is written by the actions
themselves, and readable only by the school's principal and the region's regulators."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.accounts.models import User
from backend.audit.actions import PREFIX_CATEGORIES, TARGET_LABELS, AuditAction, AuditCategory
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import utcnow
from tests.live.conftest import ALL_DAY, mark_live, set_live_windows

SECRET_URL = "rtsp://10.1.2.3:554/Streaming/Channels/101"


def _user_id(openid: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.openid == openid))


def _public_camera(school_id: int) -> int:
    return db.session.scalar(sa.select(Camera.id).join(KitchenArea, Camera.area_id == KitchenArea.id)
                             .join(Canteen, KitchenArea.canteen_id == Canteen.id)
                             .where(Canteen.school_id == school_id, KitchenArea.public.is_(True))
                             .order_by(Camera.id).limit(1))


def _audit(client, as_user, openid: str, school_id: int = 1):
    return client.get(f"/api/v1/schools/{school_id}/audit", headers=as_user(openid))


def test_watching_changing_and_exporting_are_audited_for_the_principal_and_the_regulator(client, as_user, demo):
    camera_id = _public_camera(1)
    set_live_windows(1, ALL_DAY)
    mark_live(camera_id, utcnow())
    today = utcnow().date().isoformat()

    watched = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user("demo-parent-1"))
    assert watched.status_code == 200, watched.json
    changed = client.patch(f"/api/v1/cameras/{camera_id}", headers=as_user("demo-principal-1"),
                           json={"name": "热菜区一号", "source_url": SECRET_URL})
    assert changed.status_code == 200, changed.json
    exported = client.get("/api/v1/canteens/1/records/export", headers=as_user("demo-regulator"),
                          query_string={"from": today, "to": today})
    assert exported.status_code == 200
    refused = client.post(f"/api/v1/live/cameras/{_public_camera(2)}/play", headers=as_user("demo-parent-1"))
    assert refused.status_code == 403  # a refused play is not a viewing

    log = _audit(client, as_user, "demo-principal-1")
    assert log.status_code == 200
    rows = {row["action"]: row for row in log.json}
    assert [row["action"] for row in log.json][:3] == ["records.export", "camera.update", "live.play"]
    assert (rows["live.play"]["actor_id"], rows["live.play"]["target_type"], rows["live.play"]["target_id"]) == (
        _user_id("demo-parent-1"), "camera", camera_id)
    assert rows["live.play"]["details"]["viewer"] == "parent"
    assert (rows["camera.update"]["actor_id"], rows["camera.update"]["target_id"]) == (
        _user_id("demo-principal-1"), camera_id)
    assert SECRET_URL not in str(rows["camera.update"]["details"])  # the secret's change is logged, not its value
    assert (rows["records.export"]["actor_id"], rows["records.export"]["target_type"]) == (
        _user_id("demo-regulator"), "canteen")
    assert rows["records.export"]["details"]["from"] == today
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "live.play")) == 1

    # The region's regulator reads the same log; nobody else at the school, and no other school's principal.
    assert [row["id"] for row in _audit(client, as_user, "demo-regulator").json] == [row["id"] for row in log.json]
    for openid in ("demo-staff-1", "demo-manager-1", "demo-committee-1", "demo-parent-1", "demo-principal-2"):
        response = _audit(client, as_user, openid)
        assert response.status_code == 403, openid
    other = _audit(client, as_user, "demo-principal-2", school_id=2)
    assert other.status_code == 200
    assert not {row["id"] for row in other.json} & {row["id"] for row in log.json}
    assert client.get("/api/v1/schools/1/audit").status_code == 401


def test_the_log_says_who_did_what_in_words_and_filters_by_category(client, as_user, demo):
    camera_id = _public_camera(1)
    set_live_windows(1, ALL_DAY)
    mark_live(camera_id, utcnow())
    parent = _user_id("demo-parent-1")
    db.session.get(User, parent).nickname = "小明妈妈"
    db.session.commit()
    assert client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user("demo-parent-1")).status_code == 200
    invite = client.post("/api/v1/schools/1/invites", headers=as_user("demo-principal-1"),
                         json={"role": "parent", "max_uses": 30})
    assert invite.status_code == 201, invite.json
    today = utcnow().date().isoformat()
    assert client.get("/api/v1/canteens/1/records/export", headers=as_user("demo-regulator"),
                      query_string={"from": today, "to": today}).status_code == 200

    rows = _audit(client, as_user, "demo-principal-1").json
    seen = {row["action"]: row for row in rows}
    assert (seen["live.play"]["action_label"], seen["live.play"]["actor_name"], seen["live.play"]["actor_role_label"],
            seen["live.play"]["category"], seen["live.play"]["category_label"]) == (
        "观看直播", "小明妈妈", "家长", "viewing", "直播与录像")
    assert [seen[action]["action_label"] for action in ("invite.create", "records.export")] == ["创建邀请", "导出台账"]
    assert [seen[action]["actor_role_label"] for action in ("invite.create", "records.export")] == ["校长", "监管部门"]

    viewing = client.get("/api/v1/schools/1/audit", headers=as_user("demo-principal-1"),
                         query_string={"category": "viewing"}).json
    assert [row["action"] for row in viewing] == ["live.play"]
    refused = client.get("/api/v1/schools/1/audit", headers=as_user("demo-principal-1"),
                         query_string={"category": "everything"})
    assert refused.status_code == 422 and "category" in refused.json["error"]["details"]["fields"]


def test_an_action_the_log_cannot_name_is_refused_where_it_is_written(app):
    from backend.audit.services import record_audit

    with pytest.raises(ValueError):
        record_audit(None, "camera.melted")
    db.session.rollback()


def test_every_audit_call_names_an_audit_action_and_every_action_a_category():
    """The code passes ``AuditAction`` members (or a variable holding one), never a bare string, to the functions
    that write the log; each action's prefix has its category, so the log's filter reaches every row; and what a
    row is done to has its words: the targets the code names, and the objects the school's setup functions audit
    under their action's prefix."""
    # Where each writing function takes the action: record_audit everywhere, and the wrappers of two modules.
    action_arg = {(None, "record_audit"): 1, ("schools/services.py", "_save_changes"): 3,
                  ("schools/services.py", "_add"): 2, ("live/talk.py", "_audit"): 1}
    literal, targets = [], set()
    for path in Path("backend").rglob("*.py"):
        module = path.relative_to("backend").as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets |= {pair.elts[0].value for pair in _targets(tree)}
        for node in ast.walk(tree):
            name = getattr(getattr(node, "func", None), "id", None)
            index = action_arg.get((None, name), action_arg.get((module, name)))
            written = node.args[index] if isinstance(node, ast.Call) and index is not None and len(node.args) > index \
                else None
            if isinstance(written, (ast.Constant, ast.JoinedStr)):
                literal.append(f"{module}:{node.lineno}")
            if module == "schools/services.py" and name in ("_save_changes", "_add") and written is not None:
                targets.add(AuditAction[written.attr].prefix)
    assert literal == []
    assert all(action.prefix in PREFIX_CATEGORIES for action in AuditAction)
    assert {category for category in PREFIX_CATEGORIES.values()} == set(AuditCategory)
    assert {"camera", "canteen", "area", "school", "class", "invite", "user"} <= targets
    assert targets <= set(TARGET_LABELS), targets - set(TARGET_LABELS)


def _targets(tree: ast.AST) -> list[ast.Tuple]:
    """The audit targets a module writes: ``target=(...)`` in a call, or a tuple (or either branch of a conditional
    of tuples) assigned to a name ``target``."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "target":
            found.append(node.value)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "target" for t in node.targets):
            found += [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
    return [pair for pair in found
            if isinstance(pair, ast.Tuple) and pair.elts and isinstance(pair.elts[0], ast.Constant)]
