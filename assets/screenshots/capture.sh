#!/bin/sh
# Captures each tab of a real dashboard run in tmux (ANSI colours kept) and renders PNGs.
# usage: assets/screenshots/capture.sh [BINARY] [LOG]   (run from the repository root)
set -eu
BIN=${1:-target/debug/pgconn-top}
LOG=${2:-tests/fixtures/corpus/pg15-debian-berlin/postgresql.log}
OUT=assets/screenshots
SOCK=pgconn-top-shots-$$
t() { tmux -L "$SOCK" -f /dev/null "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT
t new-session -d -s s -x 120 -y 36 "TERM=xterm-256color '$BIN' '$LOG'"
wait_for() {
  i=0
  until t capture-pane -p -t s | grep -qF -- "$1"; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "timed out waiting for $1" >&2; exit 1; }
    sleep 0.05
  done
}
shot() { sleep 0.2; t capture-pane -e -p -t s > "$OUT/$1.ansi"; python3 "$OUT/render.py" "$OUT/$1.ansi" "$OUT/$1.png" --cols 120; rm "$OUT/$1.ansi"; }
wait_for "Active connections"
shot summary
t send-keys -t s 2; wait_for "buckets over"; shot history
t send-keys -t s 3; wait_for "Live feed"; shot watch
t send-keys -t s 1 /; wait_for "filter:"
t send-keys -t s -l "db=production"; t send-keys -t s Enter; wait_for "Active connections to"
shot summary-filtered
t send-keys -t s '?'; wait_for "Esc closes"; shot help
t send-keys -t s q

# History with a story: a generated three-hour log (leak + failure spike).
GEN=$(mktemp -d)/generated.log
python3 "$OUT/gen_log.py" "$GEN"
t kill-server 2>/dev/null || true
t new-session -d -s s -x 120 -y 36 "cd '$(dirname "$GEN")' && TERM=xterm-256color '$(realpath "$BIN")' generated.log"
wait_for "pgconn-top"
t send-keys -t s 2; wait_for "leak suspected"; shot history-leak
t send-keys -t s 1; wait_for "Active connections"; shot summary-generated
t send-keys -t s q
rm -f "$GEN"

# The incident views, on real logs: capacity in the header and the Failures tab (Berlin corpus,
# refusals and password failures), PostgreSQL 18 setup times and a session's details, the
# search in Watch, and two servers in one view.
t kill-server 2>/dev/null || true
t new-session -d -s s -x 120 -y 36 "TERM=xterm-256color '$BIN' '$LOG'"
wait_for "Active connections"
t send-keys -t s 4; wait_for "Failed attempts"; shot failures
t send-keys -t s 3; wait_for "Live feed"
t send-keys -t s / ; t send-keys -t s -l "nologin"; t send-keys -t s Enter; sleep 0.3; shot watch-search
t send-keys -t s q
PG18=tests/fixtures/corpus/versions/pg18-all/postgresql.log
t kill-server 2>/dev/null || true
sleep 0.5
t new-session -d -s s -x 120 -y 36 "TERM=xterm-256color '$BIN' '$PG18'"
wait_for "Active connections"; shot summary-setup-times
t send-keys -t s Right Right Right Right Enter; wait_for "authentication"; shot session-details
t send-keys -t s Escape; sleep 0.3; t send-keys -t s 2; wait_for "Peak"; shot history-peaks
t send-keys -t s q
t kill-server 2>/dev/null || true
sleep 0.5
t new-session -d -s s -x 120 -y 36 "TERM=xterm-256color '$BIN' berlin='$LOG' newyork=tests/fixtures/corpus/pg15-rds-newyork/postgresql.log"
wait_for "Active connections"; shot fleet-summary
t send-keys -t s 3; wait_for "Live feed"; shot fleet-watch
t send-keys -t s q
