//! What can go wrong talking to a model provider, in words the operator can act on.

use super::ProviderKind;
use std::time::Duration;

/// Longest provider message quoted in an error; their bodies can be long HTML pages.
pub(crate) const MAX_QUOTED: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "{provider} refused the API key (HTTP {status}: {message}); check the key that api_key names in the [ai] section of config.toml"
    )]
    BadKey {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error(
        "{provider} does not know the model '{model}' (HTTP 404: {message}); check model (and base_url) in the [ai] section of config.toml"
    )]
    UnknownModel {
        provider: ProviderKind,
        model: String,
        message: String,
    },
    #[error(
        "{provider} has no API at {url} (HTTP {status}: {message}); that URL was made from {base_url} in the [ai] section of config.toml: check it (lumen adds the API's path itself; a URL ending in the whole endpoint path is used as it is)"
    )]
    WrongUrl {
        provider: ProviderKind,
        status: u16,
        url: String,
        base_url: String,
        message: String,
    },
    #[error(
        "the {provider} account is out of quota or credit ({message}); add credit or raise the limit in the provider's console, then ask again"
    )]
    QuotaExhausted {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider} is rate limiting this key{}; wait and ask again", retry_hint(*retry_after, *attempts))]
    RateLimited {
        provider: ProviderKind,
        retry_after: Option<Duration>,
        attempts: u32,
    },
    #[error("{provider} is overloaded{}; ask again in a minute", retry_hint(*retry_after, *attempts))]
    Overloaded {
        provider: ProviderKind,
        retry_after: Option<Duration>,
        attempts: u32,
    },
    #[error("{provider} failed with HTTP {status} after {attempts} attempt(s): {message}")]
    Server {
        provider: ProviderKind,
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error("{provider} rejected the request (HTTP {status}): {message}")]
    Rejected {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error(
        "cannot reach {url}: {detail}; check base_url in the [ai] section of config.toml, the network, and that the server is running"
    )]
    NoRoute { url: String, detail: String },
    #[error(
        "TLS with {url} failed: {detail}; if the server's certificate comes from a private authority, set ca_file in the [ai] section of config.toml"
    )]
    Tls { url: String, detail: String },
    #[error(
        "no connection to {url} within {} s; check the network and the proxy settings (HTTPS_PROXY, NO_PROXY)", timeout.as_secs()
    )]
    ConnectTimeout { url: String, timeout: Duration },
    #[error("{provider} sent nothing for {} s, so the answer was abandoned; ask again", timeout.as_secs())]
    IdleTimeout {
        provider: ProviderKind,
        timeout: Duration,
    },
    #[error("{provider} closed the connection before the answer was complete; ask again")]
    EarlyClose { provider: ProviderKind },
    #[error(
        "{provider} sent something lumen cannot read ({detail}); check that base_url points at a {provider} API"
    )]
    Garbage {
        provider: ProviderKind,
        detail: String,
    },
    #[error(
        "{provider} sent {what} longer than {limit} bytes in its event stream, so lumen stopped reading the answer; check that base_url points at a {provider} API"
    )]
    TooLong {
        provider: ProviderKind,
        what: &'static str,
        limit: usize,
    },
    #[error("{provider} stopped the answer with an error: {message}")]
    Stream {
        provider: ProviderKind,
        message: String,
    },
    #[error(
        "{provider} needs an API key: set api_key = \"vault:NAME\" or \"env:NAME\" in the [ai] section of config.toml"
    )]
    NoKey { provider: ProviderKind },
    #[error(
        "the environment variable {name} that api_key names is not set (or is not UTF-8): \
         export it before starting lumen, or keep the key in the vault instead (lumen ai setup)"
    )]
    MissingEnvKey { name: String },
    #[error(
        "api_key names the vault entry '{name}', but no key from it was given; unlock the vault"
    )]
    MissingVaultKey { name: String },
    #[error(
        "openai-compatible needs a base_url in the [ai] section of config.toml (for example http://127.0.0.1:11434/v1)"
    )]
    NoBaseUrl,
    #[error(
        "cannot use the CA file {path}: {detail}; ca_file must name a PEM file of certificates"
    )]
    CaFile { path: String, detail: String },
    #[error("the proxy {url} from {variable} is not usable: {detail}")]
    Proxy {
        variable: &'static str,
        url: String,
        detail: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl ProviderError {
    /// Whether asking again later, unchanged, could work (the pane offers a retry for these).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Overloaded { .. }
                | Self::Server { .. }
                | Self::ConnectTimeout { .. }
                | Self::IdleTimeout { .. }
                | Self::EarlyClose { .. }
                | Self::Stream { .. }
        )
    }
}

fn retry_hint(retry_after: Option<Duration>, attempts: u32) -> String {
    let tries = if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    };
    match retry_after {
        Some(d) => format!("{tries}; it asks to wait {} s", d.as_secs().max(1)),
        None => tries,
    }
}

/// A provider's message made safe to show: the key never appears, control characters go,
/// and long bodies are cut.
pub(crate) fn quote(message: &str, key: Option<&str>) -> String {
    let mut text = message.to_string();
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        text = text.replace(key, "[redacted]");
    }
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_QUOTED)
        .collect();
    if text.chars().count() > MAX_QUOTED {
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_never_show_the_key_and_stay_short() {
        let q = quote(
            "Incorrect API key provided: sk-secret-1\n",
            Some("sk-secret-1"),
        );
        assert_eq!(q, "Incorrect API key provided: [redacted]");
        assert_eq!(
            quote(&"x".repeat(1000), None).chars().count(),
            MAX_QUOTED + 1
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = ProviderError::RateLimited {
            provider: ProviderKind::OpenAi,
            retry_after: Some(Duration::from_secs(20)),
            attempts: 4,
        };
        assert_eq!(
            e.to_string(),
            "OpenAI is rate limiting this key (after 4 attempts); it asks to wait 20 s; wait and ask again"
        );
        let e = ProviderError::Overloaded {
            provider: ProviderKind::Anthropic,
            retry_after: None,
            attempts: 1,
        };
        assert_eq!(
            e.to_string(),
            "Anthropic is overloaded; ask again in a minute"
        );
    }
}
