"""``make bench``: figures for speed and cost, printed, never asserted in unit tests."""
