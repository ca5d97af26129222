//! Where a request goes: the endpoint URL made from `base_url` as users paste it — with or
//! without the API's version segment, with or without a trailing slash, or the whole
//! endpoint — and how that base_url is named when the URL turns out wrong.

use super::{Endpoint, ProviderError, ProviderKind};

/// The URL a request to `endpoint` is POSTed to.
pub fn request_url(endpoint: &Endpoint) -> Result<String, ProviderError> {
    let base = match &endpoint.base_url {
        Some(url) => url.trim(),
        None => endpoint
            .kind
            .default_base_url()
            .ok_or(ProviderError::NoBaseUrl)?,
    };
    let base = base.trim_end_matches('/');
    Ok(match endpoint.kind {
        ProviderKind::Anthropic => anthropic(base),
        ProviderKind::Gemini => gemini(base, &endpoint.model),
        ProviderKind::OpenAi | ProviderKind::Xai | ProviderKind::OpenAiCompatible => openai(base),
    })
}

/// The base_url a request URL came from, as an error shows it.
pub(crate) fn base_url_shown(kind: ProviderKind, base_url: Option<&str>) -> String {
    match (base_url, kind.default_base_url()) {
        (Some(b), _) => format!("base_url = \"{b}\""),
        (None, Some(d)) => format!("the default base_url ({d})"),
        (None, None) => "no base_url".into(),
    }
}

/// Anthropic's SDKs take the host (`https://api.anthropic.com`); other tools show `…/v1`.
fn anthropic(base: &str) -> String {
    if base.ends_with("/v1/messages") {
        base.to_string()
    } else if last_segment_is_version(base) {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

/// Google's SDK takes the host; the REST reference shows `…/v1beta`. Gateways put their own
/// prefix before the API's path, so only the last segment counts as the version.
fn gemini(base: &str, model: &str) -> String {
    let base = base.strip_suffix("/models").unwrap_or(base);
    let model = model.trim_start_matches("models/");
    let root = if last_segment_is_version(base) {
        base.to_string()
    } else {
        format!("{base}/v1beta")
    };
    format!("{root}/models/{model}:streamGenerateContent?alt=sse")
}

/// OpenAI's SDK takes `…/v1`; a host alone (as for Ollama or DeepSeek) means `/v1`. A version
/// anywhere in the path counts (`…/v1beta/openai`, gateways' `/v1/ACCOUNT/…/openai`); a base
/// that already names `/chat/completions` is used as it is (servers with other paths).
fn openai(base: &str) -> String {
    if base.ends_with("/chat/completions") {
        base.to_string()
    } else if path_segments(base).any(is_version) {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    }
}

/// The path segments of a URL (the part after the host, without query).
fn path_segments(url: &str) -> impl Iterator<Item = &str> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.split_once('/').map_or("", |(_, path)| path);
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.split('/').filter(|s| !s.is_empty())
}

fn last_segment_is_version(url: &str) -> bool {
    path_segments(url).last().is_some_and(is_version)
}

/// `v1`, `v2`, `v1beta`, `v1alpha1`: a `v`, digits, then letters and digits.
fn is_version(segment: &str) -> bool {
    let Some(rest) = segment.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && rest[digits..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(kind: ProviderKind, base: &str) -> String {
        request_url(&Endpoint {
            kind,
            model: "m1".into(),
            base_url: Some(base.into()),
            key: None,
        })
        .unwrap()
    }

    #[test]
    fn both_forms_of_each_base_url_reach_the_same_endpoint() {
        use ProviderKind::*;
        let cases: [(ProviderKind, &[&str], &str); 6] = [
            (
                Anthropic,
                &[
                    "https://api.anthropic.com",
                    "https://api.anthropic.com/",
                    "https://api.anthropic.com/v1",
                    "https://api.anthropic.com/v1/",
                    "https://api.anthropic.com/v1/messages",
                ],
                "https://api.anthropic.com/v1/messages",
            ),
            (
                Gemini,
                &[
                    "https://generativelanguage.googleapis.com",
                    "https://generativelanguage.googleapis.com/",
                    "https://generativelanguage.googleapis.com/v1beta",
                    "https://generativelanguage.googleapis.com/v1beta/",
                    "https://generativelanguage.googleapis.com/v1beta/models",
                ],
                "https://generativelanguage.googleapis.com/v1beta/models/m1:streamGenerateContent?alt=sse",
            ),
            (
                OpenAi,
                &[
                    "https://api.openai.com",
                    "https://api.openai.com/v1/",
                    "https://api.openai.com/v1/chat/completions",
                ],
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                Xai,
                &["https://api.x.ai", "https://api.x.ai/v1"],
                "https://api.x.ai/v1/chat/completions",
            ),
            (
                OpenAiCompatible,
                &["http://127.0.0.1:11434", "http://127.0.0.1:11434/v1/"],
                "http://127.0.0.1:11434/v1/chat/completions",
            ),
            (
                OpenAiCompatible,
                &["https://generativelanguage.googleapis.com/v1beta/openai/"],
                "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
            ),
        ];
        for (kind, bases, want) in cases {
            for base in bases {
                assert_eq!(url(kind, base), want, "{kind:?} {base}");
            }
        }
        // Gemini's stable version stays; a gateway's own /v1 prefix is not Gemini's version.
        assert_eq!(
            url(Gemini, "https://x.example/v1"),
            "https://x.example/v1/models/m1:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            url(Gemini, "https://gw.example/v1/acct/gw/google-ai-studio"),
            "https://gw.example/v1/acct/gw/google-ai-studio/v1beta/models/m1:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            url(OpenAiCompatible, "https://gw.example/v1/acct/gw/openai"),
            "https://gw.example/v1/acct/gw/openai/chat/completions"
        );
        assert!(!is_version("v"));
        assert!(!is_version("version"));
        assert!(is_version("v1alpha1"));
    }
}
