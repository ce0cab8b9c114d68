"""Live kitchen view: play tokens and policy, media-server hooks, view sessions, recordings and snapshots."""
