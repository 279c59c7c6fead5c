"""Fixtures for the counting area."""
