"""The channel dispatcher against the SMS and WeCom fakes on a fixed clock: the APIs' error codes and outages
sort into sent, retried with backoff, failed or unknown; retries are bounded; a resend after a lost answer is
counted as a possible duplicate; robots are paced to 20 messages a minute; SMS without an account waits."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
import time_machine

from backend.extensions import db
from backend.notices.channel_dispatcher import ChannelReport, _claim, dispatch_channels
from backend.notices.channels import MAX_CHANNEL_ATTEMPTS
from backend.notices.lease import backoff_seconds
from backend.notices.models import ChannelAttempt, ChannelDelivery, NoticeRobot
from backend.violations.services import raise_violation
from tests.notices import channel_fixtures
from tests.notices.channel_fixtures import COUNTY_KEY, MONDAY_10, SCHOOL_KEY, add_robot, choose, deliveries

app_config, sms_fake, robot_fake = channel_fixtures.app_config, channel_fixtures.sms_fake, channel_fixtures.robot_fake


@pytest.fixture(autouse=True)
def frozen():
    """Every test runs at 10:00 on Monday 30 November 2026 in Shanghai, the clock standing still."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


def _sms(key: str, title: str | None = None) -> ChannelDelivery:
    """A class-1 problem whose notice reaches the canteen manager by SMS; its delivery."""
    choose("demo-manager-1", phone="13800138000")
    violation = raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key=key,
                                occurred_at=MONDAY_10, title=title).violation
    return next(d for d in deliveries(channel="sms") if d.subject_id == violation.id)


def _robot(key: str, robot_key: str = SCHOOL_KEY) -> ChannelDelivery:
    violation = raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key=key,
                                occurred_at=MONDAY_10).violation
    return next(d for d in deliveries(channel="wecom") if d.subject_id == violation.id)


def _attempts(delivery_id: int) -> list[tuple[str, str | None]]:
    return [(a.outcome, a.code) for a in db.session.scalars(
        sa.select(ChannelAttempt).where(ChannelAttempt.delivery_id == delivery_id).order_by(ChannelAttempt.number))]


def _reload(delivery: ChannelDelivery) -> ChannelDelivery:
    db.session.expire_all()
    return db.session.get(ChannelDelivery, delivery.id)


def test_an_sms_the_api_accepts_is_sent_once_with_its_serial_number(app, kitchen, sms_fake):
    delivery = _sms("ok")
    assert dispatch_channels(MONDAY_10).sent == 1
    delivery = _reload(delivery)
    assert (delivery.status, delivery.attempts, delivery.possible_duplicates) == ("sent", 1, 0)
    assert delivery.external_id == sms_fake.messages[0]["serial"]
    assert sms_fake.messages[0]["session"] == f"d{delivery.id}"
    assert dispatch_channels(MONDAY_10 + timedelta(hours=1)).claimed == 0  # settled: never sent again
    assert sms_fake.sent_to("13800138000") == 1


def test_permanent_sms_refusals_fail_at_once(app, kitchen, sms_fake):
    sensitive = _sms("words", title="后厨疑似赌博")
    dispatch_channels(MONDAY_10)
    assert (_reload(sensitive).status, _attempts(sensitive.id)) == (
        "failed", [("failed", "FailedOperation.ContainSensitiveWord")])
    sms_fake.daily_limit = 1
    first, second = _sms("first"), _sms("second")
    dispatch_channels(MONDAY_10)
    assert (_reload(first).status, _reload(second).status) == ("sent", "failed")
    assert _attempts(second.id) == [("failed", "LimitExceeded.PhoneNumberDailyLimit")]
    sms_fake.account.secret_key = "rotated-in-the-console"  # our SecretKey no longer signs correctly
    signed = _sms("signature")
    dispatch_channels(MONDAY_10)
    assert _attempts(signed.id) == [("failed", "AuthFailure.SignatureFailure")]
    assert "RequestId" in _reload(signed).last_error


def test_a_transient_sms_error_is_retried_after_its_backoff(app, kitchen, sms_fake):
    delivery = _sms("transient")
    sms_fake.inject_error("InternalError.Timeout")
    report = dispatch_channels(MONDAY_10)
    assert (report.retried, report.sent) == (1, 0)
    delivery = _reload(delivery)
    wait = backoff_seconds(1, delivery.id)
    assert 30 <= wait < 36
    assert (delivery.status, delivery.next_attempt_at) == ("pending", MONDAY_10 + timedelta(seconds=wait))
    assert dispatch_channels(MONDAY_10 + timedelta(seconds=wait - 1)).claimed == 0
    assert dispatch_channels(MONDAY_10 + timedelta(seconds=wait)).sent == 1
    assert _attempts(delivery.id) == [("retry", "InternalError.Timeout"), ("sent", "Ok")]
    assert (_reload(delivery).possible_duplicates, sms_fake.sent_to("13800138000")) == (0, 1)


def test_a_refused_connection_is_retried_without_counting_a_duplicate(app, kitchen, sms_fake):
    delivery = _sms("refused")
    sms_fake.stop()
    assert dispatch_channels(MONDAY_10).retried == 1
    assert _attempts(delivery.id)[0][0] == "retry"
    sms_fake.start()  # the same port again
    assert dispatch_channels(_reload(delivery).next_attempt_at).sent == 1
    assert (_reload(delivery).possible_duplicates, sms_fake.sent_to("13800138000")) == (0, 1)


@pytest.mark.parametrize("outage", ["http_502", "timeout", "dropped"])
def test_a_lost_answer_is_resent_and_counted_as_a_possible_duplicate(app, kitchen, sms_fake, outage):
    delivery = _sms(outage)
    if outage == "http_502":
        sms_fake.inject_http_status(502)
    elif outage == "timeout":
        sms_fake.inject_delay(1.5)  # the client gives up after CHANNEL_TIMEOUT_SECONDS=1
    else:
        sms_fake.inject_dropped_reply()
    assert dispatch_channels(MONDAY_10).unknown == 1
    assert _attempts(delivery.id)[0][0] == "unknown"
    assert dispatch_channels(_reload(delivery).next_attempt_at).sent == 1
    delivery = _reload(delivery)
    assert (delivery.status, delivery.possible_duplicates) == ("sent", 1)
    # The count is honest: a 502 delivered nothing, a late or dropped answer came after the message was sent.
    assert sms_fake.sent_to("13800138000") == (1 if outage == "http_502" else 2)


def test_a_lost_answer_is_counted_once_however_often_its_resend_is_interrupted(app, kitchen, sms_fake, frozen):
    # The first send's answer is lost (it arrived); the resend's dispatcher dies after claiming, before its request
    # left; the next one sends. One message may be a duplicate, and it is counted once, not at every claim.
    delivery = _sms("counted-once")
    sms_fake.inject_dropped_reply()
    assert dispatch_channels(MONDAY_10).unknown == 1
    retry_at = _reload(delivery).next_attempt_at
    with db.engine.begin() as conn:  # a dispatcher claims the resend and is killed before it starts
        jobs = _claim(conn, retry_at, 10, "dead-dispatcher", retry_at + timedelta(seconds=30), True, ChannelReport())
    assert [job.delivery_id for job in jobs] == [delivery.id] and jobs[0].earlier_unknown
    frozen.move_to(retry_at + timedelta(seconds=31))
    assert dispatch_channels().sent == 1
    delivery = _reload(delivery)
    assert [outcome for outcome, _ in _attempts(delivery.id)] == ["unknown", "interrupted", "sent"]
    assert sms_fake.sent_to("13800138000") == 2
    assert (delivery.status, delivery.possible_duplicates) == ("sent", 1)


def test_retries_are_bounded_with_growing_backoff(app, kitchen, sms_fake):
    refused = _sms("refused")
    sms_fake.stop()
    at = MONDAY_10
    waits = []
    for _ in range(MAX_CHANNEL_ATTEMPTS):
        dispatch_channels(at)
        delivery = _reload(refused)
        if delivery.status != "pending":
            break
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
    assert (_reload(refused).status, _reload(refused).attempts) == ("failed", MAX_CHANNEL_ATTEMPTS)
    assert [w.total_seconds() for w in waits] == [backoff_seconds(n, refused.id) for n in range(1, 6)]
    assert all(b > a for a, b in pairwise(waits))
    assert dispatch_channels(at + timedelta(days=1)).claimed == 0  # failed is final
    # Always a lost answer: the budget runs out, and the delivery ends unconfirmed (it may have arrived).
    sms_fake.start()
    lost = _sms("lost")
    sms_fake.inject_http_status(502, times=None)
    at = MONDAY_10 + timedelta(days=2)
    for _ in range(MAX_CHANNEL_ATTEMPTS):
        dispatch_channels(at)
        at = max(at, _reload(lost).next_attempt_at)
    lost = _reload(lost)
    assert (lost.status, lost.attempts, lost.possible_duplicates) == ("unconfirmed", MAX_CHANNEL_ATTEMPTS,
                                                                      MAX_CHANNEL_ATTEMPTS - 1)


def test_robot_error_codes_and_outages(app, kitchen, robot_fake):
    robot_id = add_robot(SCHOOL_KEY, school_id=1)
    robot_fake.remove_key(SCHOOL_KEY)  # the robot was removed from its group
    gone = _robot("gone")
    dispatch_channels(MONDAY_10)
    assert _reload(gone).status == "failed" and _attempts(gone.id) == [("failed", "93000")]
    robot_fake.add_key(SCHOOL_KEY)
    limited = _robot("limited")
    robot_fake.inject_error(45009)
    dispatch_channels(MONDAY_10)
    assert _attempts(limited.id) == [("retry", "45009")]
    assert _reload(limited).next_attempt_at == MONDAY_10 + timedelta(seconds=60)  # a minute at least
    robot_fake.inject_http_status(503)
    dispatch_channels(MONDAY_10 + timedelta(seconds=60))
    assert _attempts(limited.id)[-1] == ("unknown", "http_503")
    dispatch_channels(_reload(limited).next_attempt_at)
    assert (_reload(limited).status, _reload(limited).possible_duplicates) == ("sent", 1)
    assert robot_fake.received() == {SCHOOL_KEY: 1}
    # A robot switched off: what it still had to post is failed, not sent.
    pending = _robot("switched-off")
    db.session.get(NoticeRobot, robot_id).enabled = False
    db.session.commit()
    dispatch_channels(MONDAY_10 + timedelta(hours=1))
    assert _reload(pending).status == "failed" and _reload(pending).last_error.startswith("robot_disabled")
    assert robot_fake.received() == {SCHOOL_KEY: 1}


def test_a_robot_is_never_sent_more_than_20_messages_a_minute(app, kitchen, robot_fake, frozen):
    add_robot(SCHOOL_KEY, school_id=1)
    add_robot(COUNTY_KEY, region_id=3)
    for n in range(25):
        _robot(f"burst-{n}")
    report = dispatch_channels(MONDAY_10, limit=100)
    assert (report.sent, report.paced) == (40, 10)
    assert robot_fake.received() == {SCHOOL_KEY: 20, COUNTY_KEY: 20}
    assert dispatch_channels(MONDAY_10 + timedelta(seconds=59), limit=100).claimed == 0
    frozen.move_to(MONDAY_10 + timedelta(seconds=60))  # WeCom's own minute (the fake's clock) moves on too
    assert dispatch_channels(MONDAY_10 + timedelta(seconds=60), limit=100).sent == 10
    assert robot_fake.received() == {SCHOOL_KEY: 25, COUNTY_KEY: 25}
    assert not [c for c in robot_fake.calls if b"45009" in c["body"]]
    assert {d.status for d in deliveries(channel="wecom")} == {"sent"}


def test_sms_waits_while_no_account_is_configured(app, kitchen, sms_fake):
    delivery = _sms("unconfigured")
    secret = app.config["TENCENT_SMS_SECRET_ID"]
    app.config["TENCENT_SMS_SECRET_ID"] = None
    assert dispatch_channels(MONDAY_10).claimed == 0
    assert (_reload(delivery).status, _reload(delivery).attempts) == ("pending", 0)
    app.config["TENCENT_SMS_SECRET_ID"] = secret
    assert dispatch_channels(MONDAY_10 + timedelta(days=1)).sent == 1


def test_old_channel_attempts_go_with_the_notice_logs_except_those_still_needed(app, kitchen, sms_fake):
    from backend.notices.retention import purge_notice_logs

    sent, refused, waiting = _sms("sent"), _sms("refused", title="后厨疑似赌博"), _sms("waiting")
    sms_fake.inject_error("InternalError.Timeout", times=1)  # the first send (sent) is retried, then goes
    dispatch_channels(MONDAY_10)
    dispatch_channels(MONDAY_10 + timedelta(minutes=5))
    db.session.execute(sa.update(ChannelDelivery).where(ChannelDelivery.id == waiting.id)
                       .values(status="pending", next_attempt_at=MONDAY_10 + timedelta(days=365)))
    db.session.commit()
    assert (_reload(sent).status, _reload(refused).status) == ("sent", "failed")
    report = purge_notice_logs(MONDAY_10 + timedelta(days=200), days=180)
    # The sent delivery's two attempts go; the failed one's latest stays to explain it; a pending one keeps all.
    assert report.channel_attempts == 2
    assert _attempts(sent.id) == []
    assert _attempts(refused.id) == [("failed", "FailedOperation.ContainSensitiveWord")]
    assert len(_attempts(waiting.id)) == 1
    assert purge_notice_logs(MONDAY_10 + timedelta(days=200), days=180).channel_attempts == 0
