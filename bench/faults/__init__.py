"""Fault probes (issue 12): does the service lose, double or 500 anything when its processes or its
database fail?

`.venv/bin/python -m bench.faults [--backend postgres|sqlite] [--only NAME[,NAME]] [--keep]`
runs, per backend, against a PRIVATE PostgreSQL cluster (initdb into a temp dir as `postgres`, its
own port on 127.0.0.1; the shared server on 5432 is never touched) or SQLite files in a temp dir,
with the demo school, an IB account and pupils made through the CLI and the API:

- serve-kill      kill -9 `serve --workers 2` 3x under 12 clients (the first time only the master),
                  restart; every acknowledged command reconciled by request id: 0 lost, 0 doubled.
- worker-kill     `adviestraject worker` killed after its 1st and 2nd batch commit, restarted:
                  every delivered result stored exactly once.
- import-kill     `import results` killed half-way: nothing or everything; rerun stores each once.
- pg-crash        kill -9 the postmaster under load, restart: 503 + Retry-After meanwhile (no 500,
                  no dropped connection, no request longer than the service's database timeouts,
                  set to 2 s connect and 4 s statement, + 3 s), 2xx after without restarting the
                  service, the worker alive and processing new deliveries.
- pg-stop         pg_ctl stop -m fast under load, start again: as pg-crash.
- pg-freeze       SIGSTOP the postmaster and its backends for 14 s under load, SIGCONT: as pg-crash.
- pg-restart      pg_ctl restart -m fast while idle: the first requests after it do not fail.
- race-bulk       one bulk enrolment with one Idempotency-Key sent 6x at once (3 rounds): no 5xx,
                  one set of pupils in the register and the log.
- race-first-key  the first free-text command of a pupil raced 60x (3 pupils): no 5xx, 0 lost.
- disk-full       SQLite on a 24 MiB tmpfs filled up: non-500 problem+json answers, /health not
                  200, `import pupils` exit 2 with one line, integrity and `verify` ok; space
                  again -> 2xx, /health 200, import works, without a restart.

Prints one row of figures per probe, then what failed and where the server's log says it came
from; exits 1 if any probe failed. Everything it starts (processes, cluster, mount) is ended at
the end, also on failure or Ctrl-C.
"""
