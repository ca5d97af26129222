//! Error statuses sorted into what the user hears and whether to retry, the waits providers
//! ask for (`retry-after`, `retry-after-ms`, Gemini's `retryDelay`), and the retry policy.

use super::ProviderError;
use super::error::quote;
use super::http::{Target, html_summary, is_html};
use reqwest::header::HeaderMap;
use std::time::Duration;

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
    /// Nothing at the URL speaks the API (a 404 that does not name the model, a web page).
    WrongUrl,
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
            Class::WrongUrl => target.wrong_url(status, &message),
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

/// Sort an error status (and its body) into what the user should hear and whether to retry.
pub(crate) fn classify(
    target: &Target,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> StatusFailure {
    let text = String::from_utf8_lossy(body);
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if is_html(content_type, body) && matches!(status, 404 | 405) {
        return StatusFailure {
            status,
            class: Class::WrongUrl,
            retry_after: None,
            message: format!("an HTML page: {}", html_summary(body)),
        };
    }
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
        404 if names_model(&message, &target.model) => Class::UnknownModel,
        404 | 405 => Class::WrongUrl,
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

/// Whether a 404's message is about the model (an API saying it has no such model), rather
/// than about the path (a server with no such API).
fn names_model(message: &str, model: &str) -> bool {
    let model = model.trim_start_matches("models/").to_ascii_lowercase();
    !model.is_empty() && message.to_ascii_lowercase().contains(&model)
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
