//! The event loop: one [`Event`] enum for keys, resizes, input batches, the clock tick and
//! signals; redraws only after something changed, at most [`MAX_FPS`] times a second.

use super::app::App;
use super::terminal::TerminalGuard;
use super::{SourceMsg, UiOptions};
use crate::engine::Engine;
use ratatui::crossterm::event::{self as ct, KeyEventKind};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// Frames per second at most.
pub const MAX_FPS: u64 = 20;
/// Input messages taken from the tailer per loop turn at most (a burst cannot starve keys).
const BATCH: usize = 4096;

/// A signal the dashboard ends on (after restoring the terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Hangup,
    Interrupt,
}

/// Everything the loop reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Key(ct::KeyEvent),
    /// A click or the wheel (moves, drags and releases are not forwarded).
    Mouse(ct::MouseEvent),
    Resize(u16, u16),
    /// A batch of messages from the tailer.
    Input(Vec<SourceMsg>),
    /// Once a second: ages, the clock and lines/s move on.
    Tick,
    Signal(Signal),
}

/// Reads terminal events on a thread of its own (crossterm's reader blocks) and forwards
/// keys and resizes; ends when the loop is gone.
fn spawn_terminal_reader(tx: mpsc::Sender<Event>) {
    std::thread::Builder::new()
        .name("pgconn-top-keys".into())
        .spawn(move || loop {
            if tx.is_closed() {
                return;
            }
            match ct::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let ev = match ct::read() {
                Ok(ct::Event::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                Ok(ct::Event::Mouse(m))
                    if matches!(
                        m.kind,
                        ct::MouseEventKind::Down(_)
                            | ct::MouseEventKind::ScrollUp
                            | ct::MouseEventKind::ScrollDown
                    ) =>
                {
                    Event::Mouse(m)
                }
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.blocking_send(ev).is_err() {
                return;
            }
        })
        .expect("spawn the terminal reader thread");
}

/// Waits for the next message of an optional channel; never resolves without one.
async fn next_input(rx: &mut Option<mpsc::Receiver<SourceMsg>>) -> Option<SourceMsg> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Runs the dashboard over `engine` until the user quits or a signal ends it. `input` carries
/// live log data from a tailer; `None` shows what the engine already holds.
pub async fn run(
    engine: Engine,
    opts: UiOptions,
    mut input: Option<mpsc::Receiver<SourceMsg>>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut guard = TerminalGuard::enter()?;
    let mut app = App::new(engine, &opts);
    if let Ok(s) = guard.terminal.size() {
        app.size = (s.width, s.height);
    }
    let (tx, mut term_rx) = mpsc::channel::<Event>(256);
    spawn_terminal_reader(tx);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut last_draw = Instant::now() - frame;
    loop {
        if app.dirty && last_draw.elapsed() >= frame {
            guard.terminal.draw(|f| super::draw(f, &app))?;
            app.dirty = false;
            last_draw = Instant::now();
        }
        let next_frame = last_draw + frame;
        let ev = tokio::select! {
            biased;
            _ = sigterm.recv() => Event::Signal(Signal::Terminate),
            _ = sighup.recv() => Event::Signal(Signal::Hangup),
            _ = sigint.recv() => Event::Signal(Signal::Interrupt),
            e = term_rx.recv() => match e {
                Some(e) => e,
                None => break,
            },
            i = next_input(&mut input) => match i {
                Some(first) => {
                    let mut batch = vec![first];
                    if let Some(rx) = input.as_mut() {
                        while batch.len() < BATCH {
                            match rx.try_recv() {
                                Ok(m) => batch.push(m),
                                Err(_) => break,
                            }
                        }
                    }
                    Event::Input(batch)
                }
                None => {
                    input = None;
                    continue;
                }
            },
            _ = tick.tick() => Event::Tick,
            _ = tokio::time::sleep_until(next_frame), if app.dirty => continue,
        };
        app.handle(ev);
        if app.quit {
            break;
        }
    }
    drop(guard);
    Ok(())
}
