"""Run the fault probes and print their figures; exit 1 when a probe shows loss, doubling, a 5xx
where none is allowed, or another broken promise (see bench/faults/__init__.py).

Run (as root: the private cluster runs as `postgres`, the full disk is a tmpfs):
  .venv/bin/python -m bench.faults [--backend postgres|sqlite] [--only NAME[,NAME]]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.faults.infra import Cleanup, temporary_root
from bench.faults.probes import PROBES, Env, Options, Row

DISK_MB = 24


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_backend(
    backend: str, names: list[str], root: Path, options: Options, repeat: int = 1
) -> list[Row]:
    rows: list[Row] = []
    wanted = [n for n in names if backend in PROBES[n][1]]
    shared = [n for n in wanted if n != "disk-full"]
    if shared:
        cleanup = Cleanup()
        try:
            started = time.monotonic()
            env = Env(backend, root / backend, cleanup, options)
            print(f"[{backend}] setup {time.monotonic() - started:.1f} s", file=sys.stderr)
            for name in [n for n in shared for _ in range(repeat)]:
                rows.append(_one(name, backend, lambda n=name: PROBES[n][0](env)))
        except KeyboardInterrupt:
            raise
        except Exception as error:
            rows.append(_error_row("setup", backend, error))
        finally:
            cleanup.run()
    if "disk-full" in wanted:
        cleanup = Cleanup()
        try:
            rows.append(
                _one(
                    "disk-full",
                    backend,
                    lambda: PROBES["disk-full"][0](
                        Env(backend, root / "disk", cleanup, options, disk_mb=DISK_MB)
                    ),
                )
            )
        finally:
            cleanup.run()
    return rows


def _one(name: str, backend: str, probe: object) -> Row:
    started = time.monotonic()
    print(f"[{backend}] {name} ...", file=sys.stderr, flush=True)
    try:
        row: Row = probe()  # type: ignore[operator]
    except KeyboardInterrupt:
        raise
    except Exception as error:
        row = _error_row(name, backend, error)
    row.seconds = time.monotonic() - started
    print(f"[{backend}] {name}: {row.verdict} ({row.seconds:.0f} s)", file=sys.stderr, flush=True)
    return row


def _error_row(name: str, backend: str, error: BaseException) -> Row:
    where = traceback.extract_tb(error.__traceback__)[-1]
    return Row(
        name,
        backend,
        failures=[
            f"probe error: {type(error).__name__}: {error} ({where.filename}:{where.lineno})"
        ],
    )


def table(rows: list[Row]) -> str:
    lines = [f"{'probe':<15} {'backend':<9} {'verdict':<7} {'s':>4}  figures"]
    for row in rows:
        figures = "  ".join(f"{k}={v}" for k, v in row.figures.items())
        lines.append(
            f"{row.probe:<15} {row.backend:<9} {row.verdict:<7} {row.seconds:>4.0f}  {figures}"
        )
    details = [
        f"  {row.probe}/{row.backend}: {'FAIL' if kind == 'failures' else 'note'}: {text}"
        for row in rows
        for kind in ("failures", "notes")
        for text in getattr(row, kind)
    ]
    if details:
        lines += ["", "what failed (and notes):", *details]
    return "\n".join(lines)


def snapshot(ref: str, into: Path) -> Path:
    """The service's files at `ref`, for the service's processes (PYTHONPATH comes before the
    editable install of the work tree)."""
    into.mkdir(parents=True)
    repository = Path(__file__).resolve().parents[2]
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", ref], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    print(f"service from {ref} ({into})", file=sys.stderr)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--only", help=f"comma-separated probes: {', '.join(PROBES)}")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument(
        "--hang-limit", type=float, help="seconds (default: the service's DB timeouts + 3)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument("--repeat", type=int, default=1, help="run each probe N times")
    parser.add_argument(
        "--ref",
        help="run the service from this commit (git archive) instead of the work tree, e.g. HEAD",
    )
    args = parser.parse_args()
    names = list(PROBES)
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in PROBES]
        if unknown:
            parser.error(f"unknown probe(s) {', '.join(unknown)}; known: {', '.join(PROBES)}")
    options = Options(clients=args.clients)
    if args.hang_limit:
        options.hang_limit = args.hang_limit
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    signal.signal(signal.SIGTERM, _interrupted)
    rows: list[Row] = []
    started = time.monotonic()
    with temporary_root(args.keep) as root:
        if args.ref:
            os.environ["PYTHONPATH"] = str(snapshot(args.ref, root / "source"))
        for backend in backends:
            rows += run_backend(backend, names, root, options, args.repeat)
    print(table(rows))
    print(f"\n{len(rows)} probes in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if any(row.failures for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
