"""The media server's hooks: only the media server may call them; they allow with 2xx and refuse with 403."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.integrations import media
from backend.live.gateway import ROUTES
from backend.live.models import CameraStream, RecordingSegment, ViewSession
from tests.conftest import using_postgresql
from tests.live.conftest import ALL_DAY, HOOK_SECRET, mark_all_live, mark_live, set_live_windows


@pytest.fixture
def live(demo, clock, camera_ids):
    set_live_windows(1, ALL_DAY)
    set_live_windows(2, ALL_DAY)
    return mark_all_live(camera_ids, clock.now)


def _token(client, as_user, openid, camera_id):
    response = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user(openid))
    assert response.status_code == 200, response.json
    return parse_qs(urlsplit(response.json["rtmp_url"]).query)["token"][0]


def _signed(app, camera_id, *, user_id=1, school_id=1, expires, kind=media.TokenKind.PLAY, privileged=False):
    key = media.derive_key(app.config["SECRET_KEY"])
    return media.issue_token(key, kind, user_id=user_id, camera_id=camera_id, school_id=school_id,
                             privileged=privileged, expires=expires).token


def _refusal(response):
    assert response.status_code == 403, response.get_data(as_text=True)
    return response.json["error"]["details"].get("reason", response.json["error"]["code"])


def _sessions():
    db.session.rollback()
    return db.session.scalars(sa.select(ViewSession).order_by(ViewSession.id)).all()


# --- who may call ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(ROUTES))
def test_without_the_secret_every_hook_is_refused(client, demo, path):
    for query in ("", "?secret=wrong", f"?secret={HOOK_SECRET[:-1]}"):
        response = client.post(f"/internal/media/{path}{query}", data={"call": "play", "name": "cam-1"}) \
            if "POST" in ROUTES[path][0] else client.get(f"/internal/media/{path}{query}")
        assert response.status_code == 403
        assert response.json["error"]["code"] == "media_hook_unauthorized"


def test_the_secret_may_come_as_a_header(client, live):
    response = client.post("/internal/media/on_done", headers={"X-Media-Hook-Secret": HOOK_SECRET},
                           data={"call": "done", "app": "live", "name": "cam-1", "clientid": "5"})
    assert response.status_code == 200


def test_loopback_is_trusted_only_when_configured(client, live, app):
    data = {"call": "done", "app": "live", "name": "cam-1", "clientid": "5"}
    assert client.post("/internal/media/on_done", data=data).status_code == 403
    from backend.live.settings import live_settings

    object.__setattr__(live_settings(), "trust_loopback", True)
    assert client.post("/internal/media/on_done", data=data).status_code == 200
    assert client.post("/internal/media/on_done", data=data,
                       environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 403


def test_a_hook_given_the_wrong_call_is_a_bad_request(hook, live):
    response = hook("on_play", call="publish", name="cam-1")
    assert (response.status_code, response.json["error"]["code"]) == (400, "bad_hook_payload")
    assert hook("on_play", call="connect", name="cam-1").status_code == 400


# --- publishers -----------------------------------------------------------------------------------------------

def _set_key(camera_id, key):
    stream = db.session.get(CameraStream, camera_id) or CameraStream(camera_id=camera_id, publishing=False)
    stream.publish_key_hash = media.hash_publish_key(key)
    db.session.add(stream)
    db.session.commit()


def test_a_camera_publishes_only_with_its_own_key(hook, demo, clock, camera_ids):
    camera = camera_ids["public"]
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key="anything")) == "bad_publish_key"
    _set_key(camera, "right-key-of-camera")
    _set_key(camera_ids["other"], "key-of-another-camera")
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key="wrong")) == "bad_publish_key"
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}")) == "bad_publish_key"
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}",
                         key="key-of-another-camera")) == "bad_publish_key"
    assert _refusal(hook("on_publish", call="publish", name="kitchen", key="right-key-of-camera")) == "unknown_stream"
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key="right-key-of-camera",
                         app="vod")) == "unknown_app"
    assert _refusal(hook("on_publish", call="publish", name="cam-999", key="right-key-of-camera")) == \
        "unknown_or_disabled_camera"
    assert db.session.get(CameraStream, camera).publishing is False
    response = hook("on_publish", call="publish", name=f"cam-{camera}", key="right-key-of-camera", clientid="7",
                    addr="10.1.1.5")
    assert response.status_code == 200
    db.session.expire_all()
    stream = db.session.get(CameraStream, camera)
    assert (stream.publishing, stream.publisher_client_id, stream.publisher_addr, stream.publisher_kind) == (
        True, "7", "10.1.1.5", "key")
    assert stream.live_since == clock.now


def test_a_disabled_camera_cannot_publish(hook, demo, camera_ids):
    from backend.schools.models import Camera

    _set_key(camera_ids["public"], "k" * 20)
    db.session.get(Camera, camera_ids["public"]).enabled = False
    db.session.commit()
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera_ids['public']}", key="k" * 20)) == \
        "unknown_or_disabled_camera"


def test_publish_done_ends_the_live_state_only_for_the_live_publisher(hook, demo, clock, camera_ids):
    from backend.live.state import stream_states

    camera = camera_ids["public"]
    _set_key(camera, "right-key-of-camera")
    assert hook("on_publish", call="publish", name=f"cam-{camera}", key="right-key-of-camera",
                clientid="7").status_code == 200
    assert stream_states([camera], clock.now)[camera].live is True
    # A second publisher refused by nginx ("already publishing") later reports its end: nothing changes.
    assert hook("on_publish_done", call="publish_done", name=f"cam-{camera}", clientid="8").status_code == 200
    db.session.expire_all()
    assert stream_states([camera], clock.now)[camera].live is True
    assert hook("on_publish_done", call="publish_done", name=f"cam-{camera}", clientid="7").status_code == 200
    db.session.expire_all()
    state = stream_states([camera], clock.now)[camera]
    assert (state.live, state.stale, state.last_publish_done_at) == (False, False, clock.now)


def test_publisher_updates_keep_it_fresh_and_a_rotated_key_drops_it(hook, demo, clock, camera_ids, client, as_user):
    from backend.live.state import stream_states

    camera = camera_ids["public"]
    _set_key(camera, "old-key-of-camera")
    hook("on_publish", call="publish", name=f"cam-{camera}", key="old-key-of-camera", clientid="7")
    clock.now += timedelta(seconds=50)
    assert hook("on_update", call="update_publish", name=f"cam-{camera}", key="old-key-of-camera",
                clientid="7").status_code == 200
    clock.now += timedelta(seconds=50)
    db.session.expire_all()
    assert stream_states([camera], clock.now)[camera].live is True  # 50 s after the update
    clock.now += timedelta(seconds=11)
    state = stream_states([camera], clock.now)[camera]
    assert (state.live, state.stale) == (False, True)  # silent for 61 s: the media server is gone
    client.post(f"/api/v1/live/cameras/{camera}/publish-key", headers=as_user("demo-staff-1"))
    assert _refusal(hook("on_update", call="update_publish", name=f"cam-{camera}", key="old-key-of-camera",
                         clientid="7")) == "bad_publish_key"


def test_the_relay_publishes_with_a_server_signed_token(hook, app, demo, clock, camera_ids):
    camera = camera_ids["public"]
    now = int(clock.now.timestamp())
    relay = _signed(app, camera, kind=media.TokenKind.RELAY, expires=now + 60, privileged=True)
    assert hook("on_publish", call="publish", name=f"cam-{camera}", key=relay, clientid="3").status_code == 200
    db.session.expire_all()
    assert db.session.get(CameraStream, camera).publisher_kind == "relay"
    other = _signed(app, camera_ids["other"], kind=media.TokenKind.RELAY, expires=now + 60, privileged=True)
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key=other)) == "relay_token_other_camera"
    stale = _signed(app, camera, kind=media.TokenKind.RELAY, expires=now - 1, privileged=True)
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key=stale)) == "relay_token_expired"
    # A relay connected long ago keeps publishing: its token only had to be fresh when it connected.
    assert hook("on_update", call="update_publish", name=f"cam-{camera}", key=stale, clientid="3").status_code == 200
    play = _signed(app, camera, expires=now + 60)
    assert _refusal(hook("on_publish", call="publish", name=f"cam-{camera}", key=play)) == "relay_token_wrong_kind"


def test_a_reader_of_the_platform_plays_a_pushed_camera_with_a_sample_token(hook, app, demo, clock, camera_ids):
    """A detection worker or a snapshot (backend/live/services.py sample_source): no view session, no viewer cap;
    the token is checked when it connects and stays good for its connection's updates."""
    camera = camera_ids["public"]
    name = f"cam-{camera}"
    now = int(clock.now.timestamp())
    sample = _signed(app, camera, kind=media.TokenKind.SAMPLE, user_id=0, school_id=0, expires=now + 60,
                     privileged=True)
    assert hook("on_play", call="play", name=name, token=sample, clientid="31").status_code == 200
    assert hook("on_play", call="play", name=name, token=sample, clientid="32").status_code == 200  # a reconnect
    assert _sessions() == []
    clock.now += timedelta(seconds=600)
    assert hook("on_update", call="update_play", name=name, token=sample, clientid="31").status_code == 200
    assert hook("on_done", call="done", name=name, token=sample, clientid="31").status_code == 200
    assert _refusal(hook("on_play", call="play", name=name, token=sample)) == "sample_token_expired"
    fresh = int(clock.now.timestamp()) + 60
    other = _signed(app, camera_ids["other"], kind=media.TokenKind.SAMPLE, expires=fresh, privileged=True)
    assert _refusal(hook("on_play", call="play", name=name, token=other)) == "sample_token_other_camera"
    assert _refusal(hook("on_update", call="update_play", name=name, token=other)) == "sample_token_other_camera"
    good = _signed(app, camera, kind=media.TokenKind.SAMPLE, expires=fresh, privileged=True)
    assert _refusal(hook("on_play", call="play", name=name, token=good[:-3] + "abc")) == "sample_token_bad_signature"
    # A relay's token is no reader's, and a sample token publishes nothing.
    relay = _signed(app, camera, kind=media.TokenKind.RELAY, expires=fresh, privileged=True)
    assert _refusal(hook("on_play", call="play", name=name, token=relay)) == "token_wrong_kind"
    assert _refusal(hook("on_publish", call="publish", name=name, key=good)) == "relay_token_wrong_kind"
    assert _sessions() == []


# --- players (RTMP) ---------------------------------------------------------------------------------------------

def test_a_fresh_token_plays_once(hook, client, as_user, live, clock):
    token = _token(client, as_user, "demo-parent-1", live["public"])
    response = hook("on_play", call="play", name=f"cam-{live['public']}", token=token, clientid="11",
                    addr="36.1.2.3")
    assert response.status_code == 200
    [session] = _sessions()
    assert (session.camera_id, session.school_id, session.protocol, session.client_addr, session.media_client_id,
            session.privileged, session.closed_at) == (live["public"], 1, "rtmp", "36.1.2.3", "11", False, None)
    assert session.opened_at == clock.now
    # The same URL again (a second player, or a shared link): refused.
    assert _refusal(hook("on_play", call="play", name=f"cam-{live['public']}", token=token,
                         clientid="12")) == "session_reused"
    assert len(_sessions()) == 1


def test_expired_forged_and_misdirected_tokens_are_refused(hook, app, client, as_user, live, clock):
    camera = f"cam-{live['public']}"
    now = int(clock.now.timestamp())
    assert _refusal(hook("on_play", call="play", name=camera, token=_signed(app, live["public"], expires=now - 1))) \
        == "token_expired"
    token = _token(client, as_user, "demo-parent-1", live["public"])
    forged = token.replace(".0.", ".1.", 1)  # claim to be staff (no cap)
    assert _refusal(hook("on_play", call="play", name=camera, token=forged)) == "token_bad_signature"
    assert _refusal(hook("on_play", call="play", name=camera, token=token[:-3] + "abc")) == "token_bad_signature"
    assert _refusal(hook("on_play", call="play", name=camera)) == "token_malformed"
    # Another user's token for their own camera (school 2) presented on this school's stream.
    other = _token(client, as_user, "demo-parent-2", live["other"])
    assert _refusal(hook("on_play", call="play", name=camera, token=other)) == "token_other_camera"
    foreign = media.issue_token(media.derive_key("someone-elses-secret"), media.TokenKind.PLAY, user_id=1,
                                camera_id=live["public"], school_id=1, privileged=True, expires=now + 60).token
    assert _refusal(hook("on_play", call="play", name=camera, token=foreign)) == "token_bad_signature"
    assert _sessions() == []
    # After the refusals the genuine token still plays.
    assert hook("on_play", call="play", name=camera, token=token).status_code == 200


def test_the_token_must_be_used_within_its_lifetime(hook, client, as_user, live, clock):
    token = _token(client, as_user, "demo-parent-1", live["public"])
    clock.now += timedelta(seconds=61)
    assert _refusal(hook("on_play", call="play", name=f"cam-{live['public']}", token=token)) == "token_expired"


def test_closing_the_player_closes_its_session_and_only_its_own(hook, client, as_user, live, clock):
    camera = f"cam-{live['public']}"
    token = _token(client, as_user, "demo-parent-1", live["public"])
    hook("on_play", call="play", name=camera, token=token, clientid="21")
    # A refused replay of the same URL disconnects too: its on_done must not end the real viewer's session.
    hook("on_play", call="play", name=camera, token=token, clientid="22")
    assert hook("on_done", call="done", name=camera, token=token, clientid="22").status_code == 200
    assert _sessions()[0].closed_at is None
    clock.now += timedelta(seconds=30)
    assert hook("on_done", call="done", name=camera, token=token, clientid="21").status_code == 200
    [session] = _sessions()
    assert (session.closed_at, session.close_reason) == (clock.now, "player_closed")
    # A closed session cannot be reopened with its token.
    assert _refusal(hook("on_play", call="play", name=camera, token=token, clientid="23")) == "session_reused"
    # Publishers' on_done (no token) and garbage tokens are ignored.
    assert hook("on_done", call="done", name=camera, key="k", clientid="1").status_code == 200
    assert hook("on_done", call="done", name=camera, token="x" * 30, clientid="1").status_code == 200


def test_the_caps_hold_at_the_media_server_too(hook, app, client, as_user, live, clock):
    from backend.live.settings import live_settings

    object.__setattr__(live_settings(), "max_per_camera", 1)
    camera = f"cam-{live['public']}"
    first = _token(client, as_user, "demo-parent-1", live["public"])
    second = _token(client, as_user, "demo-committee-1", live["public"])  # issued while there was room
    staff = _token(client, as_user, "demo-staff-1", live["public"])
    assert hook("on_play", call="play", name=camera, token=first, clientid="1").status_code == 200
    assert _refusal(hook("on_play", call="play", name=camera, token=second, clientid="2")) == "session_full"
    assert hook("on_play", call="play", name=camera, token=staff, clientid="3").status_code == 200
    hook("on_done", call="done", name=camera, token=first, clientid="1")
    # Staff are never refused, but they do take a seat: the cap protects the media server's bandwidth.
    assert client.post(f"/api/v1/live/cameras/{live['public']}/play",
                       headers=as_user("demo-committee-1")).status_code == 429
    hook("on_done", call="done", name=camera, token=staff, clientid="3")
    third = _token(client, as_user, "demo-committee-1", live["public"])
    assert hook("on_play", call="play", name=camera, token=third, clientid="4").status_code == 200


def test_updates_cut_a_parent_off_when_the_window_closes(hook, client, as_user, live, clock):
    set_live_windows(1, [{"weekday": 0, "start": "09:00", "end": "10:30"}])
    camera = f"cam-{live['public']}"
    token = _token(client, as_user, "demo-parent-1", live["public"])
    staff = _token(client, as_user, "demo-staff-1", live["public"])
    hook("on_play", call="play", name=camera, token=token, clientid="31")
    hook("on_play", call="play", name=camera, token=staff, clientid="32")
    clock.now += timedelta(minutes=20)
    assert hook("on_update", call="update_play", name=camera, token=token, clientid="31").status_code == 200
    assert _sessions()[0].last_seen_at == clock.now
    clock.now += timedelta(minutes=15)  # 10:35: the window closed at 10:30
    assert _refusal(hook("on_update", call="update_play", name=camera, token=token, clientid="31")) == \
        "policy_live_window_closed"
    assert hook("on_update", call="update_play", name=camera, token=staff, clientid="32").status_code == 200
    parent, staff_session = _sessions()
    assert (parent.closed_at, parent.close_reason, staff_session.closed_at) == (clock.now, "policy", None)
    assert _refusal(hook("on_update", call="update_play", name=camera, token=token, clientid="31")) == \
        "session_not_open"


def test_updates_cut_off_a_revoked_binding(hook, client, as_user, live):
    from backend.accounts.models import Membership, User

    camera = f"cam-{live['public']}"
    token = _token(client, as_user, "demo-parent-1", live["public"])
    hook("on_play", call="play", name=camera, token=token, clientid="41")
    user = db.session.scalar(sa.select(User).where(User.openid == "demo-parent-1"))
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
    membership.status = "revoked"
    db.session.commit()
    assert _refusal(hook("on_update", call="update_play", name=camera, token=token, clientid="41")) == \
        "policy_forbidden"


def test_idle_sessions_are_closed_by_the_sweep(hook, client, as_user, live, clock):
    from backend.live.sessions import close_idle

    token = _token(client, as_user, "demo-parent-1", live["public"])
    hook("on_play", call="play", name=f"cam-{live['public']}", token=token, clientid="51")
    opened = clock.now
    assert close_idle(clock.now + timedelta(seconds=60), 60) == 0
    assert close_idle(clock.now + timedelta(seconds=61), 60) == 1
    [session] = _sessions()
    assert (session.closed_at, session.close_reason) == (opened, "idle")


# --- HLS (nginx auth_request) -------------------------------------------------------------------------------------

def _hls(client, token, camera_id, part=".m3u8", addr="36.1.2.3"):
    return client.get("/internal/media/hls_auth", headers={
        "X-Media-Hook-Secret": HOOK_SECRET, "X-Original-URI": f"/hls/{token}/cam-{camera_id}{part}",
        "X-Real-IP": addr})


def test_hls_requests_of_one_token_are_one_session_from_one_address(client, as_user, live, clock):
    camera = live["public"]
    token = _token(client, as_user, "demo-parent-1", camera)
    assert _hls(client, token, camera).status_code == 200
    assert _hls(client, token, camera, "-0.ts").status_code == 200
    clock.now += timedelta(seconds=6)
    assert _hls(client, token, camera, "-1.ts").status_code == 200
    [session] = _sessions()
    assert (session.protocol, session.client_addr, session.last_seen_at) == ("hls", "36.1.2.3", clock.now)
    # The link passed on to another phone: refused.
    assert _refusal(_hls(client, token, camera, addr="58.9.9.9")) == "session_other_address"
    # The token has expired meanwhile, but the session it opened goes on.
    clock.now += timedelta(seconds=60)
    assert _hls(client, token, camera).status_code == 200
    assert len(_sessions()) == 1


def test_hls_refuses_forged_expired_misdirected_and_idle(client, app, as_user, live, clock):
    camera = live["public"]
    now = int(clock.now.timestamp())
    assert _refusal(_hls(client, _signed(app, camera, expires=now - 1), camera)) == "token_expired"
    token = _token(client, as_user, "demo-parent-1", camera)
    assert _refusal(_hls(client, token[:-4] + "AAAA", camera)) == "token_bad_signature"
    assert _refusal(_hls(client, token, live["other"])) == "token_other_camera"
    assert _refusal(client.get("/internal/media/hls_auth", headers={
        "X-Media-Hook-Secret": HOOK_SECRET, "X-Original-URI": "/hls/../../etc/passwd"})) == "not_a_stream_uri"
    assert _hls(client, token, camera).status_code == 200
    # A forged token that reuses a real session's id is still checked for its signature.
    assert _refusal(_hls(client, token[:-4] + "AAAA", camera)) == "token_bad_signature"
    clock.now += timedelta(seconds=61)
    assert _refusal(_hls(client, token, camera)) == "session_idle"
    [session] = _sessions()
    assert session.close_reason == "idle"
    assert _refusal(_hls(client, token, camera)) == "session_reused"


def test_an_rtmp_token_cannot_continue_as_hls(hook, client, as_user, live):
    camera = live["public"]
    token = _token(client, as_user, "demo-parent-1", camera)
    hook("on_play", call="play", name=f"cam-{camera}", token=token, clientid="61")
    assert _refusal(_hls(client, token, camera)) == "session_reused"


@pytest.mark.parametrize("first", ["-3.ts", "-9.ts", ".m3u8"])
def test_hls_playlists_and_segments_recheck_the_window(client, as_user, live, clock, first):
    """Whatever the viewer asks for first once the last check is POLICY_RECHECK_SECONDS old (the playlist, the
    next segment or a guessed one), the right is checked again; afterwards every path is refused."""
    from backend.live.hooks import POLICY_RECHECK_SECONDS

    set_live_windows(1, [{"weekday": 0, "start": "09:00", "end": "10:00"}])
    clock.now = clock.now.replace(hour=1, minute=59, second=50)  # 09:59:50 Shanghai
    mark_all_live(live, clock.now)
    camera = live["public"]
    token = _token(client, as_user, "demo-parent-1", camera)
    assert _hls(client, token, camera).status_code == 200
    clock.now += timedelta(seconds=POLICY_RECHECK_SECONDS - 1)  # past 10:00: closed, but no check is due yet
    assert _hls(client, token, camera, "-3.ts").status_code == 200
    clock.now += timedelta(seconds=1)
    assert _refusal(_hls(client, token, camera, first)) == "policy_live_window_closed"
    for part in (".m3u8", "-3.ts", "-4.ts"):
        assert _refusal(_hls(client, token, camera, part)) == "session_reused"
    [session] = _sessions()
    assert (session.close_reason, session.closed_at) == ("policy", clock.now)


@pytest.mark.parametrize("protocol", ["rtmp", "hls"])
def test_a_play_url_used_late_has_the_right_checked_again(hook, client, as_user, live, clock, protocol):
    """A URL issued before the right ended but first used PLAY_RECHECK_AFTER_SECONDS later opens nothing: the
    right is checked when the session would open. A viewer whose right holds plays late all the same."""
    from backend.live.hooks import PLAY_RECHECK_AFTER_SECONDS
    from backend.schools.models import Camera

    camera = live["public"]
    late = _token(client, as_user, "demo-parent-1", camera)
    kept = _token(client, as_user, "demo-committee-1", camera)
    db.session.get(Camera, camera).area.public = False
    db.session.commit()
    clock.now += timedelta(seconds=PLAY_RECHECK_AFTER_SECONDS)

    def play(token, client_id):
        if protocol == "hls":
            return _hls(client, token, camera)
        return hook("on_play", call="play", name=f"cam-{camera}", token=token, clientid=client_id)

    assert _refusal(play(late, "91")) == "policy_live_area_not_public"
    assert _sessions() == []
    db.session.get(Camera, camera).area.public = True
    db.session.commit()
    assert play(kept, "92").status_code == 200
    assert [session.user_id for session in _sessions()] == [db.session.scalar(sa.text(
        "SELECT id FROM user_account WHERE openid = 'demo-committee-1'"))]


def test_an_hls_allow_may_be_cached_only_until_the_next_check(client, as_user, live, clock):
    """nginx may reuse an allow for HLS_AUTH_CACHE_SECONDS (up to one more second on its clock), never across
    the moment the right must be checked again; a refusal is never cacheable."""
    from backend.live.hooks import HLS_AUTH_CACHE_SECONDS, POLICY_RECHECK_SECONDS

    camera = live["public"]
    token = _token(client, as_user, "demo-parent-1", camera)
    opened = _hls(client, token, camera)
    assert opened.headers["X-Accel-Expires"] == str(HLS_AUTH_CACHE_SECONDS)
    last_cacheable = POLICY_RECHECK_SECONDS - HLS_AUTH_CACHE_SECONDS - 1
    clock.now += timedelta(seconds=last_cacheable)
    assert _hls(client, token, camera, "-1.ts").headers["X-Accel-Expires"] == str(HLS_AUTH_CACHE_SECONDS)
    clock.now += timedelta(milliseconds=1)
    assert _hls(client, token, camera, "-2.ts").headers["X-Accel-Expires"] == "0"
    clock.now += timedelta(seconds=POLICY_RECHECK_SECONDS - last_cacheable)  # checked again, and allowed
    assert _hls(client, token, camera, "-3.ts").headers["X-Accel-Expires"] == str(HLS_AUTH_CACHE_SECONDS)
    refused = _hls(client, token, camera, addr="58.9.9.9")
    assert refused.status_code == 403 and "X-Accel-Expires" not in refused.headers


# --- recordings ----------------------------------------------------------------------------------------------------

def test_record_done_indexes_files_inside_the_record_folder_only(hook, app, demo, clock, camera_ids, tmp_path):
    camera = camera_ids["public"]
    record_dir = app.config["LIVE_RECORD_DIR"]
    path = f"{record_dir}/cam-{camera}-1795398900.flv"  # started five minutes before now
    assert hook("on_record_done", call="record_done", name=f"cam-{camera}", path=path).status_code == 200
    assert hook("on_record_done", call="record_done", name=f"cam-{camera}", path=path).status_code == 200
    [segment] = db.session.scalars(sa.select(RecordingSegment)).all()
    assert (segment.camera_id, segment.school_id, segment.source_path, segment.status) == (
        camera, 1, path, "pending")
    assert int(segment.started_at.timestamp()) == 1795398900 and segment.ended_at == clock.now
    for bad, reason in ((str(tmp_path / f"cam-{camera}-1795400000.flv"), "recording_outside_record_dir"),
                        (f"{record_dir}/../cam-{camera}-1795400000.flv", "recording_outside_record_dir"),
                        (f"{record_dir}/cam-{camera}-x.flv", "recording_unexpected_name"),
                        (f"{record_dir}/cam-{camera_ids['other']}-1795400000.flv", "recording_unexpected_name"),
                        ("relative/cam-1-1795400000.flv", "recording_outside_record_dir")):
        assert _refusal(hook("on_record_done", call="record_done", name=f"cam-{camera}", path=bad)) == reason
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordingSegment)) == 1


# --- ZLMediaKit -------------------------------------------------------------------------------------------------

def _zlm(client, event, body):
    return client.post(f"/internal/media/zlm/{event}?secret={HOOK_SECRET}", json=body)


def test_zlmediakit_hooks_follow_the_same_rules(client, as_user, live, clock, app):
    camera = live["public"]
    _set_key(camera, "zlm-camera-key-123")
    base = {"mediaServerId": "z1", "app": "live", "stream": f"cam-{camera}", "vhost": "__defaultVhost__",
            "ip": "10.2.3.4", "port": 50000, "id": "140"}
    published = _zlm(client, "on_publish", {**base, "params": "key=zlm-camera-key-123", "schema": "rtmp"})
    assert (published.status_code, published.json) == (200, {"code": 0, "msg": "success", "enable_hls": True,
                                                             "enable_mp4": True, "enable_audio": False})
    refused = _zlm(client, "on_publish", {**base, "params": "key=nope", "schema": "rtmp"})
    assert (refused.status_code, refused.json) == (403, {"code": -1, "msg": "bad_publish_key"})
    token = _token(client, as_user, "demo-parent-1", camera)
    played = _zlm(client, "on_play", {**base, "params": f"token={token}", "schema": "hls", "id": "141"})
    assert (played.status_code, played.json["code"]) == (200, 0)
    assert _sessions()[0].protocol == "hls"
    again = _zlm(client, "on_play", {**base, "params": f"token={token}", "schema": "rtmp", "id": "142"})
    assert (again.status_code, again.json) == (403, {"code": -1, "msg": "session_reused"})
    done = _zlm(client, "on_flow_report", {**base, "params": f"token={token}", "player": True, "id": "141",
                                           "duration": 30, "totalBytes": 1000})
    assert done.status_code == 200
    assert _sessions()[0].close_reason == "player_closed"
    assert _zlm(client, "on_stream_changed", {**base, "regist": False, "schema": "rtmp"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(CameraStream, camera).publishing is False
    record = _zlm(client, "on_record_mp4", {**base, "file_path": f"{app.config['LIVE_RECORD_DIR']}/live/a.mp4",
                                            "start_time": 1795400000, "time_len": 60.0, "file_size": 2048})
    assert record.status_code == 200
    segment = db.session.scalars(sa.select(RecordingSegment)).one()
    assert (segment.duration_seconds, segment.size_bytes, int(segment.ended_at.timestamp())) == (60.0, 2048,
                                                                                                1795400060)
    assert _zlm(client, "on_play", {"app": "live", "stream": "cam-1"}).json == {"code": -1,
                                                                              "msg": "token_malformed"}
    assert client.post(f"/internal/media/zlm/on_play?secret={HOOK_SECRET}", data="x").status_code == 400


def test_a_database_outage_does_not_cut_running_streams_but_refuses_new_ones(hook, client, as_user, live,
                                                                             monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    from backend.live import hooks as hooks_module

    camera = f"cam-{live['public']}"
    token = _token(client, as_user, "demo-parent-1", live["public"])
    hook("on_play", call="play", name=camera, token=token, clientid="71")

    def database_gone(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(hooks_module.sessions, "session_of", database_gone)
    monkeypatch.setattr(hooks_module.sessions, "open_session", database_gone)
    response = hook("on_update", call="update_play", name=camera, token=token, clientid="71")
    assert (response.status_code, response.json) == (200, {"allowed": True, "checked": False})
    fresh = _token(client, as_user, "demo-parent-1", live["public"])
    assert hook("on_play", call="play", name=camera, token=fresh, clientid="72").status_code == 500
    assert "letting the running stream go on" in caplog.text


def test_the_scheduled_jobs(app, demo, clock, camera_ids, hook, client, as_user):
    from backend.live import jobs

    set_live_windows(1, ALL_DAY)
    mark_live(camera_ids["public"], clock.now)
    token = _token(client, as_user, "demo-parent-1", camera_ids["public"])
    hook("on_play", call="play", name=f"cam-{camera_ids['public']}", token=token, clientid="81")
    assert jobs.close_idle_sessions(clock.now + timedelta(seconds=30)) == 0
    assert jobs.close_idle_sessions(clock.now + timedelta(seconds=61)) == 1
    report = jobs.ingest_recordings(clock.now)
    assert (report.stored, report.failed) == (0, 0)
    assert jobs.purge_recordings(clock.now) == 0


@pytest.mark.skipif(not using_postgresql(), reason="only PostgreSQL's plays go through the group opener")
def test_a_play_answered_without_the_app_context_keeps_every_check(hook, app, client, as_user, live, clock,
                                                                   monkeypatch):
    """Once the process's first play made the group opener, on_play is answered without pushing an app context
    (bench/live.py); forged, expired, other-camera and reused tokens are refused all the same, and a late play
    still has its right checked in the database (inside an app context)."""
    from backend.live.hooks import PLAY_RECHECK_AFTER_SECONDS
    from backend.schools.models import Camera

    camera = live["public"]
    name = f"cam-{camera}"
    first = _token(client, as_user, "demo-parent-1", camera)
    assert hook("on_play", call="play", name=name, token=first, clientid="1").status_code == 200
    tokens = {kind: _token(client, as_user, "demo-parent-1", camera) for kind in ("fresh", "forged", "late")}
    other = _token(client, as_user, "demo-parent-2", live["other"])
    contexts: list[int] = []
    push = app.app_context
    monkeypatch.setattr(app, "app_context", lambda: contexts.append(1) or push())

    assert hook("on_play", call="play", name=name, token=tokens["fresh"], clientid="2").status_code == 200
    assert _refusal(hook("on_play", call="play", name=name, token=tokens["fresh"], clientid="3")) == "session_reused"
    assert _refusal(hook("on_play", call="play", name=name, token=first, clientid="4")) == "session_reused"
    forged = tokens["forged"].replace(".0.", ".1.", 1)
    assert _refusal(hook("on_play", call="play", name=name, token=forged, clientid="5")) == "token_bad_signature"
    assert _refusal(hook("on_play", call="play", name=name, token=other, clientid="6")) == "token_other_camera"
    expired = _signed(app, camera, expires=int(clock.now.timestamp()) - 1)
    assert _refusal(hook("on_play", call="play", name=name, token=expired, clientid="7")) == "token_expired"
    assert contexts == []

    db.session.get(Camera, camera).area.public = False
    db.session.commit()
    clock.now += timedelta(seconds=PLAY_RECHECK_AFTER_SECONDS)
    assert _refusal(hook("on_play", call="play", name=name, token=tokens["late"], clientid="8")) \
        == "policy_live_area_not_public"
    assert contexts == [1]
    assert [s.media_client_id for s in _sessions()] == ["1", "2"]
