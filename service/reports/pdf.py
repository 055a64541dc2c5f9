"""PDF from the service's own HTML with WeasyPrint: the pupil dossier and the school report.

The HTML is one of our templates (every value escaped); its stylesheet is a print stylesheet
(`service/web/static/print.css`: A4, a running header and footer with page numbers and the
integrity line). Nothing is fetched from the network: only `file:` and `data:` URLs are read,
and with a `base_url` of a directory only files below that directory — a value that slipped
into the HTML as a URL can never make the server fetch something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher, URLFetchingError  # type: ignore[import-untyped]

STATIC = Path(__file__).parents[1] / "web" / "static"
STATIC_URL = STATIC.resolve().as_uri() + "/"
"""The base URL of the web's static files: `print.css` in a template resolves against it."""


class _LocalOnly(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    def __init__(self, root: Path | None) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self._root = root

    def fetch(self, url: str, headers: Any = None) -> Any:
        parsed = urlparse(url)
        if parsed.scheme == "file" and self._root is not None:
            path = Path(unquote(parsed.path)).resolve()
            if not path.is_relative_to(self._root):
                raise URLFetchingError(f"not below {self._root}: {url}")
        return super().fetch(url, headers)


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of `html`; relative URLs (the stylesheet) resolve against `base_url` (default:
    the static files), and only files below it are read."""
    base = base_url or STATIC_URL
    parsed = urlparse(base)
    root = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
    document = HTML(string=html, base_url=base, url_fetcher=_LocalOnly(root))
    pdf: bytes = document.write_pdf()
    return pdf
