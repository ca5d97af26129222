//! One session of the server: a world (see [`crate::app::setup`]) run by the usual event loop
//! on a thread of its own, over a frontend whose clients are sockets. The app is drawn once
//! per frame at the window's size; each client gets that frame cut or padded to its own size,
//! as the difference from what it was last sent. A client that cannot take a frame yet is
//! skipped and gets the newest one when it can: nothing queues without bound.

use crate::app::config::WindowSize;
use crate::app::frontend::{ClientEffect, ClipboardRequest, Flow, Frontend};
use crate::app::msg::Msg;
use crate::app::state::{App, PaneSpec};
use crate::app::{World, event_loop, ui};
use crate::panes::terminal::CursorShape;
use crate::server::proto::{self, Clipboard, Exit, Reply, kind};
use crate::server::registry::{Registry, SessionId};
use crate::stream::Waker;
use crate::ui::backend::PinnedBackend;
use crossterm::event::{Event, KeyEvent};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::{Position, Rect};
use ratatui::{Terminal, TerminalOptions, Viewport};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// Frames waiting to be written to one client, at most.
const CLIENT_QUEUE: usize = 4;

/// What reaches a session from its clients and the server.
#[derive(Debug)]
pub enum SessionEvent {
    /// A client joins (a new session's first, or `lumen attach`).
    Attach(Box<NewClient>),
    /// A client switched here from another session (`C-b s`).
    Adopt(Box<Wired>),
    /// A client typed, pasted, clicked or resized.
    Input { client: u64, event: Event },
    /// A client asks for the whole screen again (after it was suspended).
    Redraw { client: u64 },
    /// A client asks to leave (its terminal hung up, or it was told to).
    Detach { client: u64 },
    /// A client's connection ended.
    ClientGone { client: u64, why: String },
    /// The session ends now (`kill-session`, `kill-server`), telling its clients so.
    Kill(Exit),
    /// The vault locks if nobody attached since detach number `.0`.
    LockIfStillDetached(u64),
}

/// A connection that asked to attach.
pub struct NewClient {
    pub id: u64,
    pub stream: UnixStream,
    pub size: (u16, u16),
    pub read_only: bool,
    /// `attach -d`: the others leave.
    pub detach_others: bool,
}

impl std::fmt::Debug for NewClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewClient({})", self.id)
    }
}

/// A client whose reader and writer run: what moves between sessions.
pub struct Wired {
    id: u64,
    size: (u16, u16),
    read_only: bool,
    out: mpsc::Sender<(u8, Vec<u8>)>,
    route: Arc<Mutex<Route>>,
    writer: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Wired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wired({})", self.id)
    }
}

/// Where a client's reader sends its events and whom its writer wakes: the session it is
/// attached to, changed when the client switches sessions.
#[derive(Clone, Debug)]
pub struct Route {
    pub events: mpsc::UnboundedSender<SessionEvent>,
    pub waker: Waker,
}

use crate::ui::backend::Sink;

type ClientScreen = Terminal<PinnedBackend<CrosstermBackend<Sink>>>;

struct Client {
    id: u64,
    size: (u16, u16),
    read_only: bool,
    screen: ClientScreen,
    sink: Sink,
    out: mpsc::Sender<(u8, Vec<u8>)>,
    route: Arc<Mutex<Route>>,
    writer: tokio::task::JoinHandle<()>,
    shape: Option<CursorShape>,
    /// The next frame starts by clearing the terminal (new client, resize, redraw).
    clear: bool,
    typed: Instant,
    /// A read-only client typed the prefix: its next key may detach.
    prefix: bool,
}

fn client_screen(size: (u16, u16), sink: &Sink) -> std::io::Result<ClientScreen> {
    Terminal::with_options(
        PinnedBackend(CrosstermBackend::new(sink.clone())),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, size.0.max(1), size.1.max(1))),
        },
    )
}

/// The server's clients of one session, as the event loop's frontend.
pub struct ServerFrontend {
    id: SessionId,
    registry: Arc<Registry>,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    route: Route,
    clients: Vec<Client>,
    /// Whose input is being applied: client effects (clipboard, detach) go to it.
    current: Option<u64>,
    master: Terminal<TestBackend>,
    policy: WindowSize,
    lock_after: Option<Duration>,
    /// Counts detaches of the last client, so a stale lock timer does nothing.
    detach_count: u64,
    /// Why the session was killed, for the clients' exit.
    killed: Option<Exit>,
    /// Clients, panes and the sum of pane ids last told to the registry.
    published: Option<(usize, usize, u64)>,
}

impl ServerFrontend {
    fn name(&self) -> String {
        self.registry.name_of(self.id).unwrap_or_default()
    }

    fn find(&mut self, client: u64) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.id == client)
    }

    /// Take a new client: start its reader and writer, say it is attached, draw it whole.
    fn attach(&mut self, app: &mut App, new: NewClient) -> Vec<crate::app::Effect> {
        let (read, mut write) = new.stream.into_split();
        let (out, mut queue) = mpsc::channel::<(u8, Vec<u8>)>(CLIENT_QUEUE);
        let route = Arc::new(Mutex::new(self.route.clone()));
        let writer_route = route.clone();
        let writer = tokio::spawn(async move {
            while let Some((kind, bytes)) = queue.recv().await {
                let failed = proto::write_frame(&mut write, kind, &bytes).await.is_err();
                wipe(bytes);
                if let Ok(r) = writer_route.lock() {
                    r.waker.wake();
                }
                if failed || kind == kind::EXIT {
                    break;
                }
            }
        });
        tokio::spawn(read_client(new.id, read, route.clone()));
        let reply = Reply::Attached {
            session: self.name(),
            build: proto::build_id(),
        };
        if let Ok(json) = serde_json::to_vec(&reply) {
            let _ = out.try_send((kind::REPLY, json));
        }
        let wired = Wired {
            id: new.id,
            size: new.size,
            read_only: new.read_only,
            out,
            route,
            writer,
        };
        self.adopt(app, wired, new.detach_others)
    }

    /// Take a client whose reader and writer run (new, or switched from another session).
    fn adopt(&mut self, app: &mut App, w: Wired, detach_others: bool) -> Vec<crate::app::Effect> {
        if detach_others {
            let session = self.name();
            for c in std::mem::take(&mut self.clients) {
                send_exit(
                    c,
                    Exit::Detached {
                        session: session.clone(),
                    },
                );
            }
        }
        let sink = Sink::default();
        let screen = match client_screen(w.size, &sink) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("client {}: {e}", w.id);
                return Vec::new();
            }
        };
        self.clients.push(Client {
            id: w.id,
            size: w.size,
            read_only: w.read_only,
            screen,
            sink,
            out: w.out,
            route: w.route,
            writer: w.writer,
            shape: None,
            clear: true,
            typed: Instant::now(),
            prefix: false,
        });
        self.detach_count += 1;
        self.registry.touch(self.id);
        app.set_attached(true);
        self.publish(app);
        app.dirty = true;
        self.refit(app)
    }

    /// One client leaves (told why); the session goes on.
    fn detach(
        &mut self,
        app: &mut App,
        client: u64,
        exit: Option<Exit>,
    ) -> Vec<crate::app::Effect> {
        let Some(at) = self.clients.iter().position(|c| c.id == client) else {
            return Vec::new();
        };
        let c = self.clients.remove(at);
        match exit {
            Some(exit) => send_exit(c, exit),
            None => c.writer.abort(),
        }
        if self.current == Some(client) {
            self.current = None;
        }
        if self.clients.is_empty() {
            self.detach_count += 1;
            app.set_attached(false);
            self.lock_later();
        }
        self.publish(app);
        self.refit(app)
    }

    /// With nobody attached, lock the vault after `lock_when_detached`.
    fn lock_later(&self) {
        let Some(after) = self.lock_after else {
            return;
        };
        let events = self.route.events.clone();
        let count = self.detach_count;
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = events.send(SessionEvent::LockIfStillDetached(count));
        });
    }

    /// The window's size under the `window_size` policy; None with no clients.
    fn window(&self) -> Option<(u16, u16)> {
        let sizes = self.clients.iter().map(|c| c.size);
        match self.policy {
            WindowSize::Latest => self.clients.iter().max_by_key(|c| c.typed).map(|c| c.size),
            WindowSize::Smallest => sizes.reduce(|a, b| (a.0.min(b.0), a.1.min(b.1))),
            WindowSize::Largest => sizes.reduce(|a, b| (a.0.max(b.0), a.1.max(b.1))),
        }
    }

    /// Resize the app (and so every pane's PTY and remote window) to the window's size.
    fn refit(&mut self, app: &mut App) -> Vec<crate::app::Effect> {
        match self.window() {
            Some((w, h)) if (w, h) != app.size => {
                self.master.backend_mut().resize(w, h);
                app.update(Msg::Input(Event::Resize(w, h)))
            }
            _ => Vec::new(),
        }
    }

    /// What `lumen ls` says of this session.
    /// Cheap to call every frame: the session's line is rebuilt only when its clients or
    /// panes changed.
    fn publish(&mut self, app: &App) {
        let shape = (
            self.clients.len(),
            app.panes.len(),
            app.panes.keys().map(|id| id.0).sum::<u64>(),
        );
        if self.published == Some(shape) {
            return;
        }
        self.published = Some(shape);
        let mut hosts: Vec<String> = app
            .panes
            .values()
            .filter_map(|slot| match &slot.spec {
                PaneSpec::Ssh { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        hosts.sort();
        hosts.dedup();
        self.registry
            .update(self.id, self.clients.len(), app.panes.len(), hosts);
    }

    /// A read-only client's key: only the prefix and then detach have an effect (tmux -r).
    fn read_only_key(
        &mut self,
        app: &mut App,
        client: u64,
        key: &KeyEvent,
    ) -> Vec<crate::app::Effect> {
        let keymap = &app.config.keymap;
        let is_prefix = keymap.is_prefix(key);
        let detach = keymap.action(key) == Some(crate::app::keymap::Action::Detach);
        let Some(c) = self.find(client) else {
            return Vec::new();
        };
        if c.prefix && detach {
            let session = self.name();
            return self.detach(app, client, Some(Exit::Detached { session }));
        }
        c.prefix = is_prefix;
        Vec::new()
    }

    fn send_to_current(&mut self, kind: u8, payload: Vec<u8>) {
        let target = self
            .current
            .and_then(|id| self.clients.iter().find(|c| c.id == id))
            .or_else(|| self.clients.iter().max_by_key(|c| c.typed));
        if let Some(c) = target {
            // A clipboard request may wait behind frames; dropping it would lose the copy.
            let out = c.out.clone();
            tokio::spawn(async move {
                let _ = out.send((kind, payload)).await;
            });
        } else {
            wipe(payload);
        }
    }
}

/// Overwrite a payload that may hold a secret before it is freed.
fn wipe(mut bytes: Vec<u8>) {
    use zeroize::Zeroize;
    bytes.zeroize();
}

/// Tell a client why it leaves; its writer ends after that frame.
fn send_exit(c: Client, exit: Exit) {
    let Ok(json) = serde_json::to_vec(&exit) else {
        return;
    };
    tokio::spawn(async move {
        let sent =
            tokio::time::timeout(Duration::from_secs(2), c.out.send((kind::EXIT, json))).await;
        if !matches!(sent, Ok(Ok(()))) {
            c.writer.abort();
        }
    });
}

/// Read one client's frames onto its session until it goes.
async fn read_client(id: u64, mut read: tokio::net::unix::OwnedReadHalf, route: Arc<Mutex<Route>>) {
    let send = |ev: SessionEvent| {
        let events = route.lock().map(|r| r.events.clone());
        if let Ok(events) = events {
            let _ = events.send(ev);
        }
    };
    loop {
        let ev = match proto::read_frame(&mut read).await {
            Ok(Some((kind::INPUT, payload))) => {
                match proto::parse::<Event>("input event", &payload) {
                    Ok(event) => SessionEvent::Input { client: id, event },
                    Err(e) => {
                        tracing::warn!("client {id}: {e}");
                        continue;
                    }
                }
            }
            Ok(Some((kind::DETACH, _))) => SessionEvent::Detach { client: id },
            Ok(Some((kind::REDRAW, _))) => SessionEvent::Redraw { client: id },
            Ok(Some((other, _))) => {
                tracing::warn!("client {id}: unexpected frame kind {other}");
                continue;
            }
            Ok(None) => {
                send(SessionEvent::ClientGone {
                    client: id,
                    why: "closed".into(),
                });
                return;
            }
            Err(e) => {
                send(SessionEvent::ClientGone {
                    client: id,
                    why: e.to_string(),
                });
                return;
            }
        };
        send(ev);
    }
}

impl Frontend for ServerFrontend {
    type Event = SessionEvent;

    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<SessionEvent> {
        &mut self.events
    }

    fn on_event(&mut self, app: &mut App, event: SessionEvent) -> anyhow::Result<Flow> {
        let effects = match event {
            SessionEvent::Attach(new) => self.attach(app, *new),
            SessionEvent::Adopt(wired) => self.adopt(app, *wired, false),
            SessionEvent::Input { client, event } => {
                let Some(c) = self.find(client) else {
                    return Ok(Flow::Continue(Vec::new()));
                };
                if let Event::Resize(w, h) = event {
                    c.size = (w, h);
                    c.screen = client_screen(c.size, &c.sink)?;
                    c.clear = true;
                    app.dirty = true;
                    self.refit(app)
                } else if c.read_only {
                    match event {
                        Event::Key(key) => self.read_only_key(app, client, &key),
                        _ => Vec::new(),
                    }
                } else {
                    c.typed = Instant::now();
                    self.current = Some(client);
                    let mut effects = self.refit(app);
                    effects.extend(app.update(Msg::Input(event)));
                    effects
                }
            }
            SessionEvent::Redraw { client } => {
                if let Some(c) = self.find(client) {
                    c.screen = client_screen(c.size, &c.sink)?;
                    c.clear = true;
                    c.shape = None;
                    app.dirty = true;
                }
                Vec::new()
            }
            SessionEvent::Detach { client } => {
                let session = self.name();
                self.detach(app, client, Some(Exit::Detached { session }))
            }
            SessionEvent::ClientGone { client, why } => {
                tracing::info!("client {client} gone: {why}");
                self.detach(app, client, None)
            }
            SessionEvent::Kill(exit) => {
                self.killed = Some(exit);
                return Ok(Flow::End);
            }
            SessionEvent::LockIfStillDetached(count) => {
                if self.clients.is_empty() && count == self.detach_count && app.vault.lock() {
                    tracing::info!("vault locked: nobody attached (lock_when_detached)");
                    app.dirty = true;
                }
                Vec::new()
            }
        };
        Ok(Flow::Continue(effects))
    }

    fn draw(&mut self, app: &App) -> anyhow::Result<bool> {
        // Panes change while nobody is attached too: `lumen ls` says so.
        self.publish(app);
        if self.clients.is_empty() {
            return Ok(true);
        }
        self.master.draw(|f| ui::draw(app, f))?;
        let backend = self.master.backend();
        let frame = backend.buffer();
        let cursor = backend.cursor_visible().then(|| backend.cursor_position());
        let shape = app.cursor_shape();
        let mut delivered = true;
        for c in &mut self.clients {
            if c.out.capacity() == 0 {
                delivered = false;
                continue;
            }
            if c.clear {
                c.sink.push(b"\x1b[H\x1b[2J");
                c.clear = false;
            }
            c.screen.draw(|f| {
                let area = f.area();
                let out = f.buffer_mut();
                for y in 0..area.height {
                    for x in 0..area.width {
                        let cell = match frame.cell((x, y)) {
                            Some(cell) => cell.clone(),
                            // Outside the window (a client larger than it): tmux's dots.
                            None => {
                                let mut dot = ratatui::buffer::Cell::default();
                                dot.set_symbol("·");
                                dot
                            }
                        };
                        if let Some(slot) = out.cell_mut((x, y)) {
                            *slot = cell;
                        }
                    }
                }
                if let Some(p) = cursor
                    && p.x < area.width
                    && p.y < area.height
                {
                    f.set_cursor_position(Position::new(p.x, p.y));
                }
            })?;
            let mut bytes = c.sink.take();
            if c.shape != Some(shape) {
                crossterm::queue!(bytes, crate::term::cursor_style(shape))?;
                c.shape = Some(shape);
            }
            if !bytes.is_empty() {
                let _ = c.out.try_send((kind::OUTPUT, bytes));
            }
        }
        Ok(delivered)
    }

    fn client_effect(&mut self, app: &mut App, effect: ClientEffect) {
        match effect {
            ClientEffect::Clipboard(request) => {
                let message = match request {
                    ClipboardRequest::Set(text) => Clipboard::Set(text),
                    ClipboardRequest::SetSecret(secret) => {
                        Clipboard::SetSecret(secret.expose_secret().to_string())
                    }
                    ClipboardRequest::ClearSecret => Clipboard::ClearSecret,
                };
                let json = serde_json::to_vec(&message);
                if let Clipboard::Set(text) | Clipboard::SetSecret(text) = message {
                    wipe(text.into_bytes());
                }
                if let Ok(json) = json {
                    self.send_to_current(kind::CLIPBOARD, json);
                }
            }
            ClientEffect::Detach => {
                if let Some(client) = self.current {
                    let session = self.name();
                    let effects = self.detach(app, client, Some(Exit::Detached { session }));
                    app.effects.extend(effects);
                }
            }
            ClientEffect::ChooseSession => {
                let sessions = self.registry.summaries();
                app.choose_session(sessions.into_iter().map(|s| s.name).collect(), self.name());
            }
            ClientEffect::SwitchSession(name) => {
                let Some(client) = self.current else { return };
                if name == self.name() {
                    return;
                }
                let Some(target) = self.registry.route_of(&name) else {
                    app.say(format!("no session named {name}"));
                    return;
                };
                let Some(at) = self.clients.iter().position(|c| c.id == client) else {
                    return;
                };
                let c = self.clients.remove(at);
                self.current = None;
                // The client's reader and writer now serve the other session.
                if let Ok(mut r) = c.route.lock() {
                    *r = target.clone();
                }
                let wired = Wired {
                    id: c.id,
                    size: c.size,
                    read_only: c.read_only,
                    out: c.out,
                    route: c.route,
                    writer: c.writer,
                };
                let _ = target.events.send(SessionEvent::Adopt(Box::new(wired)));
                if self.clients.is_empty() {
                    self.detach_count += 1;
                    app.set_attached(false);
                    self.lock_later();
                }
                self.publish(app);
                let effects = self.refit(app);
                app.effects.extend(effects);
            }
            ClientEffect::RenameSession(name) => match self.registry.rename(self.id, &name) {
                Ok(()) => app.say(format!("session renamed to {name}")),
                Err(e) => app.say(e),
            },
        }
    }
}

/// Takes the session off the registry however its thread ends (a panic included).
struct Registered(Arc<Registry>, SessionId);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove(self.1);
    }
}

/// Start a session on a thread of its own (the app is not `Send`; its background work runs
/// on the server's runtime). Returns its name once it is registered, with `first` attached.
pub fn start(
    registry: Arc<Registry>,
    runtime: tokio::runtime::Handle,
    name: Option<String>,
    opts: crate::app::RunOptions,
    size: (u16, u16),
    first: Option<NewClient>,
) -> Result<String, String> {
    let (named_tx, named_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("session".into())
        .spawn(move || {
            let enter = runtime.clone();
            enter.block_on(run(registry, name, opts, size, first, named_tx));
        });
    if let Err(e) = spawned {
        return Err(format!("cannot start a session thread: {e}"));
    }
    named_rx
        .recv()
        .unwrap_or_else(|_| Err("the session ended as it started (see the server's log)".into()))
}

async fn run(
    registry: Arc<Registry>,
    name: Option<String>,
    opts: crate::app::RunOptions,
    size: (u16, u16),
    first: Option<NewClient>,
    named: std::sync::mpsc::Sender<Result<String, String>>,
) {
    let mut world = crate::app::setup::build(opts, size);
    // Nobody is attached until the first client is.
    world.app.set_attached(false);
    let (tx, events) = mpsc::unbounded_channel();
    let route = Route {
        events: tx.clone(),
        waker: world.waker.clone(),
    };
    let (id, name) = match registry.add(name, route.clone()) {
        Ok(added) => added,
        Err(e) => {
            let _ = named.send(Err(e));
            world.children.hang_up();
            return;
        }
    };
    let _registered = Registered(registry.clone(), id);
    tracing::info!("session {name} started");
    let _ = named.send(Ok(name.clone()));
    if let Some(first) = first {
        let _ = tx.send(SessionEvent::Attach(Box::new(first)));
    }
    let mut frontend = ServerFrontend {
        id,
        registry: registry.clone(),
        events,
        route,
        clients: Vec::new(),
        current: None,
        master: Terminal::new(TestBackend::new(size.0.max(1), size.1.max(1)))
            .unwrap_or_else(|never| match never {}),
        policy: world.app.config.window_size,
        lock_after: world.app.config.lock_when_detached,
        detach_count: 0,
        killed: None,
        published: None,
    };
    frontend.publish(&world.app);
    let result = event_loop(
        &mut world.app,
        &mut frontend,
        &mut world.inbox,
        &world.waker,
        &world.bus,
    )
    .await;
    if let Err(e) = result {
        tracing::error!("session {name}: {e}");
    }
    let name = registry.name_of(id).unwrap_or(name);
    let exit = frontend.killed.take().unwrap_or(Exit::SessionEnded {
        session: name.clone(),
        code: exit_status(&world),
    });
    // Every client hears why before the session's programs are hung up.
    let farewells: Vec<_> = frontend
        .clients
        .drain(..)
        .map(|c| {
            let exit = exit.clone();
            async move {
                if let Ok(json) = serde_json::to_vec(&exit) {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        c.out.send((kind::EXIT, json)),
                    )
                    .await;
                }
                drop(c.out);
                let _ = tokio::time::timeout(Duration::from_secs(2), c.writer).await;
            }
        })
        .collect();
    futures::future::join_all(farewells).await;
    world.children.hang_up();
    tracing::info!("session {name} ended");
}

/// The status a session's clients exit with: `lumen connect`'s 255 when it never connected.
fn exit_status(world: &World) -> u8 {
    if world.exit_code() == std::process::ExitCode::SUCCESS {
        0
    } else {
        crate::app::SSH_FAILED
    }
}
