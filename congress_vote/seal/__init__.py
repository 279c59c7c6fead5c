"""The sealed ballot box and the counting committee's key cards (issue 16; docs/sealed-box.md)."""
