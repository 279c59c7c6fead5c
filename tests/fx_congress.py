"""Fixtures for the congress area."""
