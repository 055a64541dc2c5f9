"""Directie's audit: proving that the advice history is complete and untampered."""
