"""backend.integrations.media: signed tokens, stream names, play URLs and both media servers' hook payloads."""

from __future__ import annotations

import pytest

from backend.integrations import media
from backend.integrations.media import HookCall, TokenError, TokenKind

KEY = media.derive_key("test-secret-key-that-is-long-enough-0123456789")
NOW = 1_800_000_000


def _token(**overrides):
    values = {"user_id": 7, "camera_id": 3, "school_id": 1, "privileged": False, "expires": NOW + 60}
    values.update(overrides)
    return media.issue_token(KEY, TokenKind.PLAY, **values)


def test_a_token_round_trips_with_everything_it_binds():
    issued = _token()
    token = media.verify_token(KEY, issued.token, now=NOW, kind=TokenKind.PLAY)
    assert (token.user_id, token.camera_id, token.school_id, token.privileged, token.expires) == (7, 3, 1, False,
                                                                                                   NOW + 60)
    assert token.token_id == issued.token_id and len(issued.token_id) == 16
    assert media.verify_token(KEY, _token(privileged=True).token, now=NOW, kind=TokenKind.PLAY).privileged is True


@pytest.mark.parametrize("key", [b"k" * 32, media.derive_key("x" * 40), b"long-" * 20, b""])
def test_the_signature_is_hmac_sha256_of_the_payload_with_the_key(key):
    import base64
    import hashlib
    import hmac

    issued = media.issue_token(key, TokenKind.PLAY, user_id=7, camera_id=3, school_id=1, privileged=False,
                               expires=2000000000)
    payload, signature = issued.token.rsplit(".", 1)
    expected = base64.urlsafe_b64encode(hmac.digest(key, payload.encode(), hashlib.sha256)).rstrip(b"=").decode()
    assert signature == expected
    assert media.verify_token(key, issued.token, now=1, kind=TokenKind.PLAY).token_id == issued.token_id


def test_tokens_are_unique_per_issue():
    assert _token().token_id != _token().token_id


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad_signature"),
    (lambda t: t.replace(".7.3.1.", ".8.3.1.", 1), "bad_signature"),      # another user
    (lambda t: t.replace(".7.3.1.", ".7.4.1.", 1), "bad_signature"),      # another camera
    (lambda t: t.replace(".7.3.1.0.", ".7.3.1.1.", 1), "bad_signature"),  # claims staff
    (lambda t: t.replace("L1.", "L2.", 1), "malformed"),
    (lambda t: t.split(".", 1)[1], "malformed"),
    (lambda t: "", "malformed"),
    (lambda t: t + "/../x", "malformed"),
])
def test_forged_or_altered_tokens_are_refused(mutate, reason):
    with pytest.raises(TokenError) as error:
        media.verify_token(KEY, mutate(_token().token), now=NOW, kind=TokenKind.PLAY)
    assert error.value.reason == reason


def test_a_token_signed_with_another_secret_is_refused():
    other = media.issue_token(media.derive_key("another-secret"), TokenKind.PLAY, user_id=7, camera_id=3,
                              school_id=1, privileged=False, expires=NOW + 60).token
    with pytest.raises(TokenError, match="bad_signature"):
        media.verify_token(KEY, other, now=NOW, kind=TokenKind.PLAY)


def test_the_purpose_key_differs_from_the_secret_and_from_other_purposes():
    assert media.derive_key("test-secret-key-that-is-long-enough-0123456789", "files") != KEY
    assert len(KEY) == 32


def test_expiry_is_checked_unless_the_caller_continues_a_session():
    token = _token(expires=NOW - 1).token
    with pytest.raises(TokenError, match="expired"):
        media.verify_token(KEY, token, now=NOW, kind=TokenKind.PLAY)
    assert media.verify_token(KEY, token, now=NOW, kind=TokenKind.PLAY, check_expiry=False).camera_id == 3
    assert media.verify_token(KEY, _token(expires=NOW).token, now=NOW, kind=TokenKind.PLAY).expires == NOW


def test_a_relay_token_is_not_a_play_token_and_back():
    relay = media.issue_token(KEY, TokenKind.RELAY, user_id=0, camera_id=3, school_id=1, privileged=True,
                              expires=NOW + 60).token
    with pytest.raises(TokenError, match="wrong_kind"):
        media.verify_token(KEY, relay, now=NOW, kind=TokenKind.PLAY)
    with pytest.raises(TokenError, match="wrong_kind"):
        media.verify_token(KEY, _token().token, now=NOW, kind=TokenKind.RELAY)


def test_publish_keys_are_stored_as_hashes_and_compared_exactly():
    key = media.new_publish_key()
    stored = media.hash_publish_key(key)
    assert len(key) == 32 and stored != key and len(stored) == 64
    assert media.publish_key_matches(key, stored) is True
    assert media.publish_key_matches(key + "x", stored) is False
    assert media.publish_key_matches(key, None) is False
    assert media.publish_key_matches(None, stored) is False


def test_stream_names():
    assert media.stream_name(12) == "cam-12"
    assert media.camera_of_stream("cam-12") == 12
    for name in ("cam-0", "cam-012", "cam-12x", "cam-", "12", "", None, "cam-12/../1"):
        assert media.camera_of_stream(name) is None


def test_play_urls_for_nginx_carry_the_token_in_the_hls_path():
    urls = media.play_urls("nginx-rtmp", "rtmp://m.example.cn/live/", "https://m.example.cn/hls", 5, "TOK")
    assert urls == {"rtmp": "rtmp://m.example.cn/live/cam-5?token=TOK",
                    "hls": "https://m.example.cn/hls/TOK/cam-5.m3u8"}


def test_play_urls_for_zlmediakit_carry_the_token_in_the_query():
    urls = media.play_urls("zlmediakit", "rtmp://z/live", "https://z/live", 5, "TOK")
    assert urls["hls"] == "https://z/live/cam-5/hls.m3u8?token=TOK"


def test_hls_uris_are_parsed_strictly():
    token = _token().token
    playlist = media.parse_hls_uri(f"/hls/{token}/cam-3.m3u8")
    assert (playlist.token, playlist.camera_id) == (token, 3)
    segment = media.parse_hls_uri(f"/hls/{token}/cam-3-17.ts?x=1")
    assert (segment.token, segment.camera_id) == (token, 3)
    for uri in (f"/hls/{token}/cam-3.mp4", f"/hls/{token}/../cam-3.m3u8", "/hls/short/cam-3.m3u8",
                f"/other/{token}/cam-3.m3u8", "", None):
        assert media.parse_hls_uri(uri) is None


def test_nginx_rtmp_notifications_are_normalised():
    # Exactly what nginx-rtmp 1.2 posts for `ffprobe rtmp://…/live/cam-1?token=tok123` (captured on loopback).
    form = {"app": "live", "flashver": "LNX 9,0,124,2", "swfurl": "", "tcurl": "rtmp://127.0.0.1:19350/live",
            "pageurl": "", "addr": "127.0.0.1", "clientid": "4", "call": "play", "name": "cam-1",
            "start": "4294965296", "duration": "0", "reset": "0", "token": "tok123", "secret": "s"}
    event = media.parse_nginx_rtmp(form)
    assert (event.call, event.camera_id, event.client_id, event.addr, event.args) == (
        HookCall.PLAY, 1, "4", "127.0.0.1", {"token": "tok123"})
    done = media.parse_nginx_rtmp({**form, "call": "done"})
    assert done.call is HookCall.PLAY_DONE
    record = media.parse_nginx_rtmp({"app": "live", "call": "record_done", "name": "cam-1", "recorder": "",
                                     "path": "/rec/cam-1-1795316059.flv", "key": "k"})
    assert (record.call, record.path, record.key) == (HookCall.RECORD_DONE, "/rec/cam-1-1795316059.flv", "k")
    assert media.parse_nginx_rtmp({"call": "update_publish", "name": "cam-2"}).call is HookCall.UPDATE_PUBLISH
    with pytest.raises(media.PayloadError):
        media.parse_nginx_rtmp({"call": "connect"})


def test_zlmediakit_hooks_are_normalised():
    # Field names as ZLMediaKit's web hook documentation gives them.
    play = media.parse_zlmediakit("on_play", {"app": "live", "stream": "cam-2", "params": "token=abc&x=1",
                                               "ip": "10.0.0.9", "id": "140", "schema": "hls"})
    assert (play.call, play.camera_id, play.token, play.addr, play.client_id, play.schema) == (
        HookCall.PLAY, 2, "abc", "10.0.0.9", "140", "hls")
    publish = media.parse_zlmediakit("on_publish", {"app": "live", "stream": "cam-2", "params": "key=K"})
    assert (publish.call, publish.key) == (HookCall.PUBLISH, "K")
    flow = media.parse_zlmediakit("on_flow_report", {"app": "live", "stream": "cam-2", "params": "token=abc",
                                                      "player": True, "id": "140"})
    assert flow.call is HookCall.PLAY_DONE
    assert media.parse_zlmediakit("on_flow_report", {"player": False, "stream": "cam-2"}) is None
    gone = media.parse_zlmediakit("on_stream_changed", {"regist": False, "schema": "rtmp", "app": "live",
                                                         "stream": "cam-2"})
    assert gone.call is HookCall.PUBLISH_DONE
    assert media.parse_zlmediakit("on_stream_changed", {"regist": False, "schema": "hls", "stream": "cam-2"}) is None
    assert media.parse_zlmediakit("on_stream_changed", {"regist": True, "schema": "rtmp", "stream": "cam-2"}) is None
    record = media.parse_zlmediakit("on_record_mp4", {"app": "live", "stream": "cam-2", "file_path": "/r/a.mp4",
                                                       "start_time": 1700000000, "time_len": 60.5,
                                                       "file_size": 1234})
    assert (record.path, record.started_at, record.duration, record.size) == ("/r/a.mp4", 1700000000.0, 60.5, 1234)
    with pytest.raises(media.PayloadError):
        media.parse_zlmediakit("on_record_mp4", {"stream": "cam-2"})
    with pytest.raises(media.PayloadError):
        media.parse_zlmediakit("on_shell_login", {})
    assert media.zlmediakit_answer(True) == {"code": 0, "msg": "success"}
    assert media.zlmediakit_answer(False, "token_expired") == {"code": -1, "msg": "token_expired"}


def test_redacted_urls_keep_only_scheme_and_host():
    assert media.redact_url("rtsp://admin:p%40ss@10.1.2.3:554/Streaming/Channels/101") == "rtsp://10.1.2.3/…"
    assert media.redact_url("rtmp://media:1935/live") == "rtmp://media/…"


def test_media_config_rendering_refuses_missing_values():
    assert media.render_media_config("a ${X} $y ${Y}", {"X": "1", "Y": "2"}) == "a 1 $y 2"
    with pytest.raises(KeyError, match="Z"):
        media.render_media_config("${Z}", {})


def test_log_descriptions_name_arguments_but_not_their_values():
    event = media.parse_nginx_rtmp({"call": "play", "name": "cam-1", "token": "SECRET-TOKEN"})
    assert "SECRET-TOKEN" not in media.dumps_event(event)
    assert '"args": ["token"]' in media.dumps_event(event)


def test_hook_forms_are_decoded_like_a_browser_form():
    assert media.parse_form(b"a=1&b=x%20y+z&token=L1.p.1&a=2&&empty=&flag") == {
        "a": "1", "b": "x y z", "token": "L1.p.1", "empty": "", "flag": ""}
    assert media.parse_form("name=cam-1&tcurl=rtmp%3A%2F%2F127.0.0.1%3A1935%2Flive") == {
        "name": "cam-1", "tcurl": "rtmp://127.0.0.1:1935/live"}
    assert media.parse_form(b"") == {}
