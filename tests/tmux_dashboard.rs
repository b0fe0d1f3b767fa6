//! End to end: the real binary in a detached tmux session on the corpus log. Keys are sent with
//! `send-keys`, the screen read with `capture-pane`, the figures checked against `truth.json`,
//! the pane resized (also below 60x15), and after `q` (and after SIGTERM) the terminal must be
//! back to normal: main screen, cooked mode. Without tmux the test is skipped, unless `CI=true`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use tmux::Tmux;

#[path = "support/tmux.rs"]
mod tmux;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/pg15-debian-berlin")
}

/// `name  count` as a row of one of the summary tables.
fn has_row(screen: &str, name: &str, n: u64) -> bool {
    screen.lines().any(|l| {
        l.split('│').any(|cell| {
            cell.trim_start().strip_prefix(name).is_some_and(|rest| {
                rest.starts_with(' ') && rest.split_whitespace().next() == Some(&n.to_string())
            })
        })
    })
}

fn start(tmux: &Tmux, w: u16, h: u16) {
    tmux.ok(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        &w.to_string(),
        "-y",
        &h.to_string(),
        "env PS1='$ ' sh",
    ]);
    tmux.wait_text("$");
    let bin = env!("CARGO_BIN_EXE_pgconn-top");
    let log = corpus().join("postgresql.log");
    tmux.literal(&format!(
        "clear; '{bin}' '{}'; echo EXITED=$?",
        log.display()
    ));
    tmux.keys(&["Enter"]);
}

/// Checks the shell got the terminal back: main screen, cooked mode with echo.
fn assert_restored(tmux: &Tmux) {
    tmux.wait_for("the exit status", |s| {
        s.lines().any(|l| l.starts_with("EXITED="))
    });
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.format("#{mouse_any_flag}"), "0", "mouse capture left");
    tmux.literal("stty -a | grep -q -e '-icanon' -e '-echo ' && echo MODE=RAW || echo MODE=COOKED");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_text("MODE=");
    assert!(s.contains("MODE=COOKED"), "raw mode left:\n{s}");
}

#[test]
fn dashboard_in_tmux() {
    if !tmux::available() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tmux is required on CI (CI=true) for the end-to-end dashboard test");
        }
        eprintln!("skipping dashboard_in_tmux: tmux is not installed");
        return;
    }
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("truth.json")).unwrap())
            .unwrap();
    let tmux = Tmux::new("test");
    start(&tmux, 140, 45);
    let active = truth["active_total"].as_u64().unwrap();
    let s = tmux.wait_text(&format!("Active connections: {active}"));
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "on the alternate screen"
    );
    for k in ["by_database", "by_user", "by_application", "by_host"] {
        for (name, n) in truth[k].as_object().unwrap() {
            // The truth's `unknown` application (none set) is drawn as `(none)`.
            let name = match (k, name.as_str()) {
                ("by_application", "unknown") => "(none)",
                _ => name.as_str(),
            };
            assert!(
                has_row(&s, name, n.as_u64().unwrap()),
                "{k} {name} {n}:\n{s}"
            );
        }
    }
    assert!(
        s.contains(&format!("{} connects", truth["connects"])),
        "{s}"
    );
    assert!(
        s.contains(&format!("{} disconnects", truth["disconnects"])),
        "{s}"
    );
    for sess in truth["active"].as_array().unwrap() {
        assert!(
            s.contains(&format!("│{} ", sess["pid"])),
            "pid {}:\n{s}",
            sess["pid"]
        );
    }

    tmux.keys(&["2"]);
    tmux.wait_text("buckets over the last 6h");
    tmux.keys(&["b"]);
    tmux.wait_text("1h buckets over the last 6h");
    tmux.keys(&["3"]);
    tmux.wait_text("Live feed");
    tmux.keys(&["Space"]);
    tmux.wait_text("PAUSED");
    tmux.keys(&["Space"]);
    tmux.wait_text("following");

    // On Watch `/` searches; `f` filters everywhere.
    tmux.keys(&["f"]);
    tmux.wait_text("filter:");
    tmux.literal("db=production");
    tmux.keys(&["Enter"]);
    tmux.wait_text("filter: db=production");
    tmux.keys(&["1"]);
    let by_db = truth["by_database"]["production"].as_u64().unwrap();
    tmux.wait_text(&format!("Active connections to 'production': {by_db}"));
    tmux.keys(&["x"]);
    tmux.wait_text(&format!("Active connections: {active}"));

    tmux.keys(&["?"]);
    tmux.wait_text("Esc closes");
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", |s| !s.contains("Esc closes"));

    tmux.ok(&["resize-window", "-t", "t", "-x", "50", "-y", "12"]);
    tmux.wait_text("terminal too small (need 60x15, have 50x12)");
    tmux.ok(&["resize-window", "-t", "t", "-x", "60", "-y", "15"]);
    // The smallest size draws the dashboard; its header keeps the active count first.
    tmux.wait_text("1 Summary   2 History");
    tmux.wait_text(&format!("● {active} active"));
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "1",
        "the dashboard takes the mouse"
    );
    tmux.ok(&["resize-window", "-t", "t", "-x", "100", "-y", "30"]);
    tmux.wait_text(&format!("Active connections: {active}"));

    tmux.keys(&["q"]);
    assert_restored(&tmux);
    let s = tmux.screen();
    assert!(s.contains("EXITED=0"), "{s}");

    // SIGTERM also gives the terminal back.
    tmux.literal("clear");
    tmux.keys(&["Enter"]);
    start_again(&tmux);
    tmux.wait_text(&format!("Active connections: {active}"));
    let shell = tmux.format("#{pane_pid}");
    let out = Command::new("ps")
        .args(["-o", "pid=", "--ppid", &shell])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!pid.is_empty(), "the dashboard's pid");
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    assert_restored(&tmux);
}

fn start_again(tmux: &Tmux) {
    let bin = env!("CARGO_BIN_EXE_pgconn-top");
    let log = corpus().join("postgresql.log");
    tmux.literal(&format!("'{bin}' '{}'; echo EXITED=$?", log.display()));
    tmux.keys(&["Enter"]);
}
