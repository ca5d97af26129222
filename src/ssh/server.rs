//! The embedded SSH server for `lumen demo` and the hermetic tests: 127.0.0.1 on a random port,
//! an ephemeral Ed25519 host key, one ephemeral client key accepted, PTY shells of the local user
//! (through [`crate::pty`]) and exec requests.

use super::SshError;
use super::server_process::{self as process, ChannelState, Input, Output};
use super::target::{ConnectOptions, Target, local_user};
use crate::pty::{PtyCommand, user_shell};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Response, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The server answers failed authentication quickly: it only ever serves loopback.
const AUTH_REJECTION_TIME: Duration = Duration::from_millis(10);

/// One keyboard-interactive round the server asks after the key (tests only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiRound {
    pub name: String,
    pub instruction: String,
    /// (prompt, echo, expected answer)
    pub prompts: Vec<(String, bool, String)>,
}

/// A fake host's answer to one exec request (tests and benchmarks: hosts that are not this
/// machine, hosts that hang, flood or drop the connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CannedReply {
    /// Print this and exit with `status`, after `delay`.
    Output {
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        status: u32,
        delay: Duration,
    },
    /// Never answer (the channel stays open until the client closes it).
    Hang,
    /// `bytes` bytes of `x` on stdout, then exit 0.
    Flood { bytes: usize },
    /// Drop the whole connection.
    Disconnect,
}

/// Answers exec requests from a function of the command instead of running them.
#[derive(Clone)]
pub struct CannedExec(pub Arc<dyn Fn(&str) -> CannedReply + Send + Sync>);

impl std::fmt::Debug for CannedExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CannedExec(..)")
    }
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct EmbeddedServerOptions {
    /// The shell for PTY sessions; exec runs `/bin/sh -c COMMAND`.
    pub shell: PtyCommand,
    /// Rounds of keyboard-interactive required after the public key (partial success).
    pub keyboard_interactive: Vec<KiRound>,
    /// A pre-login banner, as sshd's `Banner`.
    pub banner: Option<String>,
    /// When set, exec requests are answered by it and nothing is run (a fake host).
    pub canned: Option<CannedExec>,
    /// The client key to accept; None: a new one. Many servers sharing one key stand for a
    /// fleet a single identity file logs into.
    pub client_key: Option<Arc<PrivateKey>>,
}

impl Default for EmbeddedServerOptions {
    fn default() -> Self {
        Self {
            shell: PtyCommand::new(user_shell().0),
            keyboard_interactive: Vec::new(),
            banner: None,
            canned: None,
            client_key: None,
        }
    }
}

/// A running server. Stops when dropped.
pub struct EmbeddedServer {
    pub addr: SocketAddr,
    pub host_key: PublicKey,
    /// The only key the server accepts; give it to the client (`ConnectOptions::keys`).
    pub client_key: Arc<PrivateKey>,
    /// Clients that logged in so far (tests count how many logins a feature costs).
    logins: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn ephemeral_key() -> Result<PrivateKey, SshError> {
    use rand::RngCore;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng
        .try_fill_bytes(seed.as_mut())
        .map_err(|e| SshError::Server(format!("no randomness for a key: {e}")))?;
    Ok(PrivateKey::from(Ed25519Keypair::from_seed(&seed)))
}

impl EmbeddedServer {
    /// Bind 127.0.0.1:0 and serve in the background (inside a tokio runtime).
    pub async fn start(opts: EmbeddedServerOptions) -> Result<Self, SshError> {
        let host = ephemeral_key()?;
        let client = match &opts.client_key {
            Some(k) => k.clone(),
            None => Arc::new(ephemeral_key()?),
        };
        let host_key = host.public_key().clone();
        let client_public = client.public_key().clone();
        let config = Arc::new(server::Config {
            keys: vec![host],
            auth_rejection_time: AUTH_REJECTION_TIME,
            auth_rejection_time_initial: Some(Duration::ZERO),
            methods: MethodSet::from(&[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..]),
            inactivity_timeout: None,
            nodelay: true,
            ..Default::default()
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| SshError::Server(format!("cannot bind 127.0.0.1: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SshError::Server(e.to_string()))?;
        let logins = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            client_key: client_public,
            opts,
            logins: logins.clone(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut factory = Factory(shared);
            use russh::server::Server as _;
            let running = factory.run_on_socket(config, &listener);
            let handle = running.handle();
            tokio::select! {
                _ = running => {}
                _ = stopped => handle.shutdown("server stopping".into()),
            }
        });
        Ok(Self {
            addr,
            host_key,
            client_key: client,
            logins,
            stop: Some(stop),
        })
    }

    /// Options for a client of this server: its host key saved (hashed) in `lumen_known_hosts`
    /// and its client key in memory. What `lumen demo` uses.
    pub fn client_options(&self, lumen_known_hosts: &Path) -> Result<ConnectOptions, SshError> {
        super::known_hosts::add(lumen_known_hosts, "127.0.0.1", self.port(), &self.host_key)?;
        let mut opts = ConnectOptions::isolated(lumen_known_hosts);
        opts.keys = vec![self.client_key.clone()];
        Ok(opts)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many times a client has logged in (completed authentication) since the start.
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }

    /// A target for this server as `user` (the local user if None).
    pub fn target(&self, user: Option<&str>) -> Target {
        Target::new(
            user.map(str::to_string).unwrap_or_else(local_user),
            "127.0.0.1",
            self.port(),
        )
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Shared {
    client_key: PublicKey,
    opts: EmbeddedServerOptions,
    logins: Arc<AtomicUsize>,
}

struct Factory(Arc<Shared>);

impl server::Server for Factory {
    type Handler = Conn;
    fn new_client(&mut self, _peer: Option<SocketAddr>) -> Conn {
        Conn {
            shared: self.0.clone(),
            key_ok: false,
            ki_round: 0,
            channels: HashMap::new(),
            canned_stops: HashMap::new(),
        }
    }
}

/// One client connection.
struct Conn {
    shared: Arc<Shared>,
    key_ok: bool,
    ki_round: usize,
    channels: HashMap<ChannelId, ChannelState>,
    /// Canned replies in progress, told to stop when their channel closes.
    canned_stops: HashMap<ChannelId, Arc<AtomicBool>>,
}

fn clamp(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX).max(1)
}

impl Conn {
    fn start(&mut self, id: ChannelId, cmd: PtyCommand, session: &mut Session) {
        process::start(&mut self.channels, id, cmd, session);
    }

    fn ki_challenge(&self) -> Auth {
        match self.shared.opts.keyboard_interactive.get(self.ki_round) {
            Some(round) => Auth::Partial {
                name: round.name.clone().into(),
                instructions: round.instruction.clone().into(),
                prompts: round
                    .prompts
                    .iter()
                    .map(|(p, echo, _)| (p.clone().into(), *echo))
                    .collect::<Vec<_>>()
                    .into(),
            },
            None => Auth::Accept,
        }
    }
}

impl server::Handler for Conn {
    type Error = russh::Error;

    async fn authentication_banner(&mut self) -> Result<Option<String>, Self::Error> {
        Ok(self.shared.opts.banner.clone())
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        self.shared.logins.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(
            if offer.public_key.key_data() == self.shared.client_key.key_data() {
                Auth::Accept
            } else {
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if key.public_key.key_data() != self.shared.client_key.key_data() {
            return Ok(Auth::reject());
        }
        self.key_ok = true;
        if self.shared.opts.keyboard_interactive.is_empty() {
            return Ok(Auth::Accept);
        }
        Ok(Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
            partial_success: true,
        })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if !self.key_ok || self.shared.opts.keyboard_interactive.is_empty() {
            return Ok(Auth::reject());
        }
        let Some(response) = response else {
            self.ki_round = 0;
            return Ok(self.ki_challenge());
        };
        let Some(round) = self.shared.opts.keyboard_interactive.get(self.ki_round) else {
            return Ok(Auth::reject());
        };
        let answers: Vec<String> = response
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        let expected: Vec<&str> = round.prompts.iter().map(|(_, _, a)| a.as_str()).collect();
        if answers != expected {
            self.ki_round = 0;
            return Ok(Auth::reject());
        }
        self.ki_round += 1;
        Ok(self.ki_challenge())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let id = channel.id();
        // Only the sending half: what the client sends comes through `Handler::data`.
        let (_read, writer) = channel.split();
        self.channels.insert(id, ChannelState::new(writer));
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(state) = self.channels.get_mut(&channel) {
            state.pty = Some((clamp(col_width), clamp(row_height)));
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let allowed = name == "LANG" || name.starts_with("LC_");
        match self.channels.get_mut(&channel) {
            Some(state) if allowed => {
                state.env.push((name.to_string(), value.to_string()));
                session.channel_success(channel)?;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let shell = self.shared.opts.shell.clone();
        self.start(channel, shell, session);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(canned) = &self.shared.opts.canned {
            let reply = (canned.0)(&String::from_utf8_lossy(data));
            if reply == CannedReply::Disconnect {
                return Err(russh::Error::Disconnect);
            }
            let Some(out) = self.channels.get_mut(&channel).and_then(|s| s.out.take()) else {
                session.channel_failure(channel)?;
                return Ok(());
            };
            session.channel_success(channel)?;
            let stop = Arc::new(AtomicBool::new(false));
            self.canned_stops.insert(channel, stop.clone());
            tokio::spawn(answer(session.handle(), out, channel, reply, stop));
            return Ok(());
        }
        let mut cmd = PtyCommand::new("/bin/sh");
        cmd.args = vec!["-c".into(), String::from_utf8_lossy(data).into_owned()];
        self.start(channel, cmd, session);
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(ChannelState {
            input: Some(Input::Pty(h)),
            ..
        }) = self.channels.get(&channel)
        {
            h.resize(clamp(col_width), clamp(row_height));
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get(&channel).and_then(|s| s.input.as_ref()) {
            Some(Input::Pty(h)) => {
                h.write(data);
            }
            Some(Input::Pipe(tx)) => {
                let _ = tx.send(data.to_vec());
            }
            None => {}
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(state) = self.channels.get_mut(&channel)
            && matches!(state.input, Some(Input::Pipe(_)))
        {
            state.input = None; // closes the child's stdin
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(stop) = self.canned_stops.remove(&channel) {
            stop.store(true, Ordering::Relaxed);
        }
        if let Some(ChannelState {
            input: Some(Input::Pty(h)),
            ..
        }) = self.channels.remove(&channel)
        {
            h.close();
        }
        Ok(())
    }
}

/// Send a canned reply on an exec channel.
async fn answer(
    handle: server::Handle,
    mut out: Output,
    id: ChannelId,
    reply: CannedReply,
    stop: Arc<AtomicBool>,
) {
    const CHUNK: usize = 32 * 1024;
    let status = match reply {
        CannedReply::Hang | CannedReply::Disconnect => return,
        CannedReply::Output {
            stdout,
            stderr,
            status,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            for chunk in stdout.chunks(CHUNK) {
                if !out.send(None, chunk.to_vec()).await {
                    return;
                }
            }
            for chunk in stderr.chunks(CHUNK) {
                if !out.send(Some(1), chunk.to_vec()).await {
                    return;
                }
            }
            status
        }
        CannedReply::Flood { bytes } => {
            let chunk = vec![b'x'; CHUNK];
            let mut left = bytes;
            while left > 0 {
                if stop.load(Ordering::Relaxed) {
                    return; // the client closed the channel, as sshd's child gets SIGPIPE
                }
                let n = left.min(CHUNK);
                if !out.send(None, chunk[..n].to_vec()).await {
                    return; // the client closed the channel: stop flooding
                }
                left -= n;
            }
            0
        }
    };
    let _ = handle.exit_status_request(id, status).await;
    let _ = handle.eof(id).await;
    let _ = handle.close(id).await;
}

impl Drop for Conn {
    fn drop(&mut self) {
        for (_, state) in self.channels.drain() {
            if let Some(Input::Pty(h)) = state.input {
                h.close();
            }
        }
    }
}
