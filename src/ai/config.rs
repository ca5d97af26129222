//! The `[ai]` table of config.toml: the provider profile (and more named ones), the agent
//! loop's bounds, a private CA and optional prices. Errors carry file:line.

use crate::ai::provider::{ApiKey, Endpoint, KeySource, ProviderKind, ProviderSettings, Usage};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Steps of one task (each approved) unless config says otherwise.
pub const DEFAULT_MAX_STEPS: u32 = 10;
pub const MAX_MAX_STEPS: u32 = 100;
/// Lines of screen and scrollback sent with each request unless config says otherwise.
pub const DEFAULT_CONTEXT_LINES: usize = 200;
/// Most lines `read_scrollback` may return unless config says otherwise.
pub const DEFAULT_MAX_SCROLLBACK_LINES: usize = 2_000;
/// Upper bound on both line settings, so a typo cannot send a whole history.
pub const MAX_LINES: usize = 100_000;
/// The name the `[ai]` table's own profile goes by when switching profiles.
pub const DEFAULT_PROFILE: &str = "default";

/// A usable `[ai]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct AiConfig {
    /// The profile set directly in `[ai]`.
    pub profile: Profile,
    /// `[ai.profiles.NAME]`, switchable in the pane.
    pub profiles: BTreeMap<String, Profile>,
    pub max_steps: u32,
    pub context_lines: usize,
    pub max_scrollback_lines: usize,
    /// Extra trusted certificates (PEM) for providers behind a private CA.
    pub ca_file: Option<PathBuf>,
}

/// One provider, model and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub provider: ProviderKind,
    pub model: String,
    pub base_url: Option<String>,
    pub api_key: Option<KeySource>,
    pub prices: Option<Prices>,
}

/// `price_per_mtok = { input = 3.0, output = 15.0, cached_input = 0.3 }`: money per million
/// tokens, for showing what a session cost. lumen does not know prices by itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    /// Input read from the provider's prompt cache; the input price when not given.
    pub cached_input: Option<f64>,
}

impl Prices {
    pub fn cost(&self, usage: Usage) -> f64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        ((usage.input_tokens - cached) as f64 * self.input
            + cached as f64 * self.cached_input.unwrap_or(self.input)
            + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

impl Profile {
    /// Where to send requests, with the key the caller resolved from [`Profile::api_key`].
    pub fn endpoint(&self, key: Option<ApiKey>) -> Endpoint {
        Endpoint {
            kind: self.provider,
            model: self.model.clone(),
            base_url: self.base_url.clone(),
            key,
        }
    }
}

impl AiConfig {
    /// One profile with every other setting at its default (the demo's scripted model).
    pub fn with_profile(profile: Profile) -> Self {
        Self {
            profile,
            profiles: BTreeMap::new(),
            max_steps: DEFAULT_MAX_STEPS,
            context_lines: DEFAULT_CONTEXT_LINES,
            max_scrollback_lines: DEFAULT_MAX_SCROLLBACK_LINES,
            ca_file: None,
        }
    }

    /// A profile by name; [`DEFAULT_PROFILE`] is the `[ai]` table's own.
    pub fn profile_named(&self, name: &str) -> Option<&Profile> {
        if name == DEFAULT_PROFILE {
            Some(&self.profile)
        } else {
            self.profiles.get(name)
        }
    }

    /// HTTP settings: the defaults, proxies from the environment, and this config's CA file.
    pub fn settings(&self) -> ProviderSettings {
        ProviderSettings::from_env(self.ca_file.clone())
    }
}

/// A ready `[ai]` section for each provider lumen speaks to: (who, the section). Shown in the
/// copilot pane and by the command line when there is none; each parses (a test checks).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "Anthropic",
        "[ai]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\napi_key = \"vault:anthropic\"",
    ),
    (
        "OpenAI",
        "[ai]\nprovider = \"openai\"\nmodel = \"gpt-5\"\napi_key = \"env:OPENAI_API_KEY\"",
    ),
    (
        "Google Gemini",
        "[ai]\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\napi_key = \"env:GEMINI_API_KEY\"",
    ),
    (
        "xAI",
        "[ai]\nprovider = \"xai\"\nmodel = \"grok-4\"\napi_key = \"env:XAI_API_KEY\"",
    ),
    (
        "Ollama on this machine (no key)",
        "[ai]\nprovider = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"qwen2.5-coder\"",
    ),
    (
        "llama.cpp's llama-server on this machine (no key)",
        "[ai]\nprovider = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:8080/v1\"\nmodel = \"local\"",
    ),
];

/// The example of [`EXAMPLES`] for `kind` (its model, and for openai-compatible a local
/// server's base_url): what `lumen ai setup` offers.
pub fn example_profile(kind: ProviderKind) -> Option<Profile> {
    EXAMPLES
        .iter()
        .filter_map(|(_, section)| AiConfig::parse("example", section).ok().flatten())
        .map(|c| c.profile)
        .find(|p| p.provider == kind)
}

/// What to do when config.toml (`file`, when known) has no `[ai]` section: an example for
/// each provider, then where to put it and how `lumen ai setup` writes it instead. The
/// instructions come last, where a bottom-anchored pane shows them first.
pub fn setup_help(file: Option<&Path>) -> String {
    let mut text = String::from("Ready [ai] sections, one per provider:");
    for (who, section) in EXAMPLES {
        text.push_str(&format!("\n\n# {who}\n{section}"));
    }
    let file = file.map_or_else(
        || "config.toml (lumen --privacy shows where)".to_string(),
        |f| f.display().to_string(),
    );
    text.push_str(&format!(
        "\n\napi_key = \"vault:NAME\" names a vault api-key entry (lumen vault add NAME --kind \
         api-key); \"env:NAME\" an environment variable.\n\nThe copilot is off: there is no [ai] \
         section in {file}. Run `lumen ai setup` to write one (the key goes in the vault), or \
         paste one of the above there and restart lumen."
    ));
    text
}

/// A bad `[ai]` section: where and why. lumen runs without the copilot until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message} (the copilot is off until this is fixed)")]
pub struct AiConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
struct Whole {
    ai: Option<Spanned<RawAi>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAi {
    provider: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    allow_insecure_http: Option<bool>,
    api_key: Option<Spanned<String>>,
    price_per_mtok: Option<Spanned<RawPrices>>,
    max_steps: Option<Spanned<i64>>,
    context_lines: Option<Spanned<i64>>,
    max_scrollback_lines: Option<Spanned<i64>>,
    ca_file: Option<Spanned<String>>,
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    provider: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    allow_insecure_http: Option<bool>,
    api_key: Option<Spanned<String>>,
    price_per_mtok: Option<Spanned<RawPrices>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrices {
    input: f64,
    output: f64,
    cached_input: Option<f64>,
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, offset: usize, message: impl Into<String>) -> AiConfigError {
        AiConfigError {
            file: self.file.to_string(),
            line: self.text[..offset.min(self.text.len())]
                .matches('\n')
                .count()
                + 1,
            message: message.into(),
        }
    }

    fn profile(&self, at: usize, what: &str, raw: RawProfile) -> Result<Profile, AiConfigError> {
        let provider = raw
            .provider
            .ok_or_else(|| self.err(at, format!("{what} needs provider = \"anthropic\" (or openai, gemini, xai, openai-compatible)")))?;
        let kind = ProviderKind::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(provider.get_ref()))
            .map_err(|_| {
                self.err(
                    provider.span().start,
                    format!("unknown provider '{}'; use anthropic, openai, gemini, xai or openai-compatible", provider.get_ref()),
                )
            })?;
        let model = raw
            .model
            .filter(|m| !m.get_ref().trim().is_empty())
            .ok_or_else(|| {
                self.err(
                    at,
                    format!("{what} needs model = \"…\" (the provider's model name)"),
                )
            })?
            .into_inner();
        let base_url = match raw.base_url {
            Some(url) => {
                let parsed = reqwest::Url::parse(url.get_ref()).map_err(|e| {
                    self.err(
                        url.span().start,
                        format!("base_url '{}' is not a URL ({e})", url.get_ref()),
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(self.err(
                        url.span().start,
                        "base_url must be an http:// or https:// URL with a host",
                    ));
                }
                if parsed.scheme() == "http"
                    && !is_loopback(&parsed)
                    && raw.allow_insecure_http != Some(true)
                {
                    return Err(self.err(
                        url.span().start,
                        format!(
                            "base_url '{}' is plain http:// to a host that is not this machine: \
                             the API key and the terminal text would cross the network \
                             unencrypted; use https://, or add allow_insecure_http = true to \
                             {what} if that network path is yours",
                            url.get_ref()
                        ),
                    ));
                }
                Some(url.into_inner())
            }
            None if kind == ProviderKind::OpenAiCompatible => {
                return Err(self.err(at, format!("{what}: openai-compatible needs base_url (for example \"http://127.0.0.1:11434/v1\")")));
            }
            None => None,
        };
        let api_key = match raw.api_key {
            Some(k) => Some(
                k.get_ref()
                    .parse::<KeySource>()
                    .map_err(|m| self.err(k.span().start, m))?,
            ),
            None if kind.key_optional() => None,
            None => {
                return Err(self.err(at, format!("{what} needs api_key = \"vault:NAME\" (a vault api-key entry) or \"env:NAME\"")));
            }
        };
        let prices = match raw.price_per_mtok {
            Some(p) => {
                let raw = p.get_ref();
                let (input, output, cached_input) = (raw.input, raw.output, raw.cached_input);
                let fine = |n: f64| n.is_finite() && n >= 0.0;
                if !(fine(input) && fine(output) && cached_input.is_none_or(fine)) {
                    return Err(self.err(
                        p.span().start,
                        "price_per_mtok input, output and cached_input must be numbers of 0 or more",
                    ));
                }
                Some(Prices {
                    input,
                    output,
                    cached_input,
                })
            }
            None => None,
        };
        Ok(Profile {
            provider: kind,
            model,
            base_url,
            api_key,
            prices,
        })
    }

    fn bounded(
        &self,
        value: Option<Spanned<i64>>,
        name: &str,
        min: i64,
        max: i64,
        default: i64,
    ) -> Result<i64, AiConfigError> {
        let Some(v) = value else { return Ok(default) };
        let n = *v.get_ref();
        if !(min..=max).contains(&n) {
            return Err(self.err(
                v.span().start,
                format!("{name} must be between {min} and {max}, not {n}"),
            ));
        }
        Ok(n)
    }
}

/// Whether `url` names this machine: a loopback address or `localhost`, where plain http
/// never leaves the host.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let d = bare.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

impl AiConfig {
    /// The `[ai]` section of config.toml's `text`: None when there is none.
    pub fn parse(file: &str, text: &str) -> Result<Option<Self>, AiConfigError> {
        let p = Parser { file, text };
        let whole: Whole = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            p.err(offset, format!("[ai]: {}", crate::text::toml_message(&e)))
        })?;
        let Some(ai) = whole.ai else { return Ok(None) };
        let at = ai.span().start;
        let raw = ai.into_inner();
        let profile = p.profile(
            at,
            "[ai]",
            RawProfile {
                provider: raw.provider,
                model: raw.model,
                base_url: raw.base_url,
                allow_insecure_http: raw.allow_insecure_http,
                api_key: raw.api_key,
                price_per_mtok: raw.price_per_mtok,
            },
        )?;
        let mut profiles = BTreeMap::new();
        for (name, table) in raw.profiles {
            let at = table.span().start;
            if name == DEFAULT_PROFILE || name.trim().is_empty() {
                return Err(p.err(at, format!("'{name}' cannot name a profile; '{DEFAULT_PROFILE}' is the [ai] table's own")));
            }
            let profile = p.profile(at, &format!("[ai.profiles.{name}]"), table.into_inner())?;
            profiles.insert(name, profile);
        }
        let max_steps = p.bounded(
            raw.max_steps,
            "max_steps",
            1,
            MAX_MAX_STEPS.into(),
            DEFAULT_MAX_STEPS.into(),
        )?;
        let lines = MAX_LINES as i64;
        let context_lines = p.bounded(
            raw.context_lines,
            "context_lines",
            0,
            lines,
            DEFAULT_CONTEXT_LINES as i64,
        )?;
        let max_scrollback_lines = p.bounded(
            raw.max_scrollback_lines,
            "max_scrollback_lines",
            0,
            lines,
            DEFAULT_MAX_SCROLLBACK_LINES as i64,
        )?;
        let ca_file = match raw.ca_file {
            Some(f) => {
                // A relative path is read beside config.toml, wherever lumen was started.
                let path = Path::new(file)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(f.get_ref());
                if !path.is_file() {
                    return Err(p.err(
                        f.span().start,
                        format!("ca_file {} is not a readable file", path.display()),
                    ));
                }
                Some(path)
            }
            None => None,
        };
        Ok(Some(Self {
            profile,
            profiles,
            max_steps: max_steps as u32,
            context_lines: context_lines as usize,
            max_scrollback_lines: max_scrollback_lines as usize,
            ca_file,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_EXAMPLE: &str = r#"
[ai]
provider = "anthropic"        # anthropic | openai | gemini | xai | openai-compatible
model = "claude-sonnet-4-5"
base_url = "http://127.0.0.1:11434/v1"   # optional; required for openai-compatible
api_key = "vault:anthropic"   # a vault api-key entry (recommended), or "env:ANTHROPIC_API_KEY"
max_steps = 10
context_lines = 200
[ai.profiles.local]           # more named profiles, switchable in the pane
provider = "openai-compatible"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5-coder"
"#;

    fn err(text: &str) -> AiConfigError {
        AiConfig::parse("config.toml", text).unwrap_err()
    }

    #[test]
    fn the_issue_example_parses() {
        let c = AiConfig::parse("config.toml", ISSUE_EXAMPLE)
            .unwrap()
            .unwrap();
        assert_eq!(c.profile.provider, ProviderKind::Anthropic);
        assert_eq!(c.profile.model, "claude-sonnet-4-5");
        assert_eq!(
            c.profile.api_key,
            Some(KeySource::Vault("anthropic".into()))
        );
        assert_eq!((c.max_steps, c.context_lines), (10, 200));
        let local = c.profile_named("local").unwrap();
        assert_eq!(local.provider, ProviderKind::OpenAiCompatible);
        assert_eq!(local.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert_eq!(local.api_key, None);
        assert_eq!(c.profile_named("default"), Some(&c.profile));
    }

    #[test]
    fn every_example_parses_as_its_provider() {
        for (who, section) in EXAMPLES {
            let c = AiConfig::parse("config.toml", section)
                .unwrap_or_else(|e| panic!("{who}: {e}"))
                .unwrap_or_else(|| panic!("{who}: no [ai]"));
            assert!(
                who.contains(&c.profile.provider.to_string())
                    || c.profile.provider == ProviderKind::OpenAiCompatible,
                "{who}"
            );
        }
        let help = setup_help(Some(Path::new("/home/op/.config/lumen/config.toml")));
        assert!(help.contains("/home/op/.config/lumen/config.toml"));
        assert!(help.contains("lumen ai setup"));
    }

    #[test]
    fn no_section_is_no_copilot_and_defaults_fill_in() {
        assert_eq!(
            AiConfig::parse("c.toml", "theme = \"x\"\n[keys]\n"),
            Ok(None)
        );
        let c = AiConfig::parse("c.toml", "[ai]\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\napi_key = \"env:GEMINI_API_KEY\"\nprice_per_mtok = { input = 0.3, output = 2.5 }\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.max_steps, c.context_lines),
            (DEFAULT_MAX_STEPS, DEFAULT_CONTEXT_LINES)
        );
        let cost = c.profile.prices.unwrap().cost(Usage {
            input_tokens: 1_000_000,
            output_tokens: 2_000_000,
            cached_input_tokens: 0,
        });
        assert!((cost - 5.3).abs() < 1e-9, "{cost}");
        // Input read from the prompt cache at its own price, when one is given.
        let c = AiConfig::parse("c.toml", "[ai]\nprovider = \"anthropic\"\nmodel = \"m\"\napi_key = \"env:K\"\nprice_per_mtok = { input = 3.0, output = 15.0, cached_input = 0.3 }\n")
            .unwrap()
            .unwrap();
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 0,
            cached_input_tokens: 800_000,
        };
        let cost = c.profile.prices.unwrap().cost(usage);
        assert!((cost - (0.2 * 3.0 + 0.8 * 0.3)).abs() < 1e-9, "{cost}");
        let full = Prices {
            cached_input: None,
            ..c.profile.prices.unwrap()
        };
        assert!((full.cost(usage) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = err("[ai]\nprovider = \"antropic\"\nmodel = \"m\"\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("unknown provider 'antropic'"), "{e}");
        let e = err("[ai]\nprovider = \"openai-compatible\"\nmodel = \"m\"\n");
        assert!(e.message.contains("needs base_url"), "{e}");
        let e = err("[ai]\nprovider = \"openai\"\nmodel = \"gpt-5\"\napi_key = \"sk-proj-abc\"\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(
            !e.to_string().contains("sk-proj-abc"),
            "a pasted key is never echoed: {e}"
        );
        let e = err("[ai]\nprovider = \"openai\"\nmodel = \"gpt-5\"\n");
        assert!(e.message.contains("needs api_key"), "{e}");
        let e = err(
            "[ai]\nprovider = \"xai\"\nmodel = \"grok-4\"\napi_key = \"env:X\"\nmax_steps = 0\n",
        );
        assert_eq!(e.line, 5, "{e}");
        let e = err(
            "[ai]\nprovider = \"xai\"\nmodel = \"grok-4\"\napi_key = \"env:X\"\ntemperature = 1\n",
        );
        assert_eq!(e.line, 5, "{e}");
        let e = err(
            "[ai]\nprovider = \"xai\"\nmodel = \"g\"\napi_key = \"env:X\"\n\n[ai.profiles.fast]\nprovider = \"openai\"\napi_key = \"env:Y\"\n",
        );
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("[ai.profiles.fast] needs model"), "{e}");
        let e = err(
            "[ai]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"env:X\"\nbase_url = \"ftp://x\"\n",
        );
        assert_eq!(e.line, 5, "{e}");
        let e = err(
            "[ai]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"env:X\"\nca_file = \"/nonexistent/ca.pem\"\n",
        );
        assert!(e.message.contains("ca_file"), "{e}");
    }

    /// Plain http sends the API key and the (redacted) terminal text in clear: only to this
    /// machine, unless the profile opts in.
    #[test]
    fn plain_http_only_to_loopback_unless_opted_in() {
        let config = |url: &str, extra: &str| {
            format!(
                "[ai]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"env:X\"\nbase_url = \"{url}\"\n{extra}"
            )
        };
        for url in [
            "http://10.0.0.5:8080/v1",
            "http://llm.corp.example/v1",
            "http://127.0.0.1.nip.io/v1",
            "http://[fe80::1]/v1",
            "HTTP://LLM.EXAMPLE/v1",
        ] {
            let e = AiConfig::parse("c.toml", &config(url, "")).unwrap_err();
            assert_eq!(e.line, 5, "{e}");
            assert!(
                e.message.contains("plain http://")
                    && e.message.contains("allow_insecure_http = true"),
                "{e}"
            );
            let ok = AiConfig::parse("c.toml", &config(url, "allow_insecure_http = true\n"));
            assert!(ok.is_ok_and(|c| c.is_some()), "{url}");
        }
        for url in [
            "http://127.0.0.1:11434/v1",
            "http://127.1.2.3/v1",
            "http://localhost:8080/v1",
            "http://[::1]:8080/v1",
            "https://llm.corp.example/v1",
        ] {
            assert!(AiConfig::parse("c.toml", &config(url, "")).is_ok(), "{url}");
        }
        // Each profile decides for itself.
        let text = "[ai]\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"env:X\"\n\
                    allow_insecure_http = true\n\n[ai.profiles.lab]\nprovider = \"openai\"\n\
                    model = \"m\"\napi_key = \"env:X\"\nbase_url = \"http://10.0.0.5/v1\"\n";
        let e = AiConfig::parse("c.toml", text).unwrap_err();
        assert_eq!(e.line, 11, "{e}");
    }
}
