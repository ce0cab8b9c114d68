"""Talk and broadcast (F19): the ONVIF back-channel against a camera on loopback (tests/fakes/backchannel_camera.py),
canned prompts spoken by espeak-ng, the API, its permissions, the audit and the clips' retention.

The audio is judged as the kitchen would hear it: what the camera received is decoded by ffmpeg and compared
with the clip sent, on duration (within 5 %) and level (RMS).
"""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.files import object_store
from backend.live import backchannel, speech, talk
from backend.schools.models import Camera, Canteen, KitchenArea, Region
from backend.schools.services import create_region, create_school
from backend.timeutil import utcnow
from backend.violations.models import KIND_PROMPTS, ViolationKind
from tests.fakes.backchannel_camera import BackchannelCamera

USER, PASSWORD = "admin", "p@ss:w/rd#1"


def _ffmpeg(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
                          input=data, capture_output=True, check=True, timeout=60).stdout


def _tone(seconds: float, fmt: str, *extra: str) -> bytes:
    """A 440 Hz tone at a speaking level, in a container, as a browser or a test would send it."""
    return _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=48000",
                   "-af", "volume=0.5", *extra, "-f", fmt, "pipe:1")


def _samples(data: bytes, *input_format: str) -> np.ndarray:
    """Any audio decoded by ffmpeg to 8 kHz mono 16-bit samples."""
    raw = _ffmpeg(*input_format, "-i", "pipe:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "pipe:1", data=data)
    return np.frombuffer(raw, dtype="<i2").astype(np.float64)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples ** 2)))


def _assert_same_audio(received: np.ndarray, sent: np.ndarray) -> None:
    assert len(received) == pytest.approx(len(sent), rel=0.05)  # duration within 5 %
    assert _rms(received) == pytest.approx(_rms(sent), rel=0.05)  # G.711 keeps the level
    assert _rms(received) > 1000  # a real signal, not silence


@pytest.fixture
def camera():
    """A back-channel camera on loopback; ``camera(**options)`` starts more, all stopped at the end."""
    started = []

    def start(**options) -> BackchannelCamera:
        started.append(BackchannelCamera(**options).start())
        return started[-1]
    yield start
    for server in started:
        server.stop()


def _point_at(camera_id: int, server: BackchannelCamera, user: str | None = None, password: str | None = None) -> None:
    row = db.session.get(Camera, camera_id)
    row.source_kind, row.source_url, row.source_username, row.source_password = "rtsp", server.url, user, password
    db.session.commit()


# -- the back-channel itself --------------------------------------------------------------------------------------

def test_a_clip_reaches_the_camera_sample_for_sample_as_paced_rtp(camera, tmp_path):
    server = camera(user=USER, password=PASSWORD)
    sent = _tone(1.5, "mulaw", "-ar", "8000", "-ac", "1")
    report = backchannel.send_clip(server.url, USER, PASSWORD, sent)
    assert server.problems == []
    [received] = server.talks
    assert received.torn_down and report.encoding == "PCMU" and report.packets == 75
    assert received.payload == sent
    packets = received.packets
    assert [p.sequence for p in packets] == [(packets[0].sequence + i) & 0xFFFF for i in range(75)]
    assert [p.timestamp - packets[0].timestamp for p in packets] == [160 * i for i in range(75)]
    assert {p.ssrc for p in packets} == {packets[0].ssrc} and {p.payload_type for p in packets} == {0}
    assert [p.marker for p in packets] == [True] + [False] * 74
    assert {len(p.payload) for p in packets} == {160}
    # The handshake: Require on DESCRIBE, SETUP and PLAY; digest answered; the request line names no password.
    methods = [method for method, _ in server.requests]
    assert methods[0] == "OPTIONS" and methods[-1] == "TEARDOWN" and {"DESCRIBE", "SETUP", "PLAY"} <= set(methods)
    assert all(h.get("require") == backchannel.REQUIRE for m, h in server.requests if m in ("SETUP", "PLAY"))
    wav = received.write_wav(tmp_path / "received.wav")
    _assert_same_audio(_samples(wav.read_bytes()), _samples(sent, "-f", "mulaw", "-ar", "8000"))


def test_an_a_law_camera_gets_a_law_that_decodes_to_the_clip(camera, tmp_path):
    server = camera(codec="PCMA")
    sent = _tone(1.0, "mulaw", "-ar", "8000", "-ac", "1")
    assert backchannel.send_clip(server.url, None, None, sent).encoding == "PCMA"
    assert server.problems == []
    wav = server.talks[0].write_wav(tmp_path / "received.wav", codec="PCMA")
    _assert_same_audio(_samples(wav.read_bytes()), _samples(sent, "-f", "mulaw", "-ar", "8000"))


@pytest.mark.parametrize("mode", ["refuse", "no_track"])
def test_a_camera_without_a_back_channel_is_a_clear_error(camera, mode):
    server = camera(mode=mode)
    with pytest.raises(backchannel.BackchannelError) as error:
        backchannel.send_clip(server.url, None, None, b"\xff" * 800)
    assert (error.value.code, error.value.message) == (
        "backchannel_unsupported", "该摄像头不支持语音对讲（ONVIF 音频回传）")
    assert server.talks == []


def test_without_the_require_header_the_camera_answers_551(camera):
    server = camera()
    client = backchannel.RtspClient(server.url, None, None, deadline=float("inf"))
    try:
        assert client.request("DESCRIBE", client.url).status == 551
    finally:
        client.close()


def test_unreachable_camera_and_wrong_password(camera):
    with pytest.raises(backchannel.BackchannelError) as error:
        backchannel.send_clip("rtsp://127.0.0.1:9/x", None, None, b"\xff" * 160)  # the discard port: nothing listens
    assert error.value.code == "camera_unreachable"
    server = camera(user=USER, password=PASSWORD)
    with pytest.raises(backchannel.BackchannelError) as error:
        backchannel.send_clip(server.url, USER, "wrong", b"\xff" * 160)
    assert error.value.code == "camera_auth_failed" and server.talks == []


# -- canned prompts ----------------------------------------------------------------------------------------------

def test_a_canned_prompt_is_spoken_once_and_cached(app):
    text = KIND_PROMPTS[ViolationKind.NO_MASK]
    assert text == "请规范佩戴口罩、帽子"
    clip = speech.synthesise(text)
    assert 1.0 < clip.seconds < 10.0 and _rms(_samples(clip.pcmu, "-f", "mulaw", "-ar", "8000")) > 500
    store = object_store()
    assert store.get(speech.prompt_key(text)) == clip.pcmu
    store.put(speech.prompt_key(text), b"\xff" * 8000, "audio/basic")  # the cache answers, espeak-ng is not run
    assert speech.synthesise(text).pcmu == b"\xff" * 8000


# -- the API -----------------------------------------------------------------------------------------------------

def test_staff_talk_to_a_camera_from_the_browser(client, as_user, demo, clock, camera_ids, camera):
    server = camera(user=USER, password=PASSWORD)
    _point_at(camera_ids["private"], server, USER, PASSWORD)
    recording = _tone(1.2, "webm", "-c:a", "libopus")  # what Chrome's MediaRecorder sends
    response = client.post(f"/api/v1/live/cameras/{camera_ids['private']}/talk", headers=as_user("demo-staff-1"),
                           data={"file": (io.BytesIO(recording), "talk.webm")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["kind"], body["delivered"], body["refused"], body["at"]) == ("talk", 1, 0, "2026-11-23T10:00:00+08:00")
    assert body["results"] == [{"camera_id": camera_ids["private"], "camera_name": "留样间摄像头",
                                "status": "delivered", "reason": None, "message": None}]
    assert server.problems == []
    _assert_same_audio(_samples(server.talks[0].payload, "-f", "mulaw", "-ar", "8000"), _samples(recording))
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.talk")).all()
    assert (audit.school_id, audit.target_type, audit.target_id, audit.id) == (1, "camera", camera_ids["private"],
                                                                              body["id"])
    assert audit.details["cameras"] == [camera_ids["private"]]
    assert audit.details["results"] == {str(camera_ids["private"]): "delivered"}
    kept = object_store().get(audit.details["clip_key"])
    assert audit.details["clip_key"].startswith("talk/1/2026/11/23/")
    _assert_same_audio(_samples(kept), _samples(recording))


def test_a_camera_that_refuses_the_back_channel_answers_409_and_the_attempt_is_audited(client, as_user, demo, clock,
                                                                                        camera_ids, camera):
    _point_at(camera_ids["public"], camera(mode="refuse"))
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/talk", headers=as_user("demo-principal-1"),
                           data={"file": (io.BytesIO(_tone(0.5, "wav")), "a.wav")}, content_type="multipart/form-data")
    assert response.status_code == 409
    error = response.json["error"]
    assert (error["code"], error["message"]) == ("backchannel_unsupported", "该摄像头不支持语音对讲（ONVIF 音频回传）")
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.talk")).all()
    assert audit.details["results"] == {str(camera_ids["public"]): "backchannel_unsupported"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("payload", "status", "code"), [
    (_png, 422, "talk_clip_invalid"),
    (lambda: b"RIFF\x00\x00\x00\x00WAVEfmt garbage", 422, "talk_clip_invalid"),
    (lambda: _ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5", "-f", "lavfi", "-i",
                     "sine=duration=1", "-c:v", "libvpx", "-c:a", "libopus", "-f", "webm", "pipe:1"),
     422, "talk_clip_invalid"),  # a video is not a voice recording
    (lambda: _tone(61, "wav", "-ar", "8000"), 422, "talk_clip_too_long"),
    (lambda: b"\x00" * (speech.MAX_CLIP_BYTES + 1), 413, "talk_clip_too_large"),
])
def test_a_talk_upload_is_judged_by_its_content(client, as_user, demo, camera_ids, camera, payload, status, code):
    server = camera()
    _point_at(camera_ids["public"], server)
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/talk", headers=as_user("demo-staff-1"),
                           data={"file": (io.BytesIO(payload()), "talk.webm")}, content_type="multipart/form-data")
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code and response.json["error"]["message"]
    assert server.requests == []
    assert db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.talk")).all() == []


@pytest.mark.parametrize("openid", ["demo-parent-1", "demo-committee-1", "demo-manager-1", "demo-staff-2"])
def test_parents_and_other_schools_never_talk(client, as_user, demo, camera_ids, openid):
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/talk", headers=as_user(openid),
                           data={"file": (io.BytesIO(_tone(0.5, "wav")), "a.wav")}, content_type="multipart/form-data")
    assert response.status_code == 403


def _canteen_cameras(school_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Camera.id).join(KitchenArea).join(Canteen)
                                   .where(Canteen.school_id == school_id).order_by(Camera.id)))


def test_a_broadcast_speaks_the_canned_prompt_on_every_camera_of_the_canteen(client, as_user, demo, clock, camera):
    cameras = _canteen_cameras(1)
    listening, refusing = camera(), camera(mode="refuse")
    _point_at(cameras[0], listening)
    _point_at(cameras[1], refusing)
    canteen_id = db.session.scalar(sa.select(Canteen.id).where(Canteen.school_id == 1))
    response = client.post("/api/v1/live/broadcasts", headers=as_user("demo-regulator"),
                           json={"kind": "no_mask", "canteen_id": canteen_id})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["text"] == "请规范佩戴口罩、帽子" and body["kind"] == "broadcast"
    results = {r["camera_id"]: (r["status"], r["reason"]) for r in body["results"]}
    assert set(results) == set(cameras)
    assert results[cameras[0]] == ("delivered", None)
    assert results[cameras[1]] == ("refused", "backchannel_unsupported")
    # The demo's other cameras play a file: no back-channel to speak through.
    assert {results[c] for c in cameras[2:]} == {("refused", "backchannel_unsupported")}
    assert (body["delivered"], body["refused"]) == (1, len(cameras) - 1)
    spoken = speech.synthesise("请规范佩戴口罩、帽子").pcmu
    assert listening.talks[0].payload == spoken and listening.problems == []
    assert body["seconds"] == pytest.approx(len(spoken) / 8000, abs=0.001)
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.broadcast")).all()
    assert (audit.actor_id, audit.school_id, audit.target_type, audit.target_id) == (
        db.session.scalar(sa.text("select id from user_account where openid = 'demo-regulator'")), 1, "canteen",
        canteen_id)
    assert audit.details["cameras"] == cameras and audit.details["kind"] == "no_mask"


def test_a_text_broadcast_to_a_school_by_its_principal(client, as_user, demo, clock, camera):
    server = camera()
    _point_at(_canteen_cameras(1)[0], server)
    response = client.post("/api/v1/live/broadcasts", headers=as_user("demo-principal-1"),
                           json={"text": "请戴口罩", "school_id": 1})
    assert response.status_code == 201, response.json
    assert response.json["delivered"] == 1 and len(server.talks) == 1
    assert db.session.scalar(sa.select(AuditLog.target_type).where(AuditLog.action == "live.broadcast")) == "school"


def test_who_may_broadcast(client, as_user, demo):
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    outside = create_school(None, create_region("330200", "宁波市", "city", province), "宁波一小", "primary", None)
    db.session.commit()
    for openid, school_id in [("demo-parent-1", 1), ("demo-committee-1", 1), ("demo-manager-1", 1),
                              ("demo-staff-2", 1), ("demo-principal-1", 2), ("demo-regulator", outside.id)]:
        response = client.post("/api/v1/live/broadcasts", headers=as_user(openid),
                               json={"text": "请戴口罩", "school_id": school_id})
        assert response.status_code == 403, (openid, response.json)
        assert response.json["error"]["message"].endswith("可以通过摄像头喊话")
    assert db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.broadcast")).all() == []


@pytest.mark.parametrize(("body", "code"), [
    ({"text": "请戴口罩"}, "broadcast_target_invalid"),
    ({"text": "请戴口罩", "school_id": 1, "canteen_id": 1}, "broadcast_target_invalid"),
    ({"school_id": 1}, "broadcast_prompt_invalid"),
    ({"kind": "no_mask", "text": "请戴口罩", "school_id": 1}, "broadcast_prompt_invalid"),
    ({"kind": "sample_missing", "school_id": 1}, "broadcast_prompt_invalid"),
])
def test_a_broadcast_names_one_target_and_one_prompt(client, as_user, demo, body, code):
    response = client.post("/api/v1/live/broadcasts", headers=as_user("demo-staff-1"), json=body)
    assert response.status_code == 422 and response.json["error"]["code"] == code


def test_a_school_without_cameras_has_nothing_to_broadcast_to(client, as_user, demo):
    db.session.execute(sa.update(Camera).values(enabled=False))
    db.session.commit()
    response = client.post("/api/v1/live/broadcasts", headers=as_user("demo-staff-1"),
                           json={"text": "请戴口罩", "school_id": 1})
    assert response.status_code == 422 and response.json["error"]["code"] == "broadcast_no_cameras"


def test_the_prompts_are_listed_with_their_kinds(client, as_user, demo):
    response = client.get("/api/v1/live/talk-prompts", headers=as_user("demo-staff-1"))
    assert response.status_code == 200
    prompts = {p["kind"]: (p["label"], p["text"]) for p in response.json["prompts"]}
    assert prompts["no_mask"] == ("未佩戴口罩", "请规范佩戴口罩、帽子")


def test_talk_clips_are_kept_as_long_as_recordings(app, demo, clock, camera, client, as_user, camera_ids):
    _point_at(camera_ids["public"], camera())
    response = client.post("/api/v1/live/broadcasts", headers=as_user("demo-staff-1"),
                           json={"text": "请戴口罩", "school_id": 1})
    assert response.status_code == 201
    audit = db.session.get(AuditLog, response.json["id"])
    key = audit.details["clip_key"]
    now = utcnow()
    assert talk.purge_expired(now + timedelta(days=14)) == 0 and object_store().exists(key)  # retention: 15 days
    assert talk.purge_expired(now + timedelta(days=15, hours=1)) == 1
    assert not object_store().exists(key) and db.session.get(AuditLog, audit.id) is not None

