#!/usr/bin/env bash
# % CPU of the dashboard over 30 s (utime+stime from /proc), in tmux at 120x40:
# idle on a static log, the demo, and busy (a writer appending 10,000 lines/s, 30% of them
# connection events, to the followed file). Run: cargo build --release && bash benches/dashboard_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/target/release/pgconn-top
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 1; }
tmp=$(mktemp -d)
trap 'tmux -L cpu kill-server 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

measure() { # label, command...
  local label=$1; shift
  tmux -L cpu kill-server 2>/dev/null || true
  tmux -L cpu new-session -d -x 120 -y 40 "$*"
  sleep 3
  local pid; pid=$(tmux -L cpu list-panes -F '#{pane_pid}')
  local t0 t1; t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  sleep 30
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  python3 -c "print('$label: %.2f%% CPU over 30 s' % (100*($t1-$t0)/$(getconf CLK_TCK)/30))"
  tmux -L cpu send-keys q; sleep 0.5
}

measure "idle (static log)" exec "$bin" tests/fixtures/corpus/pg15-debian-berlin/postgresql.log
measure "demo" exec "$bin" --demo
cp tests/fixtures/corpus/pg15-debian-berlin/postgresql.log "$tmp/busy.log"
python3 - "$tmp/busy.log" <<'PY' &
import sys, time
f = open(sys.argv[1], 'a'); pid = 100000; end = time.time() + 36
while time.time() < end:
    t0 = time.time()
    for i in range(100):
        pid += 1
        ts = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime()) + '.000 CET'
        f.write(f"{ts} [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.0.{i%200} port=5000\n")
        f.write(f"{ts} [{pid}] app_user@production LOG:  connection authorized: user=app_user database=production application_name=app{i%7}\n")
        f.write(f"{ts} [{pid}] app_user@production LOG:  disconnection: session time: 0:00:00.010 user=app_user database=production host=10.0.0.1 port=5000\n")
        for k in range(7):
            f.write(f"{ts} [{pid}] app_user@production LOG:  duration: 0.1 ms  statement: SELECT {k}\n")
    f.flush(); time.sleep(max(0, 0.1 - (time.time() - t0)))
PY
measure "busy (10,000 lines/s, 3,000 events/s)" exec "$bin" "$tmp/busy.log"
