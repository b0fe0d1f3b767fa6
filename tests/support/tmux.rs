//! A tmux server on a socket of its own for end-to-end tests of the dashboard: keys sent with
//! `send-keys`, the screen read with `capture-pane` (plain or with its escape sequences), polled
//! until a condition holds; the server is killed when dropped.

#![allow(dead_code)] // each test binary uses its own part

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a wait for the screen lasts before the test fails with the screen.
pub const WAIT: Duration = Duration::from_secs(15);

/// Whether tmux runs on this machine.
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A tmux server of this test process; its one session is named `t`.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server on the socket `pgconn-top-<name>-<pid>`.
    pub fn new(name: &str) -> Tmux {
        Tmux {
            socket: format!("pgconn-top-{name}-{}", std::process::id()),
        }
    }

    /// Runs a tmux command on this server.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Runs a tmux command that must succeed; its output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        self.ok(&["capture-pane", "-p", "-t", "t"])
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn styled(&self) -> String {
        self.ok(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    /// A tmux format of the pane (`#{alternate_on}`, `#{pane_pid}`...).
    pub fn format(&self, f: &str) -> String {
        self.ok(&["display-message", "-p", "-t", "t", f])
            .trim()
            .to_string()
    }

    /// Sends keys by their tmux names (`Enter`, `C-c`, `q`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.ok(&args);
    }

    /// Types `text` as it is.
    pub fn literal(&self, text: &str) {
        self.ok(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Polls the screen until `pred` holds on a settled screen: two captures in a row, 50 ms
    /// apart, that agree. A frame tmux is still painting can already show the awaited text
    /// while the rows below it are half drawn; it never lasts two captures. Panics with the
    /// screen after [`WAIT`].
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut previous = String::new();
        loop {
            let s = self.screen();
            if s == previous && pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {what}; screen:\n{s}"
            );
            previous = s;
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the screen until it shows `text`.
    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}
