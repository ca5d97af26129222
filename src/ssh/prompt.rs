//! Questions the SSH code asks the user (host key, password, passphrase, keyboard-interactive),
//! sent over a channel the app serves with dialogs. A dropped reply means "cancelled".

use secrecy::SecretString;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// What the user is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// The host is not in any known_hosts file. `fingerprint` is `SHA256:…` as `ssh-keygen -l`
    /// prints it; `key_type` is `ED25519`, `ECDSA`, `RSA`.
    UnknownHostKey {
        host: String,
        port: u16,
        key_type: String,
        fingerprint: String,
    },
    Password {
        user: String,
        host: String,
    },
    /// `attempt` counts from 1 to 3.
    Passphrase {
        key_path: String,
        attempt: u8,
    },
    /// One round of keyboard-interactive; `prompts` pair the text with "echo the answer".
    KeyboardInteractive {
        name: String,
        instruction: String,
        prompts: Vec<(String, bool)>,
    },
}

/// The answer to an unknown host key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyDecision {
    AcceptAndSave,
    AcceptOnce,
    Reject,
}

/// What the user answered. Secrets are zeroized when dropped.
#[derive(Debug)]
pub enum PromptAnswer {
    HostKey(HostKeyDecision),
    /// A password or passphrase.
    Secret(SecretString),
    /// One answer per keyboard-interactive prompt, in order.
    Responses(Vec<SecretString>),
}

/// One question in flight. Answer with `reply.send(Some(answer))`; send `None` or drop it to
/// cancel.
#[derive(Debug)]
pub struct PromptRequest {
    pub kind: PromptKind,
    pub reply: oneshot::Sender<Option<PromptAnswer>>,
}

/// Where questions go: a channel (tests, batch use) or the app's message bus.
#[derive(Clone)]
enum Sink {
    Channel(mpsc::Sender<PromptRequest>),
    Fn(Arc<dyn Fn(PromptRequest) + Send + Sync>),
}

/// The SSH side of the prompt channel. Cheap to clone.
#[derive(Clone)]
pub struct Prompter(Sink);

impl std::fmt::Debug for Prompter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prompter")
    }
}

/// How many questions may wait for the UI.
pub const PROMPT_QUEUE: usize = 8;

impl Prompter {
    /// A prompter and the receiver the app serves.
    pub fn channel() -> (Self, mpsc::Receiver<PromptRequest>) {
        let (tx, rx) = mpsc::channel(PROMPT_QUEUE);
        (Self(Sink::Channel(tx)), rx)
    }

    /// A prompter that hands each question to `sink` (the app wraps it in its message).
    pub fn from_fn(sink: impl Fn(PromptRequest) + Send + Sync + 'static) -> Self {
        Self(Sink::Fn(Arc::new(sink)))
    }

    /// A prompter nobody answers: every question is cancelled at once (batch use, `exec`).
    pub fn none() -> Self {
        let (tx, _rx) = mpsc::channel(1);
        Self(Sink::Channel(tx))
    }

    /// Ask and wait. None when cancelled or when the app is gone.
    pub async fn ask(&self, kind: PromptKind) -> Option<PromptAnswer> {
        let (reply, answer) = oneshot::channel();
        let req = PromptRequest { kind, reply };
        match &self.0 {
            Sink::Channel(tx) => tx.send(req).await.ok()?,
            Sink::Fn(f) => f(req),
        }
        answer.await.ok().flatten()
    }
}
