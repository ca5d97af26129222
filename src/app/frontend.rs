//! The port between the event loop and whoever looks at the app: the terminal lumen runs in
//! (in-process, [`crate::term::LocalFrontend`]) or the server's attached clients. The loop
//! never touches a terminal itself; it asks its frontend to draw and hands it the effects
//! meant for a client (clipboard, detach, sessions).

use crate::app::msg::Effect;
use crate::app::state::App;
use secrecy::SecretString;

/// The outer terminal's clipboard, as the app asks for it.
#[derive(Debug)]
pub enum ClipboardRequest {
    /// Set it (OSC 52).
    Set(String),
    /// The same for a secret, which is never kept.
    SetSecret(SecretString),
    /// A copied secret's time is up: overwrite it wherever it went (the outer clipboard, and
    /// tmux's buffer when the client runs inside tmux).
    ClearSecret,
}

/// What the app asks of the client that is using it.
#[derive(Debug)]
pub enum ClientEffect {
    Clipboard(ClipboardRequest),
    /// `C-b d`: this client leaves; the session goes on.
    Detach,
    /// `C-b s`: show the sessions to switch between.
    ChooseSession,
    /// Move this client to another session of the server.
    SwitchSession(String),
    /// `C-b $`: the session's new name.
    RenameSession(String),
}

/// What the loop does after a frontend event.
#[derive(Debug)]
pub enum Flow {
    /// Go on, carrying out these effects.
    Continue(Vec<Effect>),
    /// The session ends now.
    End,
}

/// One side of the event loop: it feeds events in and takes frames out.
pub trait Frontend {
    /// Its own events (signals, clients coming, typing and going).
    type Event: Send + 'static;

    /// Where its events arrive; the loop waits on it beside the app's bus.
    fn events(&mut self) -> &mut tokio::sync::mpsc::UnboundedReceiver<Self::Event>;

    /// Act on one of its events, possibly through the app.
    fn on_event(&mut self, app: &mut App, event: Self::Event) -> anyhow::Result<Flow>;

    /// Draw the app for every client that looks at it. False when a client could not take
    /// the frame now (it is drawn again later).
    fn draw(&mut self, app: &App) -> anyhow::Result<bool>;

    /// Carry out an effect meant for a client.
    fn client_effect(&mut self, app: &mut App, effect: ClientEffect);
}
