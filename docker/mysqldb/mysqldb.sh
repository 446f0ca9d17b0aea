#!/bin/sh
# Starts Debian's MariaDB with bookinfo's ratings database: `test.ratings` holding reviews 1 and 2 (5 and 4 stars),
# and root allowed from anywhere with MYSQL_ROOT_PASSWORD (mysql_native_password). The entrypoint of the mysqldb
# image, and what scripts/run-local.sh --with-mysql and the tests start, so all three run the same database.
#   MYSQL_ROOT_PASSWORD  required; never printed
#   MYSQLDB_DATA_DIR     data directory, created on first start (/var/lib/mysql)
#   MYSQLDB_RUN_DIR      socket, pid and temporary files (/run/mysqld, where the mysql client looks for the socket)
#   MYSQLDB_PORT         TCP port (3306)
#   MYSQLDB_BIND_ADDRESS address to listen on (empty: every address)
# Arguments go to mariadbd. Istio's manifest passes MySQL's --default-authentication-plugin mysql_native_password,
# which is MariaDB's default already: it is accepted and dropped; any other plugin stops with exit 2.
set -eu
DATA=${MYSQLDB_DATA_DIR:-/var/lib/mysql}
RUN=${MYSQLDB_RUN_DIR:-/run/mysqld}
PORT=${MYSQLDB_PORT:-3306}
BIND=${MYSQLDB_BIND_ADDRESS:-}
SHARE=${MYSQLDB_SHARE_DIR:-/usr/share/mysql}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}

config_error() { echo "configuration error: $*" >&2; exit 2; }
[ -n "${MYSQL_ROOT_PASSWORD:-}" ] || config_error "MYSQL_ROOT_PASSWORD must be set (root's password, which ratings v2 logs in with)"
case $PORT in '' | *[!0-9]*) config_error "MYSQLDB_PORT must be a port number (got \"$PORT\")" ;; esac

# Drop MySQL's --default-authentication-plugin mysql_native_password; keep every other argument.
count=$#
plugin_next=false
while [ "$count" -gt 0 ]; do
    arg=$1; shift; count=$((count - 1))
    if $plugin_next; then
        plugin_next=false
        [ "$arg" = mysql_native_password ] || config_error "--default-authentication-plugin must be mysql_native_password (got \"$arg\")"
        continue
    fi
    case $arg in
        --default-authentication-plugin) plugin_next=true ;;
        --default-authentication-plugin=mysql_native_password) ;;
        --default-authentication-plugin=*) config_error "--default-authentication-plugin must be mysql_native_password (got \"${arg#*=}\")" ;;
        *) set -- "$@" "$arg" ;;
    esac
done

mkdir -p "$DATA" "$RUN"
as_root=""
[ "$(id -u 2>/dev/null || echo 1)" = 0 ] && as_root=--user=root

if [ ! -d "$DATA/mysql" ]; then
    echo "mysqldb: creating the system tables in $DATA" >&2
    { printf 'CREATE DATABASE IF NOT EXISTS mysql;\nUSE mysql;\nSET @auth_root_socket=NULL;\n'
      cat "$SHARE/mysql_system_tables.sql" "$SHARE/mysql_performance_tables.sql" "$SHARE/mysql_system_tables_data.sql"
    } | "$MARIADBD" --no-defaults $as_root --bootstrap --datadir="$DATA" --tmpdir="$RUN" --log-warnings=0 --skip-log-bin \
        --enforce-storage-engine="" --max_allowed_packet=8M >/dev/null
fi

# The statements every start runs: the ratings data when missing, and root's password (which may have changed).
quoted=$(printf '%s' "$MYSQL_ROOT_PASSWORD" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g")
init=$RUN/mysqldb-init.sql
umask 077
cat >"$init" <<SQL
CREATE DATABASE IF NOT EXISTS test;
CREATE TABLE IF NOT EXISTS test.ratings (ReviewID INT NOT NULL, Rating INT, PRIMARY KEY (ReviewID));
INSERT IGNORE INTO test.ratings (ReviewID, Rating) VALUES (1, 5), (2, 4);
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '%');
FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS 'root'@'%';
ALTER USER 'root'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$quoted');
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$quoted');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
set -- --no-defaults $as_root --datadir="$DATA" --port="$PORT" --socket="$RUN/mysqld.sock" \
    --pid-file="$RUN/mysqld.pid" --tmpdir="$RUN" --init-file="$init" --skip-name-resolve --skip-log-bin "$@"
[ -n "$BIND" ] && set -- "$@" --bind-address="$BIND"
exec "$MARIADBD" "$@"
