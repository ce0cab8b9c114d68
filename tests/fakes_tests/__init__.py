"""Tests of the fakes in tests/fakes."""
