#!/usr/bin/env bash
# Installs the Debian packages a target needs, so the README's two commands work on a fresh machine.
#   scripts/system_packages.sh demo|test
# As root it runs apt-get; otherwise it stops at once and prints the exact command to run.
# One list per target; `make demo` and `make test` call this before anything else.
set -euo pipefail

# What both need: the demo video (opencv-doc), the media server (nginx with the RTMP module, ffmpeg),
# envsubst for the media server's config, the libraries opencv-python loads; espeak-ng (with its Mandarin voice
# cmn) synthesises the canned talk prompts (backend/live/speech.py); a CJK font (fonts-wqy-zenhei) draws the
# Chinese labels on evidence pictures (workers/camera/detection/evidence.py); Node.js for the mini-program.
common=(opencv-doc ffmpeg nginx-light libnginx-mod-rtmp gettext-base libgl1 libglib2.0-0 espeak-ng fonts-wqy-zenhei)
# Tests only: the capture tests' RTSP camera (tests/fakes/rtsp_server.py, run by /usr/bin/python3) uses
# GStreamer's gst-rtsp-server through PyGObject, with filesrc (core), matroskademux and rtph264pay (-good),
# h264parse (-bad); -base is what those build on. Chromium: the browser tests of /docs (Playwright for Python)
# and of the web console (Playwright), never a browser download (the common CJK font makes screenshots legible).
test_only=(python3 python3-gi gir1.2-gst-rtsp-server-1.0
           gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
           chromium)

case "${1:-}" in
  demo) wanted=("${common[@]}") ;;
  test) wanted=("${common[@]}" "${test_only[@]}") ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$package")
done
# Node.js may come from elsewhere (nodesource, nvm): what counts is node and npm on PATH.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Run:  sudo apt-get update && sudo $command" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
