"""Risk: classes of violation kinds per region, yellow and red cards, and camera uptime as a regulated fact."""
