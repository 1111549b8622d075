#!/bin/sh
# PostgreSQL for the stack. On an empty $PGDATA: initdb, then the role and database named by
# POSTGRES_USER / POSTGRES_DB with POSTGRES_PASSWORD (password login from the network only).
set -eu
user=${POSTGRES_USER:-contact_center}
db=${POSTGRES_DB:-contact_center}
password=${POSTGRES_PASSWORD:-}
case "$user$db" in *[!a-z0-9_]*) echo "POSTGRES_USER/POSTGRES_DB: a-z, 0-9, _ only" >&2; exit 64 ;; esac
case "$password" in ''|*[!A-Za-z0-9_.~-]*)
  echo "POSTGRES_PASSWORD must be set, of A-Za-z0-9_.~- (it goes into a URL)" >&2; exit 64 ;;
esac
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --username=postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  printf '%s\n' "listen_addresses = '*'" "password_encryption = scram-sha-256" \
    >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  postgres --single -j -D "$PGDATA" postgres >/dev/null <<SQL
CREATE ROLE $user LOGIN PASSWORD '$password';
SQL
  postgres --single -j -D "$PGDATA" postgres >/dev/null <<SQL
CREATE DATABASE $db OWNER $user;
SQL
  echo "postgres-server: created the cluster, role $user and database $db"
fi
exec postgres -D "$PGDATA"
