"""Helpers shared by several test packages: loopback ports, child processes, and the media tools (nginx-rtmp,
ffmpeg as a camera, the RTSP server) that the live-view and the capture tests both run."""
