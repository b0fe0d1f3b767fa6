#!/usr/bin/env bash
# Records assets/demo.log, the log that `pgconn-top --demo` replays, from a REAL PostgreSQL server.
#
# It starts a throwaway cluster (initdb as the `postgres` OS user into a temp dir, its own port and
# socket dir, listening on 127.0.0.1 and ::1 only), runs about 3 minutes of workload against it
# (pools, churn, short cron/psql sessions, a leaking app, failed logins of several kinds, one
# pg_terminate_backend, one fast restart), copies the log while sessions are still open, stops the
# server and removes everything. Then it stretches the timestamps x60 so the 3 minutes read like
# 3 hours of traffic ("hours of traffic compressed").
#
# Usage (as root, or as the postgres user):  assets/record-demo.sh [output]   (default assets/demo.log)
# Environment: PGBIN (default: newest /usr/lib/postgresql/*/bin), PORT (default 55432),
#              DURATION (workload seconds, default 180), STRETCH (default 60).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/demo.log}")
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
PORT=${PORT:-55432}
DURATION=${DURATION:-180}
STRETCH=${STRETCH:-60}
[ -x "$PGBIN/postgres" ] || { echo "record-demo: no PostgreSQL server binaries (set PGBIN)" >&2; exit 1; }
command -v psql >/dev/null || { echo "record-demo: psql not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "record-demo: python3 not found" >&2; exit 1; }

tmp=$(mktemp -d /tmp/pgconn-demo.XXXXXX)
chmod 755 "$tmp"
data=$tmp/data sock=$tmp/sock log=$tmp/server.log stopflag=$tmp/stop
mkdir -p "$sock"
cd "$tmp" # the postgres user may not be able to read the caller's directory

# Run a command as the postgres OS user when we are root (initdb refuses to run as root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown -R postgres: "$tmp"

kill_tree() { # pid: the process and all its descendants
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$c"; done
    kill "$1" 2>/dev/null || true
}
cleanup() {
    touch "$stopflag" 2>/dev/null || true
    for j in $(jobs -p); do kill_tree "$j"; done
    as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "record-demo: initdb in $data (port $PORT)" >&2
as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 || as_pg "$PGBIN/initdb" -D "$data" -U postgres \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null

cat >>"$data/postgresql.conf" <<EOF
# --- pgconn-top demo recording ---
port = $PORT
listen_addresses = '127.0.0.1,::1'
unix_socket_directories = '$sock'
max_connections = 40
password_encryption = 'scram-sha-256'
logging_collector = off
log_connections = on
log_disconnections = on
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
log_checkpoints = off
EOF
cat >"$data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER     ADDRESS        METHOD
local   all       all                     trust
host    all       blocked  127.0.0.1/32   reject
host    all       blocked  ::1/128        reject
host    all       all      127.0.0.1/32   scram-sha-256
host    all       all      ::1/128        scram-sha-256
EOF
as_pg "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null

export PGPORT=$PORT PGCONNECT_TIMEOUT=5 PGSSLMODE=disable
sql() { psql -X -q -h "$sock" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@" >/dev/null; }
sql <<'EOF'
CREATE ROLE app LOGIN PASSWORD 'app-secret';
CREATE ROLE worker LOGIN PASSWORD 'worker-secret';
CREATE ROLE "report user" LOGIN PASSWORD 'report-secret';
CREATE ROLE billing LOGIN PASSWORD 'billing-secret';
CREATE ROLE limited LOGIN PASSWORD 'limited-secret' CONNECTION LIMIT 2;
CREATE ROLE auditor NOLOGIN PASSWORD 'auditor-secret';
CREATE ROLE blocked LOGIN PASSWORD 'blocked-secret';
CREATE DATABASE production OWNER app;
CREATE DATABASE analytics OWNER worker;
CREATE DATABASE "my db" OWNER "report user";
EOF

# conn APP HOST USER PASSWORD DB SQL  — one session (host: 127.0.0.1, ::1 or the socket dir).
conn() {
    PGAPPNAME=$1 PGPASSWORD=$4 psql -X -q -h "$2" -U "$3" -d "$5" -c "$6" >/dev/null 2>&1 || true
}
stopped() { [ -e "$stopflag" ]; }
rnd() { echo $(($1 + RANDOM % ($2 - $1 + 1))); } # rnd LO HI

pool_rails() { # a steady pool: sessions held 10-25 s, then reconnect
    sleep "$(rnd 0 4)"
    while ! stopped; do
        conn rails "$1" app app-secret production "select pg_sleep($(rnd 10 25))"
        sleep 0.$(rnd 1 9)
    done
}
pool_sidekiq() { # churn: short jobs, reconnect each time
    while ! stopped; do
        conn sidekiq "$sock" worker x analytics "select pg_sleep($(rnd 1 4))"
        sleep "$(rnd 0 2)"
    done
}
pool_metabase() { # long reporting sessions; names with spaces
    while ! stopped; do
        conn "metabase reporting" ::1 "report user" report-secret "my db" "select pg_sleep($(rnd 70 110))"
        sleep 1
    done
}
short_sessions() { # psql and cron one-offs every few seconds
    local i=0
    while ! stopped; do
        i=$((i + 1))
        if ((i % 3 == 0)); then
            conn cron "$sock" postgres x analytics "select count(*) from pg_class"
        elif ((i % 3 == 1)); then
            conn psql 127.0.0.1 app app-secret production "select now()"
        else
            conn psql ::1 worker worker-secret analytics "select 1"
        fi
        sleep "$(rnd 2 5)"
    done
}
billing_leak() { # opens a session every ~6 s and never closes it
    while ! stopped; do
        conn billing-worker 127.0.0.1 billing billing-secret production "select pg_sleep(100000)" &
        sleep 6
    done
    wait
}
failures() { # failed connections of several kinds, at the given second offsets
    local start=$1
    at() { while ! stopped && (($(date +%s) < start + $1)); do sleep 0.5; done; ! stopped; }
    at 12 && conn rails 127.0.0.1 app wrong-password production "select 1"
    at 20 && conn psql 127.0.0.1 ghost x production "select 1"  # unknown role over scram
    at 26 && conn psql "$sock" ghost x production "select 1"    # unknown role (trust: says so)
    at 33 && conn psql 127.0.0.1 app app-secret warehouse "select 1" # unknown database
    at 40 && {
        conn etl 127.0.0.1 limited limited-secret analytics "select pg_sleep(40)" &
        conn etl ::1 limited limited-secret analytics "select pg_sleep(40)" &
        sleep 2
        conn etl 127.0.0.1 limited limited-secret analytics "select 1" # role connection limit
    }
    at 50 && conn psql 127.0.0.1 auditor auditor-secret production "select 1" # NOLOGIN
    at 58 && conn psql 127.0.0.1 blocked blocked-secret production "select 1" # pg_hba reject
    at 66 && conn sidekiq ::1 worker wrong analytics "select 1"
    at 75 && sql -c "select pg_terminate_backend(pid) from pg_stat_activity
                      where application_name = 'rails' order by backend_start limit 1" || true
    at 118 && conn rails ::1 app wrong-password production "select 1"
    at 125 && conn psql "$sock" app x "my database" "select 1"
    at 135 && conn psql 127.0.0.1 intruder x production "select 1"
    at 145 && conn psql "$sock" auditor x production "select 1"
    at 155 && conn rails 127.0.0.1 app wrong-password production "select 1"
    at 165 && conn psql ::1 blocked blocked-secret "my db" "select 1"
    wait
}

t0=$(date +%s)
echo "record-demo: workload for ${DURATION}s" >&2
hosts=(127.0.0.1 127.0.0.1 127.0.0.1 ::1 ::1 127.0.0.1 "$sock" 127.0.0.1)
for h in "${hosts[@]}"; do pool_rails "$h" & done
for _ in 1 2 3 4; do pool_sidekiq & done
for _ in 1 2; do pool_metabase & done
short_sessions &
billing_leak &
failures "$t0" &

# One fast restart in the middle; the pools reconnect on their own.
while (($(date +%s) < t0 + DURATION / 2)); do sleep 1; done
echo "record-demo: fast restart" >&2
as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 restart -l "$log" >/dev/null

while (($(date +%s) < t0 + DURATION)); do sleep 1; done
# Take the log while sessions are still open, so the demo ends with a live picture.
cp "$log" "$tmp/raw.log"
touch "$stopflag"
echo "record-demo: stretching timestamps x$STRETCH into $out" >&2

python3 - "$tmp/raw.log" "$out" "$STRETCH" "$tmp" <<'PY'
import re, sys
from datetime import datetime, timedelta, timezone

src, dst, k, tmpdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ts = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC ")
session = re.compile(r"session time: (\d+):(\d\d):(\d\d)\.(\d{3})")
with open(src, "rb") as f:
    raw = f.read()
raw = raw[: raw.rfind(b"\n") + 1]  # drop a half-written last line
lines = raw.decode("utf-8", "replace").splitlines(keepends=True)
first = None
out = []
for line in lines:
    m = ts.match(line)
    if not m:
        out.append(line)  # continuation (tab) lines and anything else: untouched
        continue
    t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    if first is None:
        first = t
    t2 = first + (t - first) * k
    line = t2.strftime("%Y-%m-%d %H:%M:%S.") + f"{t2.microsecond // 1000:03d} UTC " + line[m.end():]

    # disconnection lines carry the session length; stretch it too so it matches the timestamps
    def stretch(s):
        ms = ((int(s[1]) * 60 + int(s[2])) * 60 + int(s[3])) * 1000 + int(s[4])
        ms *= k
        h, ms = divmod(ms, 3_600_000)
        mi, ms = divmod(ms, 60_000)
        se, ms = divmod(ms, 1000)
        return f"session time: {h}:{mi:02d}:{se:02d}.{ms:03d}"

    line = session.sub(stretch, line)
    out.append(line)
text = "".join(out)
# Nothing machine-specific: the temp dir name becomes a fixed path.
text = text.replace(tmpdir, "/tmp/pgconn-demo")
with open(dst, "w", encoding="utf-8") as f:
    f.write(text)
print(f"record-demo: {len(out)} lines, {len(text)} bytes", file=sys.stderr)
PY
