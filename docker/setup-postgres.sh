#!/bin/sh
# Temporal's two PostgreSQL databases, created and migrated to the schema of the temporal-sql-tool
# that runs this (the admin-tools image of TEMPORAL_ADMINTOOLS_VERSION in compose; the tool built
# from go.temporal.io/server of the same release in the production-stack test). The schemas are
# the ones embedded in the tool, so no schema directory is needed. Safe to run again: an existing
# database is kept, setup-schema only adds the version table, update-schema applies what is missing.
#
# Environment: POSTGRES_SEEDS (host), DB_PORT (default 5432), POSTGRES_USER, SQL_PASSWORD (read by
# temporal-sql-tool itself, so it never appears on a command line).
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER to the PostgreSQL user Temporal uses}"
: "${SQL_PASSWORD:?set SQL_PASSWORD to that user password}"

tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  case $db in temporal) schema=postgresql/v12/temporal ;; *) schema=postgresql/v12/visibility ;; esac
  # On a second run the database exists; whatever create-database says then, a real fault (auth,
  # network) makes the next step fail with its own message.
  tool --db "$db" create-database 2>/dev/null || echo "setup-postgres: database $db not created (it exists, or the next step says why)"
  tool --db "$db" setup-schema -v 0.0
  tool --db "$db" update-schema --schema-name "$schema"
done
echo "setup-postgres: databases temporal and temporal_visibility are at the schema of $(temporal-sql-tool --version)"
