//! Jump hosts and shared connections: each hop a russh connection tunnelled through the
//! previous hop's `direct-tcpip` channel, and a [`JumpPool`] so one connection to a jump host
//! (and, with [`JumpPool::shared`], to the destination itself, as OpenSSH's ControlMaster)
//! serves every session and exec through it, closing when the last of them ends.

use super::client::{Connection, connect, connect_over};
use super::prompt::Prompter;
use super::resolve::{Plan, PlannedHop};
use super::{SshError, proxy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Where a tunnel says it comes from (`direct-tcpip` originator); sshd only logs it.
const ORIGINATOR: (&str, u32) = ("127.0.0.1", 0);

/// An authenticated connection shared by the sessions and execs using it; disconnects when
/// the last of them drops its handle.
pub struct SharedConnection {
    conn: Option<Connection>,
    /// The server's banner, shown once, by the first session.
    banner: std::sync::Mutex<Option<String>>,
}

/// The same under its old name, for the jump hops.
type Hop = SharedConnection;

impl SharedConnection {
    fn new(mut conn: Connection) -> Self {
        let banner = std::sync::Mutex::new(conn.banner.take());
        Self {
            conn: Some(conn),
            banner,
        }
    }

    /// The connection (None only while being dropped).
    pub fn conn(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }

    pub fn is_open(&self) -> bool {
        self.conn().is_some_and(|c| !c.is_closed())
    }

    /// The pre-login banner, the first time it is asked for.
    pub fn take_banner(&self) -> Option<String> {
        self.banner.lock().ok().and_then(|mut b| b.take())
    }
}

impl Drop for SharedConnection {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { conn.disconnect().await });
            }
            Err(_) => drop(conn),
        }
    }
}

type Slot = Arc<tokio::sync::Mutex<Weak<Hop>>>;

/// Shared jump connections, keyed by the chain that reaches them. A cheap handle: clone it
/// into every spawner. Connections are held by the sessions using them, not by the pool.
#[derive(Clone, Default)]
pub struct JumpPool {
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

impl std::fmt::Debug for JumpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JumpPool")
            .field("open", &self.open_connections())
            .finish()
    }
}

impl JumpPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many jump connections are open now (for the status bar and tests).
    pub fn open_connections(&self) -> usize {
        let Ok(mut slots) = self.slots.lock() else {
            return 0;
        };
        slots.retain(|_, slot| match slot.try_lock() {
            Ok(weak) => weak.strong_count() > 0,
            Err(_) => true, // being connected right now
        });
        slots
            .values()
            .filter(|s| {
                s.try_lock()
                    .map_or(true, |w| w.upgrade().is_some_and(|h| h.is_open()))
            })
            .count()
    }

    fn slot(&self, key: &str) -> Slot {
        match self.slots.lock() {
            Ok(mut slots) => slots.entry(key.to_string()).or_default().clone(),
            Err(_) => Slot::default(), // a poisoned pool still connects, unshared
        }
    }

    /// Connect to `plan`'s target through its jump hosts, reusing open jump connections.
    /// Errors about a jump host name it: `jump host bastion (10.0.0.5:2222): …`.
    pub async fn connect(&self, plan: &Plan, prompter: &Prompter) -> Result<Connection, SshError> {
        let (via, _) = self.jumps(plan, prompter).await?;
        open_hop(&plan.target, via, prompter).await
    }

    /// The target's connection shared too: an open one to the same destination (user, host,
    /// port, route) is reused, so a second session or an exec logs in no more. Returns the
    /// connection and whether it was opened now (its warnings are then new).
    pub async fn shared(
        &self,
        plan: &Plan,
        prompter: &Prompter,
    ) -> Result<(Arc<SharedConnection>, bool), SshError> {
        let key = plan_key(plan);
        let slot = self.slot(&key);
        let mut held = slot.lock().await;
        if let Some(open) = held.upgrade().filter(|h| h.is_open()) {
            return Ok((open, false));
        }
        let (via, _) = self.jumps(plan, prompter).await?;
        let conn = open_hop(&plan.target, via, prompter).await?;
        let shared = Arc::new(SharedConnection::new(conn));
        *held = Arc::downgrade(&shared);
        Ok((shared, true))
    }

    /// The last jump host's shared connection (None without jumps), and the chain's key.
    async fn jumps(
        &self,
        plan: &Plan,
        prompter: &Prompter,
    ) -> Result<(Option<Arc<Hop>>, String), SshError> {
        let mut via: Option<Arc<Hop>> = None;
        let mut key = String::new();
        for hop in &plan.jumps {
            key.push_str(&hop_key(hop));
            let slot = self.slot(&key);
            let mut held = slot.lock().await;
            if let Some(open) = held.upgrade().filter(|h| h.is_open()) {
                via = Some(open);
                continue;
            }
            let conn = open_hop(hop, via.take(), prompter)
                .await
                .map_err(|e| SshError::Hop {
                    role: "jump host",
                    name: hop.name.clone(),
                    addr: hop.addr(),
                    source: Box::new(e),
                })?;
            let shared = Arc::new(Hop::new(conn));
            *held = Arc::downgrade(&shared);
            via = Some(shared);
        }
        Ok((via, key))
    }
}

/// What identifies a destination's shared connection: its whole route, then the target.
/// Marked so it never equals a jump chain's key.
fn plan_key(plan: &Plan) -> String {
    let mut key: String = plan.jumps.iter().map(hop_key).collect();
    key.push_str("=> ");
    key.push_str(&hop_key(&plan.target));
    key
}

/// What identifies a hop's connection: who, where, and how it is reached.
fn hop_key(hop: &PlannedHop) -> String {
    let t = &hop.target;
    let proxy = hop.proxy_command.as_deref().unwrap_or("");
    format!("{}@{}:{} {proxy}\n", t.user, t.host, t.port)
}

/// One hop: through `via`'s tunnel, else through its ProxyCommand, else over TCP.
async fn open_hop(
    hop: &PlannedHop,
    via: Option<Arc<Hop>>,
    prompter: &Prompter,
) -> Result<Connection, SshError> {
    let (target, opts) = (&hop.target, &hop.options);
    if let Some(via) = via {
        let Some(jump) = via.conn() else {
            return Err(SshError::Channel {
                what: format!("a tunnel to {}", hop.addr()),
                why: "the jump connection is closed".into(),
            });
        };
        let channel = jump
            .handle
            .channel_open_direct_tcpip(
                target.host.clone(),
                u32::from(target.port),
                ORIGINATOR.0,
                ORIGINATOR.1,
            )
            .await
            .map_err(|e| SshError::Channel {
                what: format!("a tunnel to {} through {}", hop.addr(), jump.target.host),
                why: e.to_string(),
            })?;
        let mut conn = connect_over(target, opts, prompter, channel.into_stream()).await?;
        conn.keep.push(Box::new(via));
        return Ok(conn);
    }
    if let Some(command) = &hop.proxy_command {
        let (stream, child) = proxy::spawn(command, &hop.name)?;
        let mut conn = connect_over(target, opts, prompter, stream).await?;
        conn.keep.push(Box::new(child));
        return Ok(conn);
    }
    connect(target, opts, prompter).await
}
