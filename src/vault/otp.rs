//! TOTP (RFC 6238) from a base32 secret or an `otpauth://totp/` URI.

use super::error::{Result, VaultError};
use totp_rs::{Algorithm, Secret, TOTP};

/// A current code and how long it stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCode {
    pub code: String,
    pub seconds_left: u64,
    pub period: u64,
}

const DEFAULT_PERIOD: u64 = 30;
const DEFAULT_DIGITS: usize = 6;
/// Shortest secret accepted: 80 bits. RFC 4226 asks for at least 128 (160 recommended), but
/// common issuers hand out 80-bit secrets (16 base32 characters) and refusing them helps no one.
const MIN_SECRET_BYTES: usize = 10;

fn bad(reason: &str) -> VaultError {
    VaultError::BadTotp {
        reason: reason.into(),
    }
}

/// Parse a base32 secret (spaces, dashes and case ignored; padding optional) or an otpauth URI.
pub fn parse(text: &str) -> Result<TOTP> {
    let text = text.trim();
    let totp = if text.starts_with("otpauth://") {
        if !text.starts_with("otpauth://totp/") {
            return Err(bad("only otpauth://totp/ URIs are TOTP"));
        }
        TOTP::from_url_unchecked(text).map_err(|_| bad("the otpauth URI does not parse"))?
    } else {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = Secret::Encoded(cleaned)
            .to_bytes()
            .map_err(|_| bad("not valid base32"))?;
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DEFAULT_DIGITS,
            0,
            DEFAULT_PERIOD,
            bytes,
            None,
            String::new(),
        )
    };
    if totp.secret.len() < MIN_SECRET_BYTES {
        return Err(bad("secret shorter than 80 bits"));
    }
    if !(totp.digits == 6 || totp.digits == 8) {
        return Err(bad("digits must be 6 or 8"));
    }
    if totp.step == 0 || totp.step > 3600 {
        return Err(bad("period must be 1-3600 seconds"));
    }
    Ok(totp)
}

/// The code at Unix time `unix_secs`.
pub fn code_at(totp: &TOTP, unix_secs: u64) -> TotpCode {
    TotpCode {
        code: totp.generate(unix_secs),
        seconds_left: totp.step - unix_secs % totp.step,
        period: totp.step,
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
