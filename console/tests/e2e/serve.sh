#!/bin/sh
# The real API for the end-to-end tests: a fresh SQLite database, migrated and seeded with `flask seed-demo`,
# served by gunicorn on loopback in development mode (dev-login on), with the WeChat fake (tests/fakes) for the
# mini-program codes of scan-to-log-in. Started (and stopped) by playwright.config.ts.
set -eu
CONSOLE=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$(dirname "$CONSOLE")
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
WORK="$CONSOLE/artifacts/api"
rm -rf "$WORK" && mkdir -p "$WORK/instance"
export APP_ENV=development FLASK_APP=backend.app:create_app PYTHONPATH="$ROOT" INSTANCE_PATH="$WORK/instance" \
  DATABASE_URL="sqlite:///$WORK/console-e2e.db" LOG_LEVEL=WARNING \
  RATELIMIT_LOGIN="600 per minute"  # every log-in page asks for a scan ticket; the tests open many
cd "$ROOT"
"$PY" -m flask db upgrade >"$WORK/migrate.log" 2>&1
"$PY" -m flask seed-demo >"$WORK/seed.log" 2>&1
# A second inspector of the demo county: a joint inspection needs two.
"$PY" -m flask grant-regulator --openid demo-inspector --region-code 330106 >>"$WORK/seed.log" 2>&1
# A regulator of the whole province: the overview's drill-down by name, province → city → county → school.
"$PY" -m flask grant-regulator --openid demo-province --region-code 330000 >>"$WORK/seed.log" 2>&1
WECHAT_PORT=${CONSOLE_E2E_WECHAT_PORT:-5188}
export WECHAT_API_BASE="http://127.0.0.1:$WECHAT_PORT/" WECHAT_APPID=wx_console_e2e WECHAT_SECRET=console-e2e-secret
"$PY" -m tests.fakes.wechat_server --host 127.0.0.1 --port "$WECHAT_PORT" --appid "$WECHAT_APPID" \
  --secret "$WECHAT_SECRET" >"$WORK/wechat.log" 2>&1 &
FAKE=$!
"$PY" -m gunicorn --workers 1 --threads 4 --bind "127.0.0.1:${CONSOLE_E2E_PORT:-5187}" \
  --error-logfile "$WORK/api.log" "backend.app:create_app()" &
API=$!
trap 'kill $API $FAKE 2>/dev/null' EXIT INT TERM
wait $API
