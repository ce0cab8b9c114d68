"""What the detection workers persist: per-camera monitor state, camera health changes, scheduler lease
and job runs."""
