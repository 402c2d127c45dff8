"""One workflow, both registry backends, the same assertions."""
