#!/usr/bin/env python3
"""Writes a three-hour PostgreSQL log (stderr, '%m [%p] %q%u@%d ') with a story for the History
screenshot: steady web traffic, a worker leaking one session a minute in the last hour, and a
burst of failed logins at 09:30. Same story as tests/ui_history.rs.   usage: gen_log.py OUT.log
"""
import sys


def ts(secs, ms):
    s = 8 * 3600 + secs
    return f"2026-11-27 {s // 3600:02}:{s // 60 % 60:02}:{s % 60:02}.{ms:03} UTC"


def main(out):
    pid = 10000
    lines = [f"{ts(0, 0)} [1] LOG:  database system is ready to accept connections"]
    for minute in range(180):
        t = minute * 60
        for k in range(2):
            pid += 1
            lines.append(f"{ts(t + k * 10, 0)} [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.1.5 port=5{k:03}")
            lines.append(f"{ts(t + k * 10, 5)} [{pid}] app_user@production LOG:  connection authorized: user=app_user database=production application_name=rails")
            lines.append(f"{ts(t + k * 10 + 5, 5)} [{pid}] app_user@production LOG:  disconnection: session time: 0:00:05.000 user=app_user database=production host=10.0.1.5 port=5{k:03}")
        if minute >= 120:
            pid += 1
            lines.append(f"{ts(t + 30, 0)} [{pid}] [unknown]@[unknown] LOG:  connection received: host=10.0.2.9 port=6000")
            lines.append(f"{ts(t + 30, 5)} [{pid}] billing@production LOG:  connection authorized: user=billing database=production application_name=billing-worker")
        if minute == 90:
            for k in range(12):
                pid += 1
                lines.append(f"{ts(t + 40 + k, 0)} [{pid}] [unknown]@[unknown] LOG:  connection received: host=203.0.113.7 port=7000")
                lines.append(f"{ts(t + 40 + k, 9)} [{pid}] admin@production FATAL:  password authentication failed for user \"admin\"")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
