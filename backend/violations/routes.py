"""HTTP routes of violations: lists and details, reports and photos, rectification and review, figures,
the parents' transparency page and the school's notice settings."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apiflask import APIBlueprint
from flask import current_app, request
from marshmallow import Schema
from sqlalchemy.orm import selectinload

from backend.errors import ApiError
from backend.extensions import db
from backend.files import read_upload
from backend.integrations.wechat_app import wechat_gateway
from backend.notices import services as notice_services
from backend.permissions import Action, Principal, current_principal, current_school, rule, sees_only_public
from backend.timeutil import utcnow
from backend.violations import lifecycle, overview, reports, schemas, stats, stats_export, views
from backend.violations.models import Violation
from backend.violations.photos import store_photo
from backend.violations.stats_cache import app_cache
from backend.xlsx import XLSX_RESPONSES, workbook_response

bp = APIBlueprint("violations", __name__, tag="问题与整改")

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")


def _violation(violation_id: int) -> Violation:
    return db.session.get(Violation, violation_id, options=[selectinload(Violation.events),
                                                            selectinload(Violation.rectifications)])


def _detail(violation_id: int) -> dict[str, Any]:
    db.session.expire_all()
    return views.detail(_violation(violation_id), current_principal(), utcnow())


@bp.get("/schools/<id:school_id>/violations")
@rule(Action.VIOLATION_READ, scope="school")
@bp.input(schemas.ViolationQuery, location="query", arg_name="query")
@bp.output(schemas.ViolationOut(many=True), headers=schemas.TotalHeader)
def list_violations(school_id: int, query: dict[str, Any]) -> Any:
    """A school's violations, newest first (filters: status, kind, source, overdue, state, from/to)."""
    public_only = sees_only_public(current_principal(), current_school())
    now = utcnow()
    return _page(*views.list_violations(school_id, now=now, public_only=public_only, **query), now)


@bp.get("/regions/<id:region_id>/violations")
@rule(Action.INSPECT, scope="region")  # region-wide lists are regulators' work (school roles have no region)
@bp.input(schemas.RegionViolationQuery, location="query", arg_name="query")
@bp.output(schemas.ViolationOut(many=True), headers=schemas.TotalHeader)
def list_region_violations(region_id: int, query: dict[str, Any]) -> Any:
    """A region's violations for its regulators, newest first (``escalated=true``: their review queue)."""
    region = current_school()  # for a region-scoped rule, the region it resolved
    now = utcnow()
    return _page(*views.list_violations(region_path=region.path, now=now, **query), now)


def _page(rows: list[Violation], total: int, now: datetime) -> Any:
    """A page of list rows, with how many match in all in ``X-Total-Count``."""
    return views.summaries(rows, now), 200, {"X-Total-Count": str(total)}


@bp.post("/schools/<id:school_id>/violations")
@rule(Action.VIOLATION_REPORT, scope="school")
@bp.input(schemas.ReportIn, arg_name="body")
@bp.output(schemas.ViolationOut, status_code=201)
def report(school_id: int, body: dict[str, Any]) -> Any:
    """Report a problem (source ``report``); send an ``Idempotency-Key`` header so a retry is not a second report."""
    key = request.headers.get("Idempotency-Key") or ""
    if key and not IDEMPOTENCY_KEY.match(key):
        raise ApiError(422, "idempotency_key_invalid", "Idempotency-Key 格式不正确（8-64 位字母数字）")
    violation, created = reports.report_violation(
        current_principal(), current_school(), client_key=key or utcnow().isoformat(), gateway=wechat_gateway(),
        **body)
    return views.summary(violation, utcnow(), current_school().name), 201 if created else 200


@bp.post("/schools/<id:school_id>/violation-photos")
@rule(Action.VIOLATION_REPORT, scope="school")
@bp.input(schemas.PhotoIn, location="files", arg_name="body")
@bp.output(schemas.PhotoOut, status_code=201)
def upload_photo(school_id: int, body: dict[str, Any]) -> Any:
    """Upload a photo for a report or a rectification (JPEG, PNG or WebP, judged by content)."""
    return store_photo(current_principal(), current_school(), read_upload(body["file"]), public_base=request.url_root)


@bp.get("/me/reports")
@rule(Action.AUTHENTICATED)  # only the caller's own reports, in the schools where they are still a member
@bp.input(schemas.PageByIdQuery, location="query", arg_name="query")
@bp.output(schemas.MyReportOut(many=True))
def my_reports(query: dict[str, Any]) -> Any:
    """The problems I reported and where each stands: status, rectification, timeline (what a reporter may see)."""
    return views.my_reports(current_principal(), before_id=query["before_id"], limit=query["limit"])


@bp.get("/violations/<id:violation_id>")
@rule(Action.VIOLATION_READ, scope="violation")
@bp.output(schemas.ViolationDetailOut)
def get_violation(violation_id: int) -> Any:
    """One violation with evidence (as the reader may see it), timeline and rectifications."""
    return views.detail(_violation(violation_id), current_principal(), utcnow())


def _transition(path: str, action: Action, body_schema: type[Schema], status_code: int = 200
                ) -> Callable[[Callable[[Violation, dict[str, Any]], None]], Any]:
    """Declare a lifecycle step of one violation: ``POST path`` under ``action`` on the violation's school, the body
    checked by ``body_schema``, the answer the violation's detail as the caller sees it after the step.

    The function decorated performs the step on the violation with the body (its docstring documents the route).
    """
    def declare(step: Callable[[Violation, dict[str, Any]], None]) -> Any:
        @functools.wraps(step)
        def view(violation_id: int, body: dict[str, Any]) -> Any:
            step(_violation(violation_id), body)
            return _detail(violation_id)

        view = bp.output(schemas.ViolationDetailOut, status_code=status_code)(view)
        view = bp.input(body_schema, arg_name="body")(view)
        return bp.post(path)(rule(action, scope="violation")(view))

    return declare


@_transition("/violations/<id:violation_id>/start", Action.VIOLATION_RECTIFY, schemas.StartIn)
def start(violation: Violation, body: dict[str, Any]) -> None:
    """The canteen takes the problem on (or again after a rejection)."""
    lifecycle.start_rectification(current_principal(), violation, body.get("note"))


@_transition("/violations/<id:violation_id>/rectifications", Action.VIOLATION_RECTIFY, schemas.RectificationIn,
             status_code=201)
def submit(violation: Violation, body: dict[str, Any]) -> None:
    """Submit the measures taken and photos; the reviewer is notified."""
    lifecycle.submit_rectification(current_principal(), violation, body["measures"], body["photos"])


@_transition("/violations/<id:violation_id>/review", Action.VIOLATION_REVIEW, schemas.ReviewIn)
def review(violation: Violation, body: dict[str, Any]) -> None:
    """Accept (close) or reject (with a reason) the submitted rectification."""
    lifecycle.review_rectification(current_principal(), violation, body["approve"], body.get("reason"))


@_transition("/violations/<id:violation_id>/dismiss", Action.VIOLATION_REVIEW, schemas.DismissIn)
def dismiss(violation: Violation, body: dict[str, Any]) -> None:
    """Withdraw a false alarm, with the reason on record."""
    lifecycle.dismiss_violation(current_principal(), violation, body["reason"])


@_transition("/violations/<id:violation_id>/escalate", Action.VIOLATION_REVIEW, schemas.EscalateIn)
def escalate(violation: Violation, body: dict[str, Any]) -> None:
    """The principal hands the problem to the region's regulators (上报监管部门), who review it from then on."""
    lifecycle.escalate_violation(current_principal(), violation, body["reason"])


def _overview(principal: Principal, query: dict[str, Any]) -> dict[str, Any]:
    """The 总览 of a stats query (``StatsQuery``): its scope, checked against the caller, over its period."""
    now = utcnow()
    scope = stats.resolve_scope(principal, query["school_id"], query["region_id"])
    first, last = stats.period_bounds(query["date_from"], query["date_to"], now)
    return overview.overview(principal, scope, first, last, now, app_cache(current_app))


@bp.get("/stats")
@rule(Action.AUTHENTICATED)  # the scope (school or region) is checked by stats.resolve_scope
@bp.input(schemas.StatsQuery, location="query", arg_name="query")
@bp.output(schemas.StatsOut)
def get_stats(query: dict[str, Any]) -> Any:
    """Found, rectified, in progress and overdue, by kind and source, rate, median time, daily and weekly trend,
    the school ranking, the drill-down's children, the camera online rate and the breadcrumbs."""
    return _overview(current_principal(), query)


@bp.get("/stats/export")
@rule(Action.AUTHENTICATED)  # the scope (school or region) is checked by stats.resolve_scope
@bp.input(schemas.StatsQuery, location="query", arg_name="query")
@bp.doc(responses=XLSX_RESPONSES)
def export_stats(query: dict[str, Any]) -> Any:
    """What the 总览 shows for the same scope and period, as an Excel workbook (audited)."""
    principal = current_principal()
    name, data = stats_export.export_overview(principal, _overview(principal, query))
    return workbook_response(data, "stats.xlsx", name)


@bp.get("/schools/<id:school_id>/transparency")
@rule(Action.VIOLATION_PUBLIC, scope="school")
@bp.input(schemas.TransparencyQuery, location="query", arg_name="query")
@bp.output(schemas.TransparencyOut)
def transparency(school_id: int, query: dict[str, Any]) -> Any:
    """The parents' page: this period's figures and the timeline of closed violations (parent-safe evidence)."""
    now = utcnow()
    first, last = stats.period_bounds(query["date_from"], query["date_to"], now)
    return views.transparency(current_school(), first, last, now, before_id=query["before_id"],
                              limit=query["limit"])


@bp.get("/schools/<id:school_id>/notice-settings")
@rule(Action.NOTICE_SETTINGS, scope="school")
@bp.output(schemas.NoticeSettingsOut)
def get_notice_settings(school_id: int) -> Any:
    """Which violation kinds the school publishes to its parents' committee."""
    return notice_services.notice_settings(current_school())


@bp.put("/schools/<id:school_id>/notice-settings")
@rule(Action.NOTICE_SETTINGS, scope="school")
@bp.input(schemas.NoticeSettingsIn, arg_name="body")
@bp.output(schemas.NoticeSettingsOut)
def put_notice_settings(school_id: int, body: dict[str, Any]) -> Any:
    """Choose the published violation kinds."""
    return notice_services.update_notice_settings(current_principal(), current_school(), body["published_kinds"])
