//! HTTP for every provider: one rustls client with timeouts, proxies from the environment and
//! an optional private CA; auth headers; status codes sorted into errors and retry decisions.

use super::error::quote;
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

/// Retries of a request the provider turned away for a passing reason (429, 529, 5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait after the first failure when the provider names no time; doubles each time.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// A provider asking for a longer wait than this gets none: the user hears it at once.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(16),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before the attempt after `failed` (1-based), or None to give up.
    pub fn wait(&self, failed: u32, hint: Option<Duration>) -> Option<Duration> {
        if failed >= self.attempts {
            return None;
        }
        let backoff = self
            .first_backoff
            .saturating_mul(1 << failed.saturating_sub(1).min(16))
            .min(self.max_backoff);
        let wait = hint.unwrap_or(backoff);
        (wait <= self.max_wait).then_some(wait)
    }
}

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
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
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

/// An error status, sorted.
pub(crate) struct StatusFailure {
    pub status: u16,
    pub class: Class,
    pub retry_after: Option<Duration>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    BadKey,
    UnknownModel,
    Quota,
    RateLimit,
    Overloaded,
    Server,
    Rejected,
}

impl Class {
    pub fn retryable(self) -> bool {
        matches!(self, Self::RateLimit | Self::Overloaded | Self::Server)
    }
}

impl StatusFailure {
    pub fn into_error(self, target: &Target, attempts: u32) -> ProviderError {
        let provider = target.kind;
        let (status, message) = (self.status, self.message);
        match self.class {
            Class::BadKey => ProviderError::BadKey {
                provider,
                status,
                message,
            },
            Class::UnknownModel => ProviderError::UnknownModel {
                provider,
                model: target.model.clone(),
                message,
            },
            Class::Quota => ProviderError::QuotaExhausted { provider, message },
            Class::RateLimit => ProviderError::RateLimited {
                provider,
                retry_after: self.retry_after,
                attempts,
            },
            Class::Overloaded => ProviderError::Overloaded {
                provider,
                retry_after: self.retry_after,
                attempts,
            },
            Class::Server => ProviderError::Server {
                provider,
                status,
                attempts,
                message,
            },
            Class::Rejected => ProviderError::Rejected {
                provider,
                status,
                message,
            },
        }
    }
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

/// Sort an error status (and its body) into what the user should hear and whether to retry.
fn classify(target: &Target, status: u16, headers: &HeaderMap, body: &[u8]) -> StatusFailure {
    let text = String::from_utf8_lossy(body);
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    // Gemini's stream endpoint wraps its error in an array.
    let error = json.as_ref().map(|j| match j {
        serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
        other => other.clone(),
    });
    let field = |path: &str| {
        error
            .as_ref()
            .and_then(|e| e.pointer(path))
            .and_then(|v| v.as_str())
    };
    let message = field("/error/message")
        .or_else(|| field("/message"))
        .or_else(|| field("/error"))
        .map(str::to_string)
        .unwrap_or_else(|| text.to_string());
    let message = if message.trim().is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        quote(&message, target.key_text())
    };
    let retry_after = retry_hint(headers, error.as_ref());
    let lower = text.to_ascii_lowercase();
    let says_quota = field("/error/code") == Some("insufficient_quota")
        || field("/error/type") == Some("insufficient_quota");
    let mentions_billing = ["credit balance", "billing", "quota"]
        .iter()
        .any(|w| lower.contains(w));
    let class = match status {
        401 | 403 => Class::BadKey,
        400 if lower.contains("api_key_invalid") || lower.contains("api key not valid") => {
            Class::BadKey
        }
        400 if lower.contains("credit balance") => Class::Quota,
        402 => Class::Quota,
        404 => Class::UnknownModel,
        429 if says_quota || (mentions_billing && retry_after.is_none()) => Class::Quota,
        429 => Class::RateLimit,
        503 | 529 => Class::Overloaded,
        408 | 500..=599 => Class::Server,
        _ => Class::Rejected,
    };
    StatusFailure {
        status,
        class,
        retry_after,
        message,
    }
}

/// The wait a provider asks for: `retry-after-ms`, `retry-after` (seconds or an HTTP date),
/// or Gemini's `RetryInfo.retryDelay` ("17s") in the body.
fn retry_hint(headers: &HeaderMap, error: Option<&serde_json::Value>) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(v) = header("retry-after") {
        return parse_retry_after(v, std::time::SystemTime::now());
    }
    let details = error?.pointer("/error/details")?.as_array()?;
    details.iter().find_map(|d| {
        let delay = d.get("retryDelay")?.as_str()?;
        let secs: f64 = delay.strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    })
}

/// A `retry-after` value: whole seconds, or an HTTP date (a wait until then from `now`).
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let now = httpdate::parse_http_date("Tue, 01 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_honours_hints_and_gives_up() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait(1, None), Some(Duration::from_secs(1)));
        assert_eq!(p.wait(2, None), Some(Duration::from_secs(2)));
        assert_eq!(
            p.wait(3, Some(Duration::from_secs(9))),
            Some(Duration::from_secs(9))
        );
        assert_eq!(p.wait(4, None), None, "four attempts in all");
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(3600))),
            None,
            "too long: say so now"
        );
    }
}
