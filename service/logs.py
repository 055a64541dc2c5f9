"""Logging for every entry point (serve, worker, CLI): plain lines, or JSON lines for collectors.

`configure` installs one handler on the root logger, on stderr; calling it again replaces it.
Lines written while an HTTP request is handled carry its request id (set by the API's request-id
middleware in `REQUEST_ID`), so a 5xx's id leads to its traceback. Extra fields given with
`extra={...}` (e.g. `delivery_id`, `message_id`, `loop`) appear in JSON lines as keys.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("adviestraject_request_id", default=None)

LogFormat = Literal["plain", "json"]

# attributes every LogRecord has; anything else was passed with `extra=`
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
_STANDARD.add("color_message")  # uvicorn's copy of the message with terminal colours
# every trigger, every revision read, every step of a PDF: not service news
_QUIET = ("transitions", "alembic", "weasyprint", "fontTools")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            first, sep, rest = line.partition("\n")
            line = f"{first} [request {request_id}]{sep}{rest}"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so a second `configure` replaces it and leaves others' handlers alone."""


def configure(log_format: LogFormat = "plain", level: str = "INFO") -> None:
    handler = _Handler(sys.stderr)
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
