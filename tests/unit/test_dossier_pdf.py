"""`render_pdf`: our HTML with the print stylesheet becomes an A4 PDF whose text reads back with
`pdftotext`; nothing is fetched over the network, and no file outside the static directory is
read, whatever URL ends up in the HTML."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from service.reports.pdf import render_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    file = tmp_path / "out.pdf"
    file.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(file), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def page_size(pdf: bytes, tmp_path: Path) -> str:
    file = tmp_path / "size.pdf"
    file.write_bytes(pdf)
    done = subprocess.run(["pdfinfo", str(file)], capture_output=True, check=True, text=True)
    return next(line for line in done.stdout.splitlines() if line.startswith("Page size"))


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request made to it."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b'body::after { content: "VAN HET NET"; }')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    server.server_close()


def test_the_print_stylesheet_makes_an_a4_pdf_with_page_numbers_and_the_running_line(
    tmp_path: Path,
) -> None:
    html = (
        '<html lang="nl"><head><meta charset="utf-8"><link rel="stylesheet" href="print.css">'
        '</head><body><p class="d-runline">Hash-keten geverifieerd tot en met positie 7</p>'
        "<h1>Dossier van Zoë Ünal</h1>" + "<p>regel</p>" * 120 + "</body></html>"
    )
    pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert "595.276 x 841.89" in page_size(pdf, tmp_path)  # A4 in points
    text = text_of(pdf, tmp_path)
    assert "Dossier van Zoë Ünal" in text
    pages = text.count("\f")
    assert pages > 1
    for number in range(1, pages + 1):
        assert f"Pagina {number} van {pages}" in text
    # at the top of the first page and in every page's footer
    assert text.count("Hash-keten geverifieerd tot en met positie 7") == pages + 1


def test_nothing_is_fetched_from_the_network_or_read_outside_the_static_files(
    tmp_path: Path, web_server: tuple[str, list[str]]
) -> None:
    url, asked = web_server
    outside = tmp_path / "buiten.css"
    outside.write_text('body::before { content: "BUITEN GELEZEN"; }')
    html = (
        f'<html><head><link rel="stylesheet" href="{url}/net.css">'
        f'<link rel="stylesheet" href="{outside.as_uri()}">'
        '<link rel="stylesheet" href="../../../etc/passwd"></head>'
        f'<body><img src="{url}/plaatje.png" alt="x"><p>Inhoud</p></body></html>'
    )
    text = text_of(render_pdf(html), tmp_path)
    assert "Inhoud" in text
    assert asked == []
    assert "VAN HET NET" not in text
    assert "BUITEN GELEZEN" not in text
