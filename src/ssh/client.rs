//! Connecting: TCP (nodelay, timeout, clear errors), the russh client handler with host-key
//! verification against known_hosts, agent forwarding on request, then authentication.

use super::config::StrictHostKeyChecking;
use super::error::ChangedKey;
use super::known_hosts::{self, HostKeyStatus, KnownHosts};
use super::prompt::{HostKeyDecision, PromptAnswer, PromptKind, Prompter};
use super::target::{ConnectOptions, Target};
use super::{SshError, auth, fingerprint};
use crate::stream::CloseReason;
use russh::client::{self, ChannelOpenHandle, Msg, Session};
use russh::keys::{Algorithm, PublicKey, PublicKeyOrCertificate};
use russh::{Channel, Preferred};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A connection's receive window budget, and each channel's initial window. With the vendored
/// russh's per-channel flow control (vendor/russh/LUMEN-PATCH.md) window is granted back only
/// as a channel's reader (a pane, an exec) takes data, and the channels receiving at a time
/// share this budget (each at least 128 KiB), so the floods ahead of another pane's echo are
/// bounded by about this much in all, however many panes flood. OpenSSH's channel window: it
/// keeps one flooding pane alone at full speed up to ~80 MB/s on a 25 ms round trip.
pub const CHANNEL_WINDOW: u32 = 2 * 1024 * 1024;

/// What a connection keeps alive while it lives: the jump connection it is tunnelled through,
/// a ProxyCommand child.
pub(crate) type Keep = Box<dyn std::any::Any + Send + Sync>;

/// An authenticated connection. Open PTY sessions and exec channels on it (see `session`).
pub struct Connection {
    pub(crate) handle: client::Handle<ClientHandler>,
    pub target: Target,
    pub(crate) forward_agent: bool,
    /// Skipped known_hosts lines and unusable default keys, for the status bar.
    pub warnings: Vec<String>,
    /// The server's pre-login banner (`Banner` in sshd_config), shown before the session.
    pub banner: Option<String>,
    /// Dropped with the connection (after the russh handle): the transport's owners.
    pub(crate) keep: Vec<Keep>,
    /// Why the connection ended, once it has (set by the russh handler).
    ended: tokio::sync::watch::Receiver<Option<CloseReason>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Whether the connection is gone (every channel on it has ended or will).
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed() || self.ended.borrow().is_some()
    }

    /// Why the connection ended, waiting up to `wait` for the transport to say.
    pub async fn end_reason(&self, wait: std::time::Duration) -> Option<CloseReason> {
        let mut rx = self.ended.clone();
        let got = tokio::time::timeout(wait, rx.wait_for(|r| r.is_some())).await;
        match got {
            Ok(Ok(reason)) => reason.clone(),
            _ => None,
        }
    }

    /// Say goodbye politely; errors do not matter any more.
    pub async fn disconnect(&self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Connect, verify the host key (asking through `prompter` when it is unknown) and authenticate.
pub async fn connect(
    target: &Target,
    opts: &ConnectOptions,
    prompter: &Prompter,
) -> Result<Connection, SshError> {
    let socket = tcp_connect(target, opts).await?;
    connect_over(target, opts, prompter, socket).await
}

/// Like [`connect`] over an already open transport: a jump host's `direct-tcpip` channel or a
/// ProxyCommand's pipes. Host key and authentication are checked as for TCP.
pub async fn connect_over<S>(
    target: &Target,
    opts: &ConnectOptions,
    prompter: &Prompter,
    socket: S,
) -> Result<Connection, SshError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let known = KnownHosts::load_all(
        &opts.user_known_hosts(),
        &opts.lumen_known_hosts,
        &opts.global_known_hosts(),
    );
    if let Some((path, why)) = known.unreadable() {
        return Err(SshError::KnownHostsUnreadable {
            path: path.to_path_buf(),
            why: why.to_string(),
        });
    }
    let mut warnings: Vec<String> = known.warnings().cloned().collect();
    let config = client_config(opts, known.known_algorithms(&target.host, target.port));
    let verdict = Arc::new(Mutex::new(None));
    let prompted = Arc::new(AtomicBool::new(false));
    let banner = Arc::new(Mutex::new(None));
    let (ended_tx, ended) = tokio::sync::watch::channel(None);
    let handler = ClientHandler {
        ended: ended_tx,
        prompted: prompted.clone(),
        accepted: None,
        banner: banner.clone(),
        target: target.clone(),
        known,
        lumen_known_hosts: opts.lumen_known_hosts.clone(),
        prompter: prompter.clone(),
        verdict: verdict.clone(),
        agent_socket: opts.agent_socket_now(),
        forward_agent: opts.forward_agent,
        strict: opts.strict_host_key_checking,
    };
    // The timeout covers a server that accepts TCP but never speaks SSH; it stops counting
    // once the user is asked about the host key.
    let (socket, greeting) = super::sniff::Sniffed::new(socket);
    let handshake = client::connect_stream(Arc::new(config), socket, handler);
    tokio::pin!(handshake);
    let result = tokio::select! {
        r = &mut handshake => r,
        _ = tokio::time::sleep(opts.connect_timeout) => {
            if !prompted.load(Ordering::SeqCst) {
                // Something that is not SSH answered; silence is the timeout below.
                if let Some(e @ SshError::NotSsh { .. }) = not_ssh(target, &greeting) {
                    return Err(e);
                }
                return Err(SshError::ConnectTimeout {
                    host: target.host.clone(),
                    port: target.port,
                    secs: opts.connect_timeout.as_secs(),
                });
            }
            handshake.await
        }
    };
    let mut handle = match result {
        Ok(h) => h,
        Err(e) => {
            let held = verdict.lock().ok().and_then(|mut v| v.take());
            return Err(held
                .or_else(|| not_ssh(target, &greeting))
                .unwrap_or_else(|| handshake_error(target, e)));
        }
    };
    auth::authenticate(&mut handle, target, opts, prompter, &mut warnings).await?;
    let banner = banner.lock().ok().and_then(|mut b| b.take());
    Ok(Connection {
        handle,
        target: target.clone(),
        forward_agent: opts.forward_agent,
        warnings,
        banner,
        keep: Vec::new(),
        ended,
    })
}

/// The failure was in the version exchange: nothing, or something other than SSH, came back.
fn not_ssh(target: &Target, greeting: &super::sniff::Greeting) -> Option<SshError> {
    let (host, port) = (target.host.clone(), target.port);
    match greeting.verdict() {
        super::sniff::Verdict::Ssh => None,
        super::sniff::Verdict::Silent => Some(SshError::ClosedBeforeVersion { host, port }),
        super::sniff::Verdict::NotSsh(first_line) => Some(SshError::NotSsh {
            host,
            port,
            first_line,
        }),
    }
}

fn handshake_error(target: &Target, e: russh::Error) -> SshError {
    match e {
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::IO(_) => {
            SshError::ServerClosedDuringAuth {
                host: target.host.clone(),
                why: e.to_string(),
            }
        }
        other => SshError::Protocol {
            host: target.host.clone(),
            why: other.to_string(),
        },
    }
}

fn client_config(opts: &ConnectOptions, known: Vec<Algorithm>) -> client::Config {
    let defaults = Preferred::default();
    let mut keys: Vec<Algorithm> = known
        .into_iter()
        .filter(|a| defaults.key.contains(a))
        .collect();
    for a in defaults.key.iter() {
        if !keys.contains(a) {
            keys.push(a.clone());
        }
    }
    client::Config {
        nodelay: true,
        keepalive_interval: Some(opts.keepalive_interval),
        keepalive_max: opts.keepalive_max,
        inactivity_timeout: None,
        window_size: CHANNEL_WINDOW,
        preferred: Preferred {
            key: keys.into(),
            ..defaults
        },
        ..Default::default()
    }
}

/// Resolve and connect with a timeout, mapping failures to errors a user can act on.
async fn tcp_connect(target: &Target, opts: &ConnectOptions) -> Result<TcpStream, SshError> {
    let (host, port) = (target.host.clone(), target.port);
    let lookup = tokio::time::timeout(
        opts.connect_timeout,
        tokio::net::lookup_host((target.host.as_str(), port)),
    )
    .await;
    let addrs: Vec<_> = match lookup {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => {
            return Err(SshError::Dns {
                host,
                why: e.to_string(),
            });
        }
        Err(_) => {
            return Err(SshError::Dns {
                host,
                why: "the lookup timed out".into(),
            });
        }
    };
    if addrs.is_empty() {
        return Err(SshError::Dns {
            host,
            why: "no addresses".into(),
        });
    }
    let deadline = tokio::time::Instant::now() + opts.connect_timeout;
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => {
                return Err(SshError::ConnectTimeout {
                    host,
                    port,
                    secs: opts.connect_timeout.as_secs(),
                });
            }
        }
    }
    use std::io::ErrorKind;
    Err(match last {
        Some(e) if e.kind() == ErrorKind::ConnectionRefused => {
            SshError::ConnectionRefused { host, port }
        }
        Some(e)
            if matches!(
                e.kind(),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable
            ) =>
        {
            SshError::NoRoute {
                host,
                port,
                why: e.to_string(),
            }
        }
        Some(e) if e.kind() == ErrorKind::TimedOut => SshError::ConnectTimeout {
            host,
            port,
            secs: opts.connect_timeout.as_secs(),
        },
        e => SshError::Connect {
            host,
            port,
            why: e.map(|e| e.to_string()).unwrap_or_default(),
        },
    })
}

/// The russh handler: host-key policy and agent forwarding.
pub struct ClientHandler {
    target: Target,
    known: KnownHosts,
    lumen_known_hosts: PathBuf,
    prompter: Prompter,
    /// Why a key was refused, for the caller (russh only reports "unknown key").
    verdict: Arc<Mutex<Option<SshError>>>,
    agent_socket: Option<PathBuf>,
    forward_agent: bool,
    strict: StrictHostKeyChecking,
    /// Set while the user is asked about the host key (pauses the connect timeout).
    prompted: Arc<AtomicBool>,
    /// The key accepted in this connection, so a re-key does not ask again.
    accepted: Option<PublicKey>,
    banner: Arc<Mutex<Option<String>>>,
    /// Where the reason the connection ended goes, for every session on it.
    ended: tokio::sync::watch::Sender<Option<CloseReason>>,
}

/// A transport's end in words a user can act on.
fn close_reason(reason: &client::DisconnectReason<russh::Error>) -> CloseReason {
    match reason {
        client::DisconnectReason::ReceivedDisconnect(_) => CloseReason::ServerClosed,
        client::DisconnectReason::Error(russh::Error::KeepaliveTimeout) => {
            CloseReason::KeepaliveTimeout
        }
        client::DisconnectReason::Error(russh::Error::IO(e)) => {
            CloseReason::NetworkLost(e.to_string())
        }
        client::DisconnectReason::Error(russh::Error::HUP | russh::Error::Disconnect) => {
            CloseReason::ServerClosed
        }
        client::DisconnectReason::Error(e) => CloseReason::NetworkLost(e.to_string()),
    }
}

impl ClientHandler {
    fn refuse(&self, e: SshError) -> bool {
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(e);
        }
        false
    }

    async fn verify(&mut self, key: &PublicKey) -> bool {
        if self.accepted.as_ref() == Some(key) {
            return true;
        }
        let ok = self.verify_first(key).await;
        if ok {
            self.accepted = Some(key.clone());
        }
        ok
    }

    async fn verify_first(&self, key: &PublicKey) -> bool {
        let Target { host, port, .. } = &self.target;
        let new_fingerprint = fingerprint::sha256(key);
        match self.known.check(host, *port, key) {
            HostKeyStatus::Known { .. } => true,
            HostKeyStatus::Revoked { file, line } => self.refuse(SshError::HostKeyRevoked {
                host: host.clone(),
                fingerprint: new_fingerprint,
                file,
                line,
            }),
            HostKeyStatus::Changed {
                old_fingerprint,
                file,
                line,
            } => self.refuse(SshError::HostKeyChanged(Box::new(ChangedKey {
                host: host.clone(),
                forget_arg: self.target.forget_arg(),
                known_hosts_name: self.target.known_hosts_name(),
                in_lumen_file: file == self.lumen_known_hosts,
                old_fingerprint,
                new_fingerprint,
                file,
                line,
            }))),
            HostKeyStatus::Unknown if self.strict == StrictHostKeyChecking::Yes => {
                self.refuse(SshError::HostKeyUnknown {
                    host: host.clone(),
                    fingerprint: new_fingerprint,
                })
            }
            HostKeyStatus::Unknown if self.strict != StrictHostKeyChecking::Ask => {
                // accept-new and no: save it without asking, as ssh does.
                match known_hosts::add(&self.lumen_known_hosts, host, *port, key) {
                    Ok(()) => true,
                    Err(e) => self.refuse(e),
                }
            }
            HostKeyStatus::Unknown => {
                let (key_type, fingerprint) = known_hosts::key_summary(key);
                self.prompted.store(true, Ordering::SeqCst);
                let answer = self
                    .prompter
                    .ask(PromptKind::UnknownHostKey {
                        host: host.clone(),
                        port: *port,
                        key_type,
                        fingerprint: fingerprint.clone(),
                    })
                    .await;
                match answer {
                    Some(PromptAnswer::HostKey(HostKeyDecision::AcceptAndSave)) => {
                        match known_hosts::add(&self.lumen_known_hosts, host, *port, key) {
                            Ok(()) => true,
                            Err(e) => self.refuse(e),
                        }
                    }
                    Some(PromptAnswer::HostKey(HostKeyDecision::AcceptOnce)) => true,
                    _ => self.refuse(SshError::HostKeyRejected {
                        host: host.clone(),
                        fingerprint,
                    }),
                }
            }
        }
    }
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        let _ = self.ended.send(Some(close_reason(&reason)));
        match reason {
            client::DisconnectReason::ReceivedDisconnect(_) => Ok(()),
            client::DisconnectReason::Error(e) => Err(e),
        }
    }

    async fn auth_banner(
        &mut self,
        banner: &str,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Ok(mut b) = self.banner.lock() {
            b.get_or_insert_with(String::new).push_str(banner);
        }
        Ok(())
    }

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => Ok(self.verify(key).await),
            PublicKeyOrCertificate::Certificate(_) => Ok(self.refuse(SshError::Protocol {
                host: self.target.host.clone(),
                why: "the server presented a host certificate, which lumen does not verify".into(),
            })),
        }
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(socket) = self.agent_socket.clone().filter(|_| self.forward_agent) else {
            return Ok(()); // dropping `reply` refuses the channel
        };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut agent) = tokio::net::UnixStream::connect(&socket).await {
                let mut stream = channel.into_stream();
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut agent).await;
            }
        });
        Ok(())
    }
}
