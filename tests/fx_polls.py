"""Fixtures for the polls area."""
