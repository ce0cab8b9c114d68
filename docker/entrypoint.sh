#!/bin/sh
# Entry point of the one image: api | scheduler | worker | migrate | probe.
set -eu
mode="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$mode" in
  api)
    flask db upgrade
    # %(U)s logs the path without its query string: media-server hooks carry their secret there.
    # The config module starts each worker's media hook listener on MEDIA_HOOK_LISTEN (docs/live.md).
    exec gunicorn --bind "0.0.0.0:${PORT:-8000}" --workers "${WEB_CONCURRENCY:-4}" --threads 4 \
      --access-logfile - --access-logformat '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss' \
      --config python:backend.live.gunicorn_conf "backend.app:create_app()" "$@"
    ;;
  scheduler)
    exec python -m workers scheduler "$@"
    ;;
  worker)
    exec python -m workers worker "$@"
    ;;
  migrate)
    exec flask db upgrade
    ;;
  probe)
    exec python -m backend.probe "$@"
    ;;
  *)
    echo "usage: entrypoint.sh api|scheduler|worker|migrate|probe" >&2
    exit 64
    ;;
esac
