#!/bin/sh
# Prestart: wait until the database accepts the migrations, run them, then start the given command.
set -eu
tries=${ADVIESTRAJECT_MIGRATE_TRIES:-30}
i=1
until adviestraject migrate; do
    if [ "$i" -ge "$tries" ]; then
        echo "entrypoint: the database did not become ready after $tries tries" >&2
        exit 1
    fi
    echo "entrypoint: database not ready yet ($i/$tries), retrying in 2 s" >&2
    i=$((i + 1))
    sleep 2
done
exec "$@"
