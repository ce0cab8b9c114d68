"""A real RTSP server on loopback for the capture tests: GStreamer's gst-rtsp-server (Debian
``gir1.2-gst-rtsp-server-1.0``) serving an H.264 file over RTSP/RTP, with basic or digest authentication.

This is not a fake of the protocol: gst-rtsp-server is the RTSP server library many NVRs and IP cameras are
built on, and it speaks RTSP 1.0 (OPTIONS, DESCRIBE with SDP, SETUP with RTP over the RTSP TCP connection,
PLAY, TEARDOWN) and answers 401 with a ``WWW-Authenticate`` challenge it checks itself. The picture is the
project's demo video (opencv-doc's vtest.avi) encoded once to H.264 by ffmpeg (``--video``); the media is not
shared, so every client gets its own pipeline playing the file from the start in real time, as a camera
that has just been connected to would.

It needs PyGObject and the GStreamer typelibs, which Debian ships for its own Python only, so it runs as a
subprocess under ``/usr/bin/python3`` (the test virtualenv does not see ``gi``), never imported by a test.
Protocol of the tests with it, on stdout, one line each: ``READY <port>`` once it listens (``--port 0``: the
kernel chooses a free port) and ``CLIENT <n>`` whenever the n-th RTSP connection is accepted, so a test can
count the connections a capture cache really opened, and ``SETUP <Transport header>`` for every SETUP a
client asks for (before the server decides), so a test sees which RTP transport the client asked for. It
stops on SIGTERM or SIGINT.

Usage: ``/usr/bin/python3 tests/fakes/rtsp_server.py --video vtest.mkv [--port 0] [--mount /cam]
[--user U --password P --auth digest|basic]``.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def say(line: str) -> None:
    """One protocol line to the test on stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pipeline(video: str) -> str:
    """The launch line of the media: the file's H.264 track, parsed and packed into RTP."""
    location = video.replace("\\", "\\\\").replace('"', '\\"')
    return (f'( filesrc location="{location}" ! matroskademux ! h264parse config-interval=-1 '
            f"! rtph264pay name=pay0 pt=96 config-interval=-1 )")


def build_server(args: argparse.Namespace) -> GstRtspServer.RTSPServer:
    """The server with one mount point; with a user, only that user (basic or digest) may play it."""
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline(args.video))
    factory.set_shared(False)
    # RTP over the RTSP TCP connection only: what the capture code asks for (rtsp_transport tcp).
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        if args.auth == "digest":
            auth.add_digest(args.user, args.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.mount, factory)
    return server


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM / SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", required=True, help="a Matroska file with one H.264 video track")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--user")
    parser.add_argument("--password", default="")
    parser.add_argument("--auth", choices=["digest", "basic"], default="digest")
    args = parser.parse_args(argv)

    Gst.init(None)
    server = build_server(args)
    clients = 0

    def setup_requested(_client: GstRtspServer.RTSPClient,
                        context: GstRtspServer.RTSPContext) -> GstRtsp.RTSPStatusCode:
        result, transport = context.request.get_header(GstRtsp.RTSPHeaderField.TRANSPORT, 0)
        say(f"SETUP {transport if result == GstRtsp.RTSPResult.OK else '-'}")
        return GstRtsp.RTSPStatusCode.OK

    def client_connected(_server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient) -> None:
        nonlocal clients
        clients += 1
        say(f"CLIENT {clients}")
        client.connect("pre-setup-request", setup_requested)

    server.connect("client-connected", client_connected)
    if server.attach(None) == 0:
        print("cannot listen", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    say(f"READY {server.get_bound_port()}")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
