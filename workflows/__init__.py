"""The pure domain of the groep 8 advice trajectory: no I/O, no clock, no database.

Import the standard library and `transitions` only; `service` depends on this package, never the
reverse (a test scans the imports).
"""
