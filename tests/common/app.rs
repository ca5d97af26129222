//! An `App` on channels instead of PTYs: tests send program output and read what the app
//! wrote to each pane's backend.

use lumen::app::config::Config;
use lumen::app::{App, AppOptions, Bus, Effect, PaneSpec, Spawner};
use lumen::stream::{self, Stream, StreamCmd, StreamEnds, StreamEvent, Waker};
use std::cell::RefCell;
use std::rc::Rc;

/// The backend ends of every pane the app spawned, in spawn order.
pub type Backends = Rc<RefCell<Vec<StreamEnds>>>;

pub struct ChannelSpawner {
    pub backends: Backends,
    pub specs: Rc<RefCell<Vec<PaneSpec>>>,
}

impl Spawner for ChannelSpawner {
    fn spawn(
        &mut self,
        spec: &PaneSpec,
        _cols: u16,
        _rows: u16,
        waker: &Waker,
    ) -> Result<(Stream, String), String> {
        let (stream, ends) = stream::channel(waker);
        self.backends.borrow_mut().push(ends);
        self.specs.borrow_mut().push(spec.clone());
        let title = match spec {
            PaneSpec::LocalShell => "sh".to_string(),
            PaneSpec::Ssh { name, .. } => name.clone(),
            PaneSpec::Vault
            | PaneSpec::Hosts
            | PaneSpec::Copilot
            | PaneSpec::Scan
            | PaneSpec::Run
            | PaneSpec::Logs
            | PaneSpec::Replay => {
                return Err("not a stream".into());
            }
        };
        Ok((stream, title))
    }
}

pub fn app(w: u16, h: u16) -> (App, Backends) {
    app_with(Config::default(), w, h)
}

pub fn app_with(config: Config, w: u16, h: u16) -> (App, Backends) {
    let (app, backends, _) = app_spec(config, w, h, PaneSpec::LocalShell);
    (app, backends)
}

/// An app whose first tab runs `first`; also returns every spec spawned, in order.
pub fn app_spec(
    config: Config,
    w: u16,
    h: u16,
    first: PaneSpec,
) -> (App, Backends, Rc<RefCell<Vec<PaneSpec>>>) {
    let backends: Backends = Rc::default();
    let specs: Rc<RefCell<Vec<PaneSpec>>> = Rc::default();
    let mut opts = AppOptions::new(Box::new(ChannelSpawner {
        backends: backends.clone(),
        specs: specs.clone(),
    }));
    opts.config = config;
    opts.size = (w, h);
    let mut app = App::new(opts);
    app.new_tab(first);
    (app, backends, specs)
}

/// Like [`app_spec`] with the options adjusted by `adjust` before the app is built.
pub fn app_spec_with(
    w: u16,
    h: u16,
    first: PaneSpec,
    adjust: impl FnOnce(&mut AppOptions),
) -> (App, Backends, Rc<RefCell<Vec<PaneSpec>>>) {
    let backends: Backends = Rc::default();
    let specs: Rc<RefCell<Vec<PaneSpec>>> = Rc::default();
    let mut opts = AppOptions::new(Box::new(ChannelSpawner {
        backends: backends.clone(),
        specs: specs.clone(),
    }));
    opts.size = (w, h);
    adjust(&mut opts);
    let mut app = App::new(opts);
    app.new_tab(first);
    (app, backends, specs)
}

/// Options for an app on channel-backed panes, `w`x`h`, to adjust before `App::new`.
pub fn options(w: u16, h: u16) -> AppOptions {
    let mut opts = AppOptions::new(Box::new(ChannelSpawner {
        backends: Backends::default(),
        specs: Rc::default(),
    }));
    opts.size = (w, h);
    opts
}

/// Run the background tasks the app asked for (as the event loop would, but here and now),
/// feeding each result back, until none is left. Returns the other effects, in order.
pub fn settle(app: &mut App) -> Vec<Effect> {
    let mut others = Vec::new();
    let mut queue = app.take_effects();
    while !queue.is_empty() {
        for effect in std::mem::take(&mut queue) {
            match effect {
                Effect::Spawn(task) => queue.extend(app.update((*task).run_blocking())),
                other => others.push(other),
            }
        }
    }
    others
}

/// Like [`settle`], with the async tasks (scans, the copilot's jobs) too: they run on this tokio runtime, and every
/// message they send (progress, then the result) is applied in order; `seen` looks at the app
/// after each message. Returns the other effects, in order.
pub async fn settle_async(app: &mut App, mut seen: impl FnMut(&App)) -> Vec<Effect> {
    let (bus, mut inbox) = Bus::channel();
    let mut running = tokio::task::JoinSet::new();
    let mut others = Vec::new();
    let mut queue = app.take_effects();
    loop {
        while !queue.is_empty() {
            for effect in std::mem::take(&mut queue) {
                match effect {
                    Effect::Spawn(task) => queue.extend(app.update((*task).run_blocking())),
                    Effect::SpawnAsync(task) => {
                        running.spawn((*task).run(bus.clone()));
                    }
                    Effect::Ai(job) => {
                        running.spawn(job.report_to(bus.clone()));
                    }
                    other => others.push(other),
                }
            }
        }
        let msg = if running.is_empty() {
            // A task sends its last message before it ends: whatever is left is here now.
            match inbox.try_recv() {
                Ok(msg) => msg,
                Err(_) => return others,
            }
        } else {
            tokio::select! {
                msg = inbox.recv() => msg.expect("the bus lives here"),
                _ = running.join_next() => continue,
            }
        };
        queue.extend(app.update(msg));
        while app.pump() {}
        seen(app);
    }
}

/// End pane number `i`'s stream with `reason`.
pub fn close(app: &mut App, backends: &Backends, i: usize, reason: lumen::stream::CloseReason) {
    backends.borrow()[i]
        .events
        .try_send(StreamEvent::Closed(reason))
        .expect("pane queue has room");
    while app.pump() {}
}

/// Queue program output for pane number `i` (spawn order) and let the app parse it.
pub fn output(app: &mut App, backends: &Backends, i: usize, bytes: &[u8]) {
    backends.borrow()[i]
        .events
        .try_send(StreamEvent::Data(bytes.to_vec()))
        .expect("pane queue has room");
    while app.pump() {}
}

/// Everything the app wrote to pane number `i` so far, and its resizes.
pub fn written(backends: &Backends, i: usize) -> (Vec<u8>, Vec<(u16, u16)>) {
    let mut input = Vec::new();
    let mut sizes = Vec::new();
    while let Ok(cmd) = backends.borrow_mut()[i].commands.try_recv() {
        match cmd {
            StreamCmd::Input(b) => input.extend(b),
            StreamCmd::Resize { cols, rows } => sizes.push((cols, rows)),
            StreamCmd::Close => {}
        }
    }
    (input, sizes)
}

/// The whole app drawn through the headless frontend (the event loop's port), as text.
pub fn screen(app: &App) -> String {
    lumen::app::headless::Headless::frame(app)
}
