//! lumen in-process: the app drawn on the terminal it was started in (the demo, whose home is
//! thrown away on exit). Signals that end a terminal program end it; a hangup quits.

use crate::app::frontend::{ClientEffect, Flow, Frontend};
use crate::app::msg::Msg;
use crate::app::state::App;
use crate::app::{RunOptions, event_loop, ui};
use crate::panes::terminal::CursorShape;
use crate::term::{LocalEvent, Screen, Signal, TerminalGuard, input};
use ratatui::Terminal;
use std::process::ExitCode;
use tokio::sync::mpsc;

/// The terminal this process runs in, as the event loop's frontend.
pub struct LocalFrontend {
    screen: Terminal<Screen>,
    guard: TerminalGuard,
    events: mpsc::UnboundedReceiver<LocalEvent>,
    shape: Option<CursorShape>,
}

impl LocalFrontend {
    /// Take the terminal: lumen's modes on, signals forwarded, input read onto `bus`.
    pub fn enter(mouse: bool, bus: crate::app::Bus) -> anyhow::Result<Self> {
        let (tx, events) = mpsc::unbounded_channel();
        crate::term::forward_signals(&tx, &crate::term::IN_PROCESS_SIGNALS)?;
        let guard = TerminalGuard::enter(mouse)?;
        let screen = crate::term::fresh_screen()?;
        input::spawn_reader(move |ev| bus.send(Msg::Input(ev)), tx.clone());
        input::watch_for_hangup(tx);
        Ok(Self {
            screen,
            guard,
            events,
            shape: None,
        })
    }
}

impl Frontend for LocalFrontend {
    type Event = LocalEvent;

    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<LocalEvent> {
        &mut self.events
    }

    fn on_event(&mut self, app: &mut App, event: LocalEvent) -> anyhow::Result<Flow> {
        match event {
            LocalEvent::Signal(Signal::Terminate(name)) => {
                tracing::info!("{name}: ending");
                return Ok(Flow::End);
            }
            LocalEvent::ClientGone(why) => {
                // In-process, the terminal going away ends lumen.
                tracing::warn!("terminal input ended: {why}");
                return Ok(Flow::End);
            }
            LocalEvent::Signal(Signal::Suspend) => {
                self.guard.suspend()?;
                self.screen = crate::term::fresh_screen()?;
                self.shape = None;
                app.dirty = true;
            }
            LocalEvent::Signal(Signal::Continue) => {
                // Continued after a stop lumen did not ask for (SIGSTOP from elsewhere): take
                // the terminal again and repaint all of it.
                self.guard.resume()?;
                self.screen = crate::term::fresh_screen()?;
                self.shape = None;
                app.dirty = true;
            }
            LocalEvent::Signal(Signal::Detach | Signal::Resize) => {}
        }
        Ok(Flow::Continue(Vec::new()))
    }

    fn draw(&mut self, app: &App) -> anyhow::Result<bool> {
        self.screen.draw(|f| ui::draw(app, f))?;
        let want = app.cursor_shape();
        if self.shape != Some(want) {
            crossterm::execute!(std::io::stdout(), crate::term::cursor_style(want))?;
            self.shape = Some(want);
        }
        Ok(true)
    }

    fn client_effect(&mut self, app: &mut App, effect: ClientEffect) {
        match effect {
            ClientEffect::Clipboard(request) => crate::term::clipboard::apply(request),
            // Nothing outlives an in-process lumen: detaching would end it, so ask first.
            ClientEffect::Detach => app.run_action(crate::app::keymap::Action::Quit),
            ClientEffect::ChooseSession
            | ClientEffect::SwitchSession(_)
            | ClientEffect::RenameSession(_) => {
                app.say("this lumen runs in-process (the demo): it has no other sessions")
            }
        }
    }
}

/// Run the TUI in this process until the last tab closes or the user quits.
pub fn run(opts: RunOptions) -> anyhow::Result<ExitCode> {
    crate::app::setup::init_logging(&opts.paths);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(opts))
}

/// Run the TUI in this process, inside an existing tokio runtime (the demo starts its server
/// there first).
pub async fn run_async(opts: RunOptions) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "lumen draws a full-screen interface and needs a terminal, but its output is not one; \
             run it in a terminal (the subcommands hosts, vault and --privacy work without one)"
        );
    }
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let mut world = crate::app::setup::build(opts, size);
    let mut frontend = LocalFrontend::enter(world.mouse, world.bus.clone())?;
    let result = event_loop(
        &mut world.app,
        &mut frontend,
        &mut world.inbox,
        &world.waker,
        &world.bus,
    )
    .await;
    let code = world.exit_code();
    // Whatever ended the loop, the panes' programs hear a hangup, as from a closing terminal.
    world.children.hang_up();
    drop(world);
    drop(frontend);
    result.map(|()| code)
}
