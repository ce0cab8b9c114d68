"""The camera pipeline: capture, picture health, detection, per-camera rules and tuning, and one sample through them."""
