"""Adapters that run other features' periodic work from the one schedule.

Each imports its feature lazily, so a feature that is absent or broken fails only its own job run (the
error is kept in ``job_run.error``) and never the scheduler.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from backend.timeutil import SHANGHAI, as_utc


def record_rules(scheduled_for: datetime) -> dict[str, Any]:
    """Record-compliance rules (留样, 消毒, 证照, 晨检, 健康证) for today and yesterday in Shanghai, as of the fire
    time."""
    from backend.records.compliance_rules import run_record_rules

    now = as_utc(scheduled_for)
    today = now.astimezone(SHANGHAI).date()
    raised = run_record_rules(today - timedelta(days=1), now) + run_record_rules(today, now)
    return {"violations": len(raised), "created": sum(1 for r in raised if r.created)}


def unreported_summary(scheduled_for: datetime) -> dict[str, Any]:
    """The day's 未报送 summary (canteens missing a required record) to each region's regulators' inbox."""
    from backend.records.completeness import send_unreported_summaries

    now = as_utc(scheduled_for)
    return send_unreported_summaries(now.astimezone(SHANGHAI).date(), now)


def dispatch_notices() -> dict[str, Any]:
    """Send the notice outbox rows that are due."""
    from backend.notices.dispatcher import dispatch_due

    return dict(dispatch_due().as_dict())


def dispatch_channels() -> dict[str, Any]:
    """Send the SMS and WeCom robot deliveries that are due."""
    from backend.notices.channel_dispatcher import dispatch_channels as dispatch

    return dispatch().as_dict()


def escalate_violations(scheduled_for: datetime) -> dict[str, Any]:
    """Escalate violations that are past their due time."""
    from backend.violations.escalation import escalate_overdue

    return {"escalated": escalate_overdue(as_utc(scheduled_for))}


def raise_false_alarm_thresholds(scheduled_for: datetime) -> dict[str, Any]:
    """Raise the confidence threshold of each camera's kind whose reviewed alarms are mostly false positives."""
    from flask import current_app

    from backend.monitoring.false_alarms import Policy, apply_false_alarm_limits

    return apply_false_alarm_limits(as_utc(scheduled_for), Policy.from_config(current_app.config))
def compute_risk_warnings(scheduled_for: datetime) -> dict[str, Any]:
    """Early warnings: raised once per fact and episode, refreshed while they hold, resolved when they clear."""
    from backend.risk.early_warning import compute_warnings

    return compute_warnings(as_utc(scheduled_for))


def risk_warnings_summary(scheduled_for: datetime) -> dict[str, Any]:
    """Each region's open early warnings to its regulators' inbox (once per region, week and regulator)."""
    from backend.risk.warning_list import send_weekly_summaries

    return send_weekly_summaries(as_utc(scheduled_for))


def purge_recordings(scheduled_for: datetime) -> dict[str, Any]:
    """Delete live-view recordings older than the retention period."""
    from backend.live.jobs import purge_recordings as purge

    return {"removed": purge(as_utc(scheduled_for))}


def purge_live_clips(scheduled_for: datetime) -> dict[str, Any]:
    """Delete the MP4 clips cut from recordings once LIVE_CLIP_RETENTION_DAYS have passed (audited)."""
    from backend.live.jobs import purge_clips

    return {"removed": purge_clips(as_utc(scheduled_for))}


def ingest_recordings(scheduled_for: datetime) -> dict[str, Any]:
    """Move the media server's finished recording segments into the object store and index them."""
    from backend.live.jobs import ingest_recordings as ingest

    return dataclasses.asdict(ingest(as_utc(scheduled_for)))


def close_idle_live_sessions(scheduled_for: datetime) -> dict[str, Any]:
    """Close live view sessions the media server stopped reporting on."""
    from backend.live.jobs import close_idle_sessions

    return {"closed": close_idle_sessions(as_utc(scheduled_for))}


def issue_risk_cards(scheduled_for: datetime) -> dict[str, Any]:
    """Yellow and red cards earned by overdue class-1 and class-2 problems (idempotent per card)."""
    from backend.risk.cards import issue_cards

    return issue_cards(as_utc(scheduled_for))


def compute_risk_index(scheduled_for: datetime) -> dict[str, Any]:
    """The food-safety index: yesterday's (and any missing) daily facts, then the month's index (stored)."""
    from backend.risk.index import fill_daily_facts, refresh

    now = as_utc(scheduled_for)
    days = fill_daily_facts(now)
    return {"fact_days": len(days), **refresh(now)}


def raise_camera_outages(scheduled_for: datetime) -> dict[str, Any]:
    """Kitchen cameras offline in meal hours: one class-1 violation per outage."""
    from backend.risk.camera_outages import raise_meal_outages

    raised = raise_meal_outages(as_utc(scheduled_for))
    return {"violations": len(raised), "created": sum(1 for r in raised if r.created)}
