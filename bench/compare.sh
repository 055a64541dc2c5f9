#!/usr/bin/env bash
# Runs the anchor benchmarks (shared/bench/) and ours on this machine in one go, then prints the
# ratios against issue 4's targets. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust).
#   bash bench/compare.sh            # N=20000 pupils, as the anchors' defaults
#   N=2000 bash bench/compare.sh     # a quick look
#   RUNS=3 bash bench/compare.sh     # alternate all five scripts 3 times; ratios of the medians
# This VM drifts by +-30 % over minutes, so single runs of different scripts are not comparable.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/bench}
N=${N:-20000}
RUNS=${RUNS:-1}
OUT=bench/results/$(date +%Y%m%dT%H%M%S)
mkdir -p "$OUT"
make install >/dev/null
if [ ! -x .anchor-venv/bin/python ]; then
    python3 -m venv .anchor-venv
    .anchor-venv/bin/pip install -q 'eventsourcing[postgres]' 'psycopg[binary,pool]'
fi
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGDATABASE=bench
if ! psql -h "$PGHOST" -U postgres -d postgres -tAc "select 1 from pg_database where datname='bench'" | grep -q 1; then
    psql -h "$PGHOST" -U postgres -d postgres -qc "create database bench"
fi
small="--n $N --reads $((N / 4)) --cmds $((N / 10))"
echo "results in $OUT" >&2
for run in $(seq 1 "$RUNS"); do
    echo "run $run of $RUNS" >&2
    .anchor-venv/bin/python "$SHARED/anchor_eventsourcing.py" --backend postgres $small --run "$run" > "$OUT/es-postgres-$run.jsonl"
    .venv/bin/python -m bench.store --backend postgres $small --run "$run" > "$OUT/ours-postgres-$run.jsonl"
    .anchor-venv/bin/python "$SHARED/anchor_raw_pg.py" $small --run "$run" > "$OUT/raw-pg-$run.jsonl"
    .anchor-venv/bin/python "$SHARED/anchor_eventsourcing.py" --backend sqlite-file $small --run "$run" > "$OUT/es-sqlite-$run.jsonl"
    .venv/bin/python -m bench.store --backend sqlite-file $small --run "$run" > "$OUT/ours-sqlite-$run.jsonl"
done
.venv/bin/python -m bench.compare "$OUT"
