"""The application around the domain: store, API, CLI and everything else that does I/O.

Grouped by capability (`store`, `advice`, `schools`, `api`); `bootstrap` is the one place that
wires them together from explicit settings. Nothing here connects to a database at import time.
"""
