"""Helpers of the reliability tests (faults, fuzzing, security): API drivers and scenario setup."""
