#!/usr/bin/env bash
# Before/after in one run: bench.store at BASE (a git worktree) and at the work tree, each against
# the same anchor figures (shared/bench/), then the ratios of both. For "no ratio worse by more
# than 10 %" a single run is noisy on this VM (+-30 %): use RUNS="1 2 3".
#   BASE=4d45240 N=3000 bash bench/compare_ab.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:?set BASE to the commit to compare with}
N=${N:-5000}
RUNS=${RUNS:-1}
SHARED=${SHARED:-../shared/bench}
OUT=bench/results/ab-$(date +%Y%m%dT%H%M%S)
WT=$(mktemp -d)/base
mkdir -p "$OUT/base" "$OUT/new"
make install >/dev/null
git worktree add -f --detach "$WT" "$BASE" >/dev/null
trap 'git worktree remove --force "$WT"' EXIT
if [ ! -x .anchor-venv/bin/python ]; then
    python3 -m venv .anchor-venv
    .anchor-venv/bin/pip install -q 'eventsourcing[postgres]' 'psycopg[binary,pool]'
fi
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGDATABASE=bench
psql -h "$PGHOST" -U postgres -d postgres -tAc "select 1 from pg_database where datname='bench'" | grep -q 1 \
    || psql -h "$PGHOST" -U postgres -d postgres -qc "create database bench"
small="--n $N --reads $((N / 4)) --cmds $((N / 10))"
PY=$PWD/.venv/bin/python
for run in $RUNS; do
    for anchor in "anchor_eventsourcing.py --backend postgres:es-postgres" \
                  "anchor_raw_pg.py:raw-pg" \
                  "anchor_eventsourcing.py --backend sqlite-file:es-sqlite"; do
        # shellcheck disable=SC2086
        .anchor-venv/bin/python "$SHARED"/${anchor%%:*} $small --run "$run" > "$OUT/base/${anchor##*:}-$run.jsonl"
        cp "$OUT/base/${anchor##*:}-$run.jsonl" "$OUT/new/"
    done
    for backend in postgres sqlite-file; do
        name=ours-${backend%-file}-$run.jsonl
        # shellcheck disable=SC2086
        (cd "$WT" && "$PY" -m bench.store --backend "$backend" $small --run "$run") > "$OUT/base/$name"
        # shellcheck disable=SC2086
        "$PY" -m bench.store --backend "$backend" $small --run "$run" > "$OUT/new/$name"
    done
done
echo "== $BASE"; "$PY" -m bench.compare "$OUT/base"
echo "== work tree"; "$PY" -m bench.compare "$OUT/new"
