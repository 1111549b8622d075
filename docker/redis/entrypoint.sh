#!/bin/sh
# Redis for the stack: every address of the container (the stack's network only: the port is
# not published), a password (REDIS_PASSWORD), the append-only file in /data, logs to stdout.
set -eu
case "${REDIS_PASSWORD:-}" in ''|*[!A-Za-z0-9_.~-]*)
  echo "REDIS_PASSWORD must be set, of A-Za-z0-9_.~- (it goes into a URL)" >&2; exit 64 ;;
esac
umask 077
conf=$(mktemp /tmp/redis.XXXXXX)
printf '%s\n' "requirepass $REDIS_PASSWORD" "bind 0.0.0.0" "port 6379" "dir /data" \
  "appendonly yes" 'logfile ""' "daemonize no" "protected-mode no" >"$conf"
exec redis-server "$conf"
