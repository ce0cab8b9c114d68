"""What the media server asks and tells us: publish and play authorisation, session ends, recordings.

Every function takes a normalised :class:`~backend.integrations.media.HookEvent` (or an HLS request) and
either returns (the route answers 2xx: allow) or raises :class:`HookRefused` (the route answers 403: the
media server refuses the publisher or player, or drops it when it comes from ``on_update``).

Token rules, for both protocols:

* a play token is signed for one user and one camera and must be *first used* within its lifetime
  (``LIVE_TOKEN_TTL_SECONDS``); expired, forged, or other cameras' tokens are refused;
* a token opens exactly one view session. A second RTMP play with it is refused (reused). HLS fetches a
  playlist and segments many times: those requests are the same session as long as they come from the
  address that opened it and the session is alive; a request from another address (a shared link) or after
  the session ended is refused;
* the viewer's right is checked again, so a parent is cut off when the live window closes, the area is made
  private or the binding is revoked, on every path within ``REVOCATION_BOUND_SECONDS``: when the session opens
  if the URL was issued ``PLAY_RECHECK_AFTER_SECONDS`` ago or more, then every ``POLICY_RECHECK_SECONDS``
  (RTMP on every ``on_update``, HLS on the first request, playlist or segment alike, that reaches us once
  the last check is that old). nginx may keep an HLS allow for ``HLS_AUTH_CACHE_SECONDS``
  (:func:`authorize_hls` says for how long), never past the next check.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from backend.accounts.models import User
from backend.db_util import insert_if_absent
from backend.errors import ApiError, Refusal
from backend.extensions import db
from backend.integrations import media
from backend.integrations.media import HlsRequest, HookCall, HookEvent, TokenError, TokenKind
from backend.live import sessions
from backend.live.group_open import GroupOpener
from backend.live.models import CameraStream, CloseReason, Protocol, RecordingSegment, SegmentStatus, ViewSession
from backend.live.policy import check_play
from backend.live.recordings import inside
from backend.live.settings import LiveSettings
from backend.permissions import load_principal
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import as_utc

log = logging.getLogger(__name__)

LIVE_APP = "live"
# The revocation bound: a viewer whose right ended gets nothing more, on any path, this long after it ended.
REVOCATION_BOUND_SECONDS = 20
# A play whose URL was issued this long ago has the right checked again before its session opens. A prompt play
# relies on the check made when the URL was issued, so the hot path (on_play) stays one database round trip.
PLAY_RECHECK_AFTER_SECONDS = 2
# While a session lasts, its right is checked again this often: RTMP on every on_update (nginx's
# notify_update_timeout in docker/media/nginx.conf.template), HLS on the first request once the last check is
# this old. With a prompt play's own allowance this makes the bound.
POLICY_RECHECK_SECONDS = REVOCATION_BOUND_SECONDS - PLAY_RECHECK_AFTER_SECONDS
# How long nginx may answer an HLS file from an allow it cached (proxy_cache on the auth_request, keyed by token,
# camera and address): a viewer's playlist and segment requests of the same second or two cost one check.
HLS_AUTH_CACHE_SECONDS = 1
TOUCH_EVERY_SECONDS = 5
RECORDING_NAME = re.compile(r"^cam-[1-9][0-9]{0,9}-(?P<start>[0-9]{9,11})\.flv$")


class HookRefused(Refusal):
    """The media server must refuse (or drop) this publisher or player."""


def _refuse(reason: str, event: HookEvent | None = None) -> HookRefused:
    log.info("media hook refused: %s %s", reason, media.dumps_event(event) if event else "")
    return HookRefused(reason)


def _camera_of(event: HookEvent) -> int:
    if event.app != LIVE_APP:
        raise _refuse("unknown_app", event)
    camera_id = event.camera_id
    if camera_id is None:
        raise _refuse("unknown_stream", event)
    return camera_id


# --- publishers -------------------------------------------------------------------------------------------

def _publisher_kind(event: HookEvent, camera: Camera, stream: CameraStream | None, now: datetime,
                    settings: LiveSettings, *, connecting: bool) -> str:
    """Check the publisher's credential: the camera's static key, or a server-signed relay token."""
    key = event.key
    if key and key.startswith(media.TOKEN_VERSION + "."):
        try:
            # A relay token only needs to be fresh when the relay connects; the connection then lives on.
            token = media.verify_token(settings.token_key, key, now=now.timestamp(), kind=TokenKind.RELAY,
                                       check_expiry=connecting)
        except TokenError as exc:
            raise _refuse(f"relay_token_{exc.reason}", event) from exc
        if token.camera_id != camera.id:
            raise _refuse("relay_token_other_camera", event)
        return "relay"
    if not media.publish_key_matches(key, stream.publish_key_hash if stream else None):
        raise _refuse("bad_publish_key", event)
    return "key"


def _checked_publisher(event: HookEvent, now: datetime, settings: LiveSettings, *,
                       connecting: bool) -> tuple[CameraStream, str]:
    """The stream row of an enabled camera whose publisher showed a valid credential (created if missing)."""
    camera_id = _camera_of(event)
    camera = db.session.get(Camera, camera_id)
    if camera is None or not camera.enabled:
        raise _refuse("unknown_or_disabled_camera", event)
    stream = db.session.get(CameraStream, camera_id)
    kind = _publisher_kind(event, camera, stream, now, settings, connecting=connecting)
    if stream is None:
        stream = CameraStream(camera_id=camera_id)
        db.session.add(stream)
    return stream, kind


def authorize_publish(event: HookEvent, now: datetime, settings: LiveSettings) -> None:
    """``on_publish``: let a camera publish its own stream with its key; remember that it is live."""
    stream, kind = _checked_publisher(event, now, settings, connecting=True)
    stream.publishing = True
    stream.live_since = now
    stream.last_event_at = now
    stream.publisher_client_id = event.client_id or None
    stream.publisher_addr = event.addr or None
    stream.publisher_kind = kind
    db.session.commit()
    log.info("camera %s publishing (%s) from %s", event.camera_id, kind, event.addr)


def update_publish(event: HookEvent, now: datetime, settings: LiveSettings) -> None:
    """``on_update`` of a publisher: keep the live state fresh; drop it if its key was rotated meanwhile."""
    stream, kind = _checked_publisher(event, now, settings, connecting=False)
    if not stream.publishing or stream.publisher_client_id != (event.client_id or None):
        # We missed the publish (api restored, or a lost notification): the media server is the truth.
        stream.publishing, stream.live_since = True, now
        stream.publisher_client_id, stream.publisher_addr, stream.publisher_kind = (
            event.client_id or None, event.addr or None, kind)
    stream.last_event_at = now
    db.session.commit()


def publish_done(event: HookEvent, now: datetime) -> None:
    """``on_publish_done``: the camera stopped publishing (only the current publisher can say so)."""
    camera_id = _camera_of(event)
    stream = db.session.get(CameraStream, camera_id)
    if stream is None or not stream.publishing:
        return
    if event.client_id and stream.publisher_client_id and event.client_id != stream.publisher_client_id:
        return  # the end of a refused or older publisher, not of the live one
    stream.publishing = False
    stream.last_publish_done_at = now
    stream.last_event_at = now
    db.session.commit()
    log.info("camera %s stopped publishing", camera_id)


# --- players ----------------------------------------------------------------------------------------------

def _play_token(event_token: str | None, camera_id: int, now: datetime, settings: LiveSettings, *,
                check_expiry: bool, event: HookEvent | None = None) -> media.MediaToken:
    try:
        token = media.verify_token(settings.token_key, event_token, now=now.timestamp(), kind=TokenKind.PLAY,
                                   check_expiry=check_expiry)
    except TokenError as exc:
        raise _refuse(f"token_{exc.reason}", event) from exc
    if token.camera_id != camera_id:
        raise _refuse("token_other_camera", event)
    return token


def _is_sampler(event: HookEvent) -> bool:
    """Whether the player shows a sample token: a reader inside the platform, not a viewer."""
    return media.token_kind_of(event.token) == TokenKind.SAMPLE.value


def _check_sampler(event: HookEvent, now: datetime, settings: LiveSettings, *, connecting: bool) -> None:
    """A detection worker or a snapshot reading a pushed camera: a sample token of that camera, fresh when it
    connects (the connection then lives on, as a relay's). It opens no view session and counts in no viewer cap."""
    camera_id = _camera_of(event)
    try:
        token = media.verify_token(settings.token_key, event.token, now=now.timestamp(), kind=TokenKind.SAMPLE,
                                   check_expiry=connecting)
    except TokenError as exc:
        raise _refuse(f"sample_token_{exc.reason}", event) from exc
    if token.camera_id != camera_id:
        raise _refuse("sample_token_other_camera", event)


def _caps(settings: LiveSettings) -> sessions.Caps:
    return sessions.Caps(settings.max_per_camera, settings.max_per_school, settings.idle_seconds)


def _fresh_play_token(event: HookEvent, now: datetime, settings: LiveSettings) -> media.MediaToken:
    """``on_play``'s checks that need no database: our app, a camera's stream, and a token of that camera
    that is well signed and not expired."""
    return _play_token(event.token, _camera_of(event), now, settings, check_expiry=True, event=event)


def _open_play(event: HookEvent, token: media.MediaToken, now: datetime, settings: LiveSettings,
               opener: GroupOpener | None = None) -> int:
    """Open the play's view session (through ``opener`` when given: PostgreSQL without an app context)."""
    protocol = Protocol.HLS if event.schema == "hls" else Protocol.RTMP
    try:
        return sessions.open_session(token, protocol=protocol, client_addr=event.addr or None,
                                     media_client_id=event.client_id or None, now=now, caps=_caps(settings),
                                     opener=opener)
    except sessions.SessionRefused as exc:
        raise _refuse(f"session_{exc.reason}", event) from exc


def authorize_play(event: HookEvent, now: datetime, settings: LiveSettings) -> int:
    """``on_play``: a fresh token of this camera opens its one view session, within the viewer caps (a sample
    token lets a reader of the platform's own in, with no session: 0)."""
    if _is_sampler(event):
        _check_sampler(event, now, settings, connecting=True)
        return 0
    token = _fresh_play_token(event, now, settings)
    _check_late_play(token, now, settings, event)
    return _open_play(event, token, now, settings)


def authorize_prompt_play(event: HookEvent, now: datetime, settings: LiveSettings, opener: GroupOpener) -> int | None:
    """``on_play`` on PostgreSQL with no app context and no ORM session: the same checks as
    :func:`authorize_play`, for the usual play, whose URL was issued under PLAY_RECHECK_AFTER_SECONDS ago.

    Returns the new session's id, or None for a late play, whose right must be checked again in the database
    first: the caller then answers it with :func:`authorize_play` inside an app context.
    """
    if _is_sampler(event):
        _check_sampler(event, now, settings, connecting=True)
        return 0
    token = _fresh_play_token(event, now, settings)
    if _needs_recheck(token, now, settings):
        return None
    return _open_play(event, token, now, settings, opener)


def play_done(event: HookEvent, now: datetime, settings: LiveSettings) -> None:
    """``on_done`` of a player: the player closed, so its view session ends."""
    if event.token is None or _is_sampler(event):
        return  # a publisher's connection ended (on_publish_done covers it), or a reader's that opened no session
    camera_id = _camera_of(event)
    try:
        token = _play_token(event.token, camera_id, now, settings, check_expiry=False, event=event)
    except HookRefused:
        return  # nothing of ours was opened with it
    sessions.close_session(token.token_id, event.client_id or None, now)


def _check_right(user_id: int, camera_id: int, now: datetime) -> None:
    """Whether the viewer may still watch the camera (window, public area, binding, camera enabled)."""
    user = db.session.get(User, user_id)
    camera = db.session.get(Camera, camera_id)
    if user is None or camera is None:
        raise HookRefused("policy_gone")
    try:
        check_play(load_principal(user), camera, now)
    except ApiError as exc:
        raise HookRefused(f"policy_{exc.code}") from exc


def _needs_recheck(token: media.MediaToken, now: datetime, settings: LiveSettings) -> bool:
    """Whether the token's URL was issued PLAY_RECHECK_AFTER_SECONDS ago or more."""
    # Signed as "now + TTL" in whole seconds: this reads the issue up to a second early, never late.
    return now.timestamp() - (token.expires - settings.token_ttl) >= PLAY_RECHECK_AFTER_SECONDS


def _check_late_play(token: media.MediaToken, now: datetime, settings: LiveSettings,
                     event: HookEvent | None = None) -> None:
    """Before a session opens: check the right again if the URL was issued PLAY_RECHECK_AFTER_SECONDS ago."""
    if _needs_recheck(token, now, settings):
        try:
            _check_right(token.user_id, token.camera_id, now)
        except HookRefused as exc:
            raise _refuse(exc.reason, event) from exc


def _recheck_policy(session: ViewSession, now: datetime) -> None:
    """Check the viewer's right again; a right that ended ends the session."""
    try:
        _check_right(session.user_id, session.camera_id, now)
    except HookRefused as exc:
        if exc.reason != "policy_gone":
            session.closed_at, session.close_reason = now, CloseReason.POLICY.value
            db.session.commit()
            log.info("view session %s ended by policy: %s", session.id, exc.reason.removeprefix("policy_"))
        raise
    session.policy_checked_at = now


def update_play(event: HookEvent, now: datetime, settings: LiveSettings) -> None:
    """``on_update`` of a player: the session must still be open and its viewer still entitled (a reader of the
    platform's own: its sample token still of that camera and well signed)."""
    if _is_sampler(event):
        _check_sampler(event, now, settings, connecting=False)
        return
    camera_id = _camera_of(event)
    token = _play_token(event.token, camera_id, now, settings, check_expiry=False, event=event)
    session = sessions.session_of(token.token_id)
    if session is None or session.closed_at is not None or (
            event.client_id and session.media_client_id != event.client_id):
        raise _refuse("session_not_open", event)
    session.last_seen_at = now
    _recheck_policy(session, now)
    db.session.commit()


def authorize_hls(request: HlsRequest | None, client_addr: str | None, now: datetime,
                  settings: LiveSettings) -> int:
    """An HLS playlist or segment request (nginx ``auth_request``): the token's session, from its address.

    Returns for how many seconds the media server may answer this token's requests from this address from
    its cache without asking again (0: not at all); refusals are never cached.
    """
    if request is None:
        raise _refuse("not_a_stream_uri")
    session = sessions.session_of(_unverified_id(request.token))
    if session is None:
        token = _play_token(request.token, request.camera_id, now, settings, check_expiry=True)
        _check_late_play(token, now, settings)
        try:
            sessions.open_session(token, protocol=Protocol.HLS, client_addr=client_addr, media_client_id=None,
                                  now=now, caps=_caps(settings))
        except sessions.SessionRefused as exc:
            if exc.reason != "reused":
                raise _refuse(f"session_{exc.reason}") from exc
            # Two first requests raced; the other one opened the session: judge this one against it.
            session = sessions.session_of(token.token_id)
            if session is None:
                raise _refuse("session_reused") from exc
        else:
            return _cacheable_seconds(now, now)  # the session's policy clock starts now
    # Known token id: the signature still has to match (ids are not secret enough to stand alone).
    _play_token(request.token, request.camera_id, now, settings, check_expiry=False)
    return _continue_hls(session, client_addr, now, settings)


def _unverified_id(token: str) -> str:
    parts = token.split(".")
    return parts[7] if len(parts) == 9 else ""


def _cacheable_seconds(policy_checked_at: datetime, now: datetime) -> int:
    """How long an HLS allow may be cached: HLS_AUTH_CACHE_SECONDS, unless the next check is due sooner.

    nginx counts a cached answer's validity in whole seconds of its clock, so an answer cached for n seconds
    may be served for up to n + 1. An allow that could outlive the due check is not cached at all: then no
    cached allow survives the moment the right is checked again, and HLS keeps RTMP's bound.
    """
    due = as_utc(policy_checked_at) + timedelta(seconds=POLICY_RECHECK_SECONDS)
    return HLS_AUTH_CACHE_SECONDS if now + timedelta(seconds=HLS_AUTH_CACHE_SECONDS + 1) <= due else 0


def _continue_hls(session: ViewSession, client_addr: str | None, now: datetime, settings: LiveSettings) -> int:
    if session.protocol != Protocol.HLS or session.closed_at is not None:
        raise _refuse("session_reused")
    if session.client_addr != client_addr:
        raise _refuse("session_other_address")
    last_seen = as_utc(session.last_seen_at)
    if now - last_seen > timedelta(seconds=settings.idle_seconds):
        session.closed_at, session.close_reason = last_seen, CloseReason.IDLE.value
        db.session.commit()
        raise _refuse("session_idle")
    changed = False
    # Playlists and segments alike: a viewer who stops asking for the playlist and guesses the next segment
    # names must be cut off as surely as one who plays on.
    if now - as_utc(session.policy_checked_at) >= timedelta(seconds=POLICY_RECHECK_SECONDS):
        _recheck_policy(session, now)
        changed = True
    cacheable = _cacheable_seconds(session.policy_checked_at, now)
    # Segments arrive every second or two; writing the row each time would buy nothing.
    if changed or now - last_seen >= timedelta(seconds=TOUCH_EVERY_SECONDS):
        session.last_seen_at = now
        db.session.commit()
    else:
        db.session.rollback()
    return cacheable


# --- recordings -------------------------------------------------------------------------------------------

def record_done(event: HookEvent, now: datetime, settings: LiveSettings) -> int | None:
    """``on_record_done``: index the finished file; a worker copies it into the object store later.

    Only files inside LIVE_RECORD_DIR are accepted, so even a caller holding the hook secret cannot make the
    workers read (and publish) an arbitrary file.
    """
    camera_id = _camera_of(event)
    path = Path(event.path or "")
    if not event.path or not path.is_absolute() or not inside(path, settings.record_dir):
        raise _refuse("recording_outside_record_dir", event)
    started = event.started_at
    if started is None:
        match = RECORDING_NAME.match(path.name)
        if match is None or not path.name.startswith(f"{media.stream_name(camera_id)}-"):
            raise _refuse("recording_unexpected_name", event)
        started = float(match.group("start"))
    school_id = db.session.scalar(
        sa.select(Canteen.school_id).join(KitchenArea, KitchenArea.canteen_id == Canteen.id)
        .join(Camera, Camera.area_id == KitchenArea.id).where(Camera.id == camera_id))
    if school_id is None:
        raise _refuse("unknown_camera", event)
    started_at = datetime.fromtimestamp(started, now.tzinfo)
    ended_at = started_at + timedelta(seconds=event.duration) if event.duration else now
    segment_id = insert_if_absent(RecordingSegment, {
        "camera_id": camera_id, "school_id": school_id, "source_path": str(path), "local_present": True,
        "status": SegmentStatus.PENDING.value, "started_at": started_at, "ended_at": max(ended_at, started_at),
        "duration_seconds": event.duration, "size_bytes": event.size, "attempts": 0, "created_at": now,
    }, ["source_path"])
    db.session.commit()
    return segment_id


def handle(event: HookEvent, now: datetime, settings: LiveSettings) -> None:
    """Dispatch a normalised event to its handler."""
    if event.call is HookCall.PUBLISH:
        authorize_publish(event, now, settings)
    elif event.call is HookCall.PUBLISH_DONE:
        publish_done(event, now)
    elif event.call is HookCall.UPDATE_PUBLISH:
        update_publish(event, now, settings)
    elif event.call is HookCall.PLAY:
        authorize_play(event, now, settings)
    elif event.call is HookCall.PLAY_DONE:
        play_done(event, now, settings)
    elif event.call is HookCall.UPDATE_PLAY:
        update_play(event, now, settings)
    else:
        record_done(event, now, settings)
