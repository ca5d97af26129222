//! HTTP for every provider: one rustls client with timeouts, proxies from the environment and
//! an optional private CA; auth headers; failures below HTTP in the user's terms.

use super::error::quote;
use super::status::{RetryPolicy, StatusFailure, classify};
use super::{ApiKey, ProviderError, ProviderKind};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

/// How long to wait for a TCP (and TLS) connection to a provider.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a provider may stay silent, between any two bytes, before the answer is abandoned.
/// Anthropic pings every few seconds; thinking models can pause for a long while.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Most of an error body read to explain a failure.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Always reached directly: a corporate proxy cannot forward to this machine's own servers.
const LOOPBACK_NO_PROXY: &str = "localhost,127.0.0.1,::1";

/// Builds a proxy for one scheme (or all) from its URL.
type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;

/// Proxy variables as curl reads them (upper case first, then lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    pub https_proxy: Option<String>,
    pub http_proxy: Option<String>,
    pub all_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name.to_ascii_uppercase())
                .or_else(|_| std::env::var(name))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        Self {
            https_proxy: var("https_proxy"),
            http_proxy: var("http_proxy"),
            all_proxy: var("all_proxy"),
            no_proxy: var("no_proxy"),
        }
    }

    fn apply(
        &self,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, ProviderError> {
        // reqwest would read the environment itself; we read it once, here, so tests can
        // pass their own and so loopback is always direct.
        builder = builder.no_proxy();
        let exempt = match &self.no_proxy {
            Some(list) => format!("{list},{LOOPBACK_NO_PROXY}"),
            None => LOOPBACK_NO_PROXY.to_string(),
        };
        let proxies: [(&'static str, &Option<String>, MakeProxy); 3] = [
            ("HTTPS_PROXY", &self.https_proxy, |u| {
                reqwest::Proxy::https(u)
            }),
            ("HTTP_PROXY", &self.http_proxy, |u| reqwest::Proxy::http(u)),
            ("ALL_PROXY", &self.all_proxy, |u| reqwest::Proxy::all(u)),
        ];
        for (variable, url, make) in proxies {
            let Some(url) = url else { continue };
            let proxy = make(url.as_str()).map_err(|e| ProviderError::Proxy {
                variable,
                url: url.clone(),
                detail: e.to_string(),
            })?;
            builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_string(&exempt)));
        }
        Ok(builder)
    }
}

/// How lumen talks HTTP to providers.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub retry: RetryPolicy,
    pub proxy: ProxyEnv,
    /// Extra trusted certificates (PEM), added to the system's.
    pub ca_file: Option<PathBuf>,
}

impl ProviderSettings {
    /// The defaults, with proxies from this process's environment.
    pub fn from_env(ca_file: Option<PathBuf>) -> Self {
        Self {
            connect_timeout: CONNECT_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            retry: RetryPolicy::default(),
            proxy: ProxyEnv::from_env(),
            ca_file,
        }
    }

    pub(crate) fn client(&self) -> Result<reqwest::Client, ProviderError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.idle_timeout)
            .user_agent(concat!("lumen/", env!("CARGO_PKG_VERSION")));
        builder = self.proxy.apply(builder)?;
        if let Some(path) = &self.ca_file {
            let bad = |detail: String| ProviderError::CaFile {
                path: path.display().to_string(),
                detail,
            };
            let pem = crate::text::read_capped(path, crate::text::SETTINGS_FILE_LIMIT)
                .map_err(|e| bad(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in it".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        builder
            .build()
            .map_err(|e| ProviderError::Client(error_chain(&e)))
    }
}

/// One provider endpoint, ready to send to.
#[derive(Clone)]
pub(crate) struct Target {
    pub client: reqwest::Client,
    pub url: String,
    /// The profile's base_url that `url` was made from (None: the provider's default).
    pub base_url: Option<String>,
    pub kind: ProviderKind,
    pub model: String,
    pub key: Option<ApiKey>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
}

/// Why one attempt got no stream.
pub(crate) enum SendError {
    /// The provider answered with an error status.
    Status(StatusFailure),
    /// No answer at all (no route, TLS, timeout) or one that is not an event stream.
    Other(ProviderError),
}

impl Target {
    /// The auth headers of this provider; the key goes nowhere else.
    fn auth_headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        if self.kind == ProviderKind::Anthropic {
            headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        }
        let Some(key) = &self.key else {
            return Ok(headers);
        };
        let (name, value) = match self.kind {
            ProviderKind::Anthropic => ("x-api-key", key.expose().to_string()),
            ProviderKind::Gemini => ("x-goog-api-key", key.expose().to_string()),
            _ => ("authorization", format!("Bearer {}", key.expose())),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| ProviderError::BadKey {
            provider: self.kind,
            status: 0,
            message: "the key holds characters no HTTP header can carry".into(),
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static(name), value);
        Ok(headers)
    }

    /// One attempt: POST the body, and hand back the response if it is an event stream.
    pub async fn send(&self, body: Bytes) -> Result<reqwest::Response, SendError> {
        let response = self
            .client
            .post(&self.url)
            .headers(self.auth_headers().map_err(SendError::Other)?)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Other(self.transport_error(&e)))?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let headers = response.headers().clone();
            let body = read_bounded(response).await;
            return Err(SendError::Status(classify(self, status, &headers, &body)));
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !content_type.starts_with("text/event-stream") {
            let body = read_bounded(response).await;
            if is_html(&content_type, &body) {
                return Err(SendError::Other(self.wrong_url(
                    status,
                    &format!("an HTML page: {}", html_summary(&body)),
                )));
            }
            let shown = if content_type.is_empty() {
                "no content type".to_string()
            } else {
                content_type
            };
            return Err(SendError::Other(ProviderError::Garbage {
                provider: self.kind,
                detail: format!(
                    "expected an event stream, got {shown}: {}",
                    quote(&String::from_utf8_lossy(&body), self.key_text())
                ),
            }));
        }
        Ok(response)
    }

    pub fn key_text(&self) -> Option<&str> {
        self.key.as_ref().map(ApiKey::expose)
    }

    /// A failure below HTTP, in the user's terms.
    pub fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        let chain = error_chain(e);
        let lower = chain.to_ascii_lowercase();
        let url = self.url_for_display();
        if ["certificate", "tls", "handshake", "unknownissuer"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return ProviderError::Tls {
                url,
                detail: root_cause(e),
            };
        }
        if e.is_timeout() {
            return if e.is_connect() {
                ProviderError::ConnectTimeout {
                    url,
                    timeout: self.connect_timeout,
                }
            } else {
                ProviderError::IdleTimeout {
                    provider: self.kind,
                    timeout: self.idle_timeout,
                }
            };
        }
        if e.is_connect() {
            let detail = if lower.contains("connection refused") {
                "connection refused (nothing listens there)".to_string()
            } else if lower.contains("dns") || lower.contains("lookup") {
                format!("the host name does not resolve ({chain})")
            } else {
                root_cause(e)
            };
            return ProviderError::NoRoute { url, detail };
        }
        if e.is_body() || e.is_decode() || lower.contains("closed") || lower.contains("eof") {
            return ProviderError::EarlyClose {
                provider: self.kind,
            };
        }
        ProviderError::NoRoute { url, detail: chain }
    }

    /// Nothing at the posted URL speaks this API: show the URL and the base_url it came from.
    pub fn wrong_url(&self, status: u16, message: &str) -> ProviderError {
        ProviderError::WrongUrl {
            provider: self.kind,
            status,
            url: self.url_for_display(),
            base_url: super::url::base_url_shown(self.kind, self.base_url.as_deref()),
            message: quote(message, self.key_text()),
        }
    }

    /// The URL without its query, which is where some APIs take keys.
    fn url_for_display(&self) -> String {
        self.url.split('?').next().unwrap_or(&self.url).to_string()
    }
}

/// An error and its causes on one line ("error sending request: … : connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The innermost cause: what actually went wrong, without the layers' wrapping.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(s) = cause.source() {
        cause = s;
    }
    cause.to_string()
}

/// Whether a body is a web page rather than an API's answer.
pub(crate) fn is_html(content_type: &str, body: &[u8]) -> bool {
    if content_type.to_ascii_lowercase().starts_with("text/html") {
        return true;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]).to_ascii_lowercase();
    let start = start.trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// A web page in a few words: its title, or its start.
pub(crate) fn html_summary(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        let len = lower[from..].find("</title>")?;
        text.get(from..from + len).map(str::trim)
    });
    match title {
        Some(t) if !t.is_empty() => format!("\"{t}\""),
        _ => text.chars().take(120).collect(),
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    body
}
