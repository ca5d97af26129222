//! The terminal guard: lumen's modes on (raw, alternate screen, bracketed paste, mouse) and
//! always off again, exactly once, on exit, error, panic and every terminating signal;
//! suspend on SIGTSTP and resume on SIGCONT; the signals forwarded onto the message bus.

use crate::term::{LocalEvent, Signal};
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use std::io::Write;
pub use tokio::signal::unix::SignalKind;
use tokio::signal::unix::signal;

/// Puts the outer terminal in lumen's modes and always puts it back: on drop, and from the
/// panic hook.
pub struct TerminalGuard {
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        install_panic_hook();
        let guard = TerminalGuard { mouse };
        // Once the guard exists, an error below still undoes what was set (on drop).
        guard.resume()?;
        Ok(guard)
    }
}

/// Whether lumen's terminal modes are on, so they are undone exactly once (leaving the
/// alternate screen twice would move the cursor back over what was printed since).
static TERMINAL_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Undo everything `TerminalGuard::enter` (or a program's leftovers) may have set, once.
pub fn restore_terminal() {
    if !TERMINAL_TAKEN.swap(false, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let mut out = std::io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange,
        LeaveAlternateScreen,
        cursor::SetCursorStyle::DefaultUserShape,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl TerminalGuard {
    /// Give the terminal back and stop the process (SIGTSTP), as full-screen programs do;
    /// when the shell continues it (`fg`), take the terminal again. The caller redraws.
    pub fn suspend(&self) -> std::io::Result<()> {
        restore_terminal();
        // SAFETY: raising SIGSTOP on our own process; execution continues here after SIGCONT.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGSTOP);
        }
        self.resume()
    }

    /// Put lumen's modes back (after a suspend, or a SIGCONT from elsewhere).
    pub fn resume(&self) -> std::io::Result<()> {
        TERMINAL_TAKEN.store(true, std::sync::atomic::Ordering::SeqCst);
        enable_raw_mode()?;
        let mut out = std::io::stdout();
        execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        if self.mouse {
            execute!(out, EnableMouseCapture)?;
        }
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn install_panic_hook() {
    // Only once per process, however many times the TUI starts (tests start several).
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install_panic_hook_now);
}

fn install_panic_hook_now() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}

/// Forward the signals lumen acts on, each as a [`LocalEvent::Signal`], so the loop sees them
/// every turn whatever the panes are doing. A client passes its own table: there SIGHUP
/// detaches instead of ending.
pub fn forward_signals(
    events: &tokio::sync::mpsc::UnboundedSender<LocalEvent>,
    kinds: &[(SignalKind, Signal)],
) -> std::io::Result<()> {
    for &(kind, what) in kinds {
        let mut stream = signal(kind)?;
        let events = events.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if events.send(LocalEvent::Signal(what)).is_err() {
                    break;
                }
            }
        });
    }
    Ok(())
}

/// The signals an in-process lumen acts on: the terminating ones end it.
pub const IN_PROCESS_SIGNALS: [(SignalKind, Signal); 6] = [
    (SignalKind::terminate(), Signal::Terminate("SIGTERM")),
    (SignalKind::hangup(), Signal::Terminate("SIGHUP")),
    (SignalKind::interrupt(), Signal::Terminate("SIGINT")),
    (SignalKind::quit(), Signal::Terminate("SIGQUIT")),
    (SignalKind::from_raw(libc::SIGTSTP), Signal::Suspend),
    (SignalKind::from_raw(libc::SIGCONT), Signal::Continue),
];
