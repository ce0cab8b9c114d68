#!/bin/sh
# The real API for the end-to-end tests: a fresh SQLite database, migrated and seeded with `flask seed-demo`,
# served by gunicorn on loopback in development mode (dev-login on), with the WeChat fake (tests/fakes) for the
# mini-program codes of scan-to-log-in, and the media stack (`flask live media-stack`: Debian's nginx with the
# RTMP module and the relay of the demo cameras) on two free ports, so the video wall plays real HLS. Started
# (and stopped) by playwright.config.ts.
set -eu
CONSOLE=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$(dirname "$CONSOLE")
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
WORK="$CONSOLE/artifacts/api"
rm -rf "$WORK" && mkdir -p "$WORK/instance" "$WORK/recordings" "$CONSOLE/artifacts/media-cache"
# The demo video's H.264 copy is encoded once and kept across runs.
ln -s "$CONSOLE/artifacts/media-cache" "$WORK/instance/media-cache"
PORT=${CONSOLE_E2E_PORT:-5187}
cd "$ROOT"
MEDIA_PORTS=$("$PY" -c 'from backend.live.media_stack import free_port; print(free_port(), free_port(), free_port())')
RTMP_PORT=$(echo "$MEDIA_PORTS" | cut -d' ' -f1)
HLS_PORT=$(echo "$MEDIA_PORTS" | cut -d' ' -f2)
HOOK_PORT=$(echo "$MEDIA_PORTS" | cut -d' ' -f3)
export APP_ENV=development FLASK_APP=backend.app:create_app PYTHONPATH="$ROOT" INSTANCE_PATH="$WORK/instance" \
  DATABASE_URL="sqlite:///$WORK/console-e2e.db" LOG_LEVEL=WARNING \
  RATELIMIT_LOGIN="600 per minute" \
  MEDIA_RTMP_BASE="rtmp://127.0.0.1:$RTMP_PORT/live" MEDIA_HLS_BASE="http://127.0.0.1:$HLS_PORT/hls" \
  MEDIA_HOOK_SECRET="console-e2e-media-hook-secret-0123456789" MEDIA_HOOK_LISTEN="127.0.0.1:$HOOK_PORT" \
  LIVE_RECORD_DIR="$WORK/recordings" \
  STORAGE_LOCAL_PATH="$WORK/storage"
# (RATELIMIT_LOGIN: every log-in page asks for a scan ticket; the tests open many.)
"$PY" -m flask db upgrade >"$WORK/migrate.log" 2>&1
"$PY" -m flask seed-demo >"$WORK/seed.log" 2>&1
# Recorded history for the playback page: short real recordings with a violation marked (flask live seed-recordings).
"$PY" -m flask live seed-recordings >>"$WORK/seed.log" 2>&1
# A second inspector of the demo county: a joint inspection needs two.
"$PY" -m flask grant-regulator --openid demo-inspector --region-code 330106 >>"$WORK/seed.log" 2>&1
# A regulator of the whole province: the overview's drill-down by name, province → city → county → school.
"$PY" -m flask grant-regulator --openid demo-province --region-code 330000 >>"$WORK/seed.log" 2>&1
WECHAT_PORT=${CONSOLE_E2E_WECHAT_PORT:-5188}
export WECHAT_API_BASE="http://127.0.0.1:$WECHAT_PORT/" WECHAT_APPID=wx_console_e2e WECHAT_SECRET=console-e2e-secret
"$PY" -m tests.fakes.wechat_server --host 127.0.0.1 --port "$WECHAT_PORT" --appid "$WECHAT_APPID" \
  --secret "$WECHAT_SECRET" >"$WORK/wechat.log" 2>&1 &
FAKE=$!
# The media server's hooks go to the api worker's hook listener, as in production (backend/live/hook_listener.py).
"$PY" -m gunicorn --workers 1 --threads 8 --bind "127.0.0.1:$PORT" --config python:backend.live.gunicorn_conf \
  --error-logfile "$WORK/api.log" "backend.app:create_app()" &
API=$!
MEDIA=""
trap 'kill $API $FAKE $MEDIA 2>/dev/null' EXIT INT TERM
# The relays publish once the api answers their hooks.
"$PY" -c "from scripts.run_demo import wait_until_up; raise SystemExit(0 if wait_until_up('http://127.0.0.1:$PORT/healthz', 60) else 1)"
"$PY" -m flask live media-stack --rtmp-port "$RTMP_PORT" --http-port "$HLS_PORT" \
  --api-base "http://127.0.0.1:$HOOK_PORT" >"$WORK/media.log" 2>&1 &
MEDIA=$!
wait $API
