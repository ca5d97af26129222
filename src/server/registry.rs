//! The server's sessions by name: what `lumen ls` lists, where `attach` and `C-b s` find a
//! session, and the agent socket that follows the last client to attach.

use crate::server::proto::SessionSummary;
use crate::server::session::Route;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

pub type SessionId = u64;

/// `SSH_AUTH_SOCK` as the last client to attach has it: new logins use that agent (on a jump
/// box it changes with every login).
#[derive(Debug, Clone, Default)]
pub struct AgentEnv(Arc<RwLock<Option<PathBuf>>>);

impl AgentEnv {
    pub fn get(&self) -> Option<PathBuf> {
        self.0.read().ok().and_then(|a| a.clone())
    }

    pub fn set(&self, socket: Option<PathBuf>) {
        if let Ok(mut a) = self.0.write() {
            *a = socket;
        }
    }
}

struct Entry {
    id: SessionId,
    name: String,
    created: SystemTime,
    used: Instant,
    route: Route,
    attached: usize,
    panes: usize,
    hosts: Vec<String>,
}

#[derive(Default)]
struct Inner {
    sessions: Vec<Entry>,
    next_id: SessionId,
}

/// The sessions of one server.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    pub agent: AgentEnv,
    emptied: tokio::sync::Notify,
    next_client: std::sync::atomic::AtomicU64,
}

/// Whether `name` may name a session: something to type after `-t`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("a session name is 1 to 64 characters".into());
    }
    if name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == ':' || c == '.')
    {
        return Err(format!(
            "'{}' cannot name a session: no spaces, control characters, ':' or '.'",
            name.escape_debug()
        ));
    }
    Ok(())
}

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> Option<T> {
        self.inner.lock().ok().map(|mut i| f(&mut i))
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Add a session, named `name` or the first free number (as tmux names them).
    pub fn add(&self, name: Option<String>, route: Route) -> Result<(SessionId, String), String> {
        self.with(|i| {
            let name = match name {
                Some(n) => {
                    check_name(&n)?;
                    if i.sessions.iter().any(|s| s.name == n) {
                        return Err(format!("duplicate session: {n}"));
                    }
                    n
                }
                None => (0..)
                    .map(|n: u64| n.to_string())
                    .find(|n| !i.sessions.iter().any(|s| &s.name == n))
                    .unwrap_or_default(),
            };
            let id = i.next_id;
            i.next_id += 1;
            i.sessions.push(Entry {
                id,
                name: name.clone(),
                created: SystemTime::now(),
                used: Instant::now(),
                route,
                attached: 0,
                panes: 0,
                hosts: Vec::new(),
            });
            Ok((id, name))
        })
        .unwrap_or_else(|| Err("the session list is unusable".into()))
    }

    pub fn remove(&self, id: SessionId) {
        let empty = self
            .with(|i| {
                i.sessions.retain(|s| s.id != id);
                i.sessions.is_empty()
            })
            .unwrap_or(true);
        if empty {
            self.emptied.notify_one();
        }
    }

    /// Wait until the last session has ended.
    pub async fn emptied(&self) {
        self.emptied.notified().await
    }

    pub fn is_empty(&self) -> bool {
        self.with(|i| i.sessions.is_empty()).unwrap_or(true)
    }

    pub fn name_of(&self, id: SessionId) -> Option<String> {
        self.with(|i| {
            i.sessions
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone())
        })
        .flatten()
    }

    pub fn update(&self, id: SessionId, attached: usize, panes: usize, hosts: Vec<String>) {
        self.with(|i| {
            if let Some(s) = i.sessions.iter_mut().find(|s| s.id == id) {
                s.attached = attached;
                s.panes = panes;
                s.hosts = hosts;
            }
        });
    }

    /// The session was just used (attached to).
    pub fn touch(&self, id: SessionId) {
        self.with(|i| {
            if let Some(s) = i.sessions.iter_mut().find(|s| s.id == id) {
                s.used = Instant::now();
            }
        });
    }

    pub fn rename(&self, id: SessionId, name: &str) -> Result<(), String> {
        check_name(name)?;
        self.with(|i| {
            if i.sessions.iter().any(|s| s.name == name && s.id != id) {
                return Err(format!("duplicate session: {name}"));
            }
            if let Some(s) = i.sessions.iter_mut().find(|s| s.id == id) {
                s.name = name.to_string();
            }
            Ok(())
        })
        .unwrap_or_else(|| Err("the session list is unusable".into()))
    }

    /// The sessions, oldest first.
    pub fn summaries(&self) -> Vec<SessionSummary> {
        self.with(|i| {
            i.sessions
                .iter()
                .map(|s| SessionSummary {
                    name: s.name.clone(),
                    created: s
                        .created
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                    attached: s.attached,
                    panes: s.panes,
                    hosts: s.hosts.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
    }

    /// The session named `name`, or without one the most recently used.
    pub fn find(&self, name: Option<&str>) -> Option<(String, Route)> {
        self.with(|i| {
            let s = match name {
                Some(n) => i.sessions.iter().find(|s| s.name == n),
                None => i.sessions.iter().max_by_key(|s| s.used),
            };
            s.map(|s| (s.name.clone(), s.route.clone()))
        })
        .flatten()
    }

    pub fn route_of(&self, name: &str) -> Option<Route> {
        self.find(Some(name)).map(|(_, r)| r)
    }

    pub fn routes(&self) -> Vec<(String, Route)> {
        self.with(|i| {
            i.sessions
                .iter()
                .map(|s| (s.name.clone(), s.route.clone()))
                .collect()
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        Route {
            events: tokio::sync::mpsc::unbounded_channel().0,
            waker: crate::stream::Waker::new(),
        }
    }

    #[test]
    fn sessions_are_numbered_named_renamed_and_found() {
        let r = Registry::default();
        let (a, name_a) = r.add(None, route()).unwrap();
        assert_eq!(name_a, "0");
        let (_, name_b) = r.add(Some("db".into()), route()).unwrap();
        assert_eq!(name_b, "db");
        assert!(
            r.add(Some("db".into()), route())
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(r.add(Some("a b".into()), route()).is_err());
        assert_eq!(r.find(None).unwrap().0, "db", "the most recently used");
        r.touch(a);
        assert_eq!(r.find(None).unwrap().0, "0");
        r.rename(a, "web").unwrap();
        assert!(r.rename(a, "db").is_err());
        assert_eq!(r.name_of(a).as_deref(), Some("web"));
        let names: Vec<_> = r.summaries().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["web", "db"]);
        r.remove(a);
        assert!(!r.is_empty());
    }
}
