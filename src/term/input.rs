//! Reading the terminal: events on a thread of their own (crossterm's reads block), and a
//! watch that notices when the terminal hangs up.

use crate::term::LocalEvent;
use crossterm::event::Event;
use tokio::sync::mpsc::UnboundedSender;

/// Read terminal input on a thread of its own onto `sink` (false from it: stop). When input
/// fails (the terminal went away) it says so once on `events` and stops.
pub fn spawn_reader(
    mut sink: impl FnMut(Event) -> bool + Send + 'static,
    events: UnboundedSender<LocalEvent>,
) {
    let spawned = std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if !sink(ev) {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = events.send(LocalEvent::ClientGone(e.to_string()));
                        break;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the input thread: {e}");
    }
}

/// Say when the terminal hangs up. crossterm's reader spins instead of failing when its
/// terminal disappears, so a thread of its own sleeps in `poll` until the terminal reports a
/// hangup or an error (no events asked for: it costs nothing while the terminal lives).
pub fn watch_for_hangup(events: UnboundedSender<LocalEvent>) {
    let spawned = std::thread::Builder::new()
        .name("hangup-watch".into())
        .spawn(move || {
            let mut fd = libc::pollfd {
                fd: libc::STDIN_FILENO,
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: poll on one valid pollfd we own, no timeout.
                let n = unsafe { libc::poll(&mut fd, 1, -1) };
                if n < 0 {
                    if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                if fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                    let _ = events.send(LocalEvent::ClientGone("the terminal hung up".into()));
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the hangup watch: {e}");
    }
}
