//! Key fingerprints and descriptions exactly as `ssh-keygen -l` prints them.

use russh::keys::ssh_key::public::KeyData;
use russh::keys::{EcdsaCurve, HashAlg, PublicKey};

/// `SHA256:<base64 without padding>`.
pub fn sha256(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The type name in parentheses of `ssh-keygen -l`: `ED25519`, `ECDSA`, `RSA`, …
pub fn type_name(key: &KeyData) -> &'static str {
    match key {
        KeyData::Ed25519(_) => "ED25519",
        KeyData::Ecdsa(_) => "ECDSA",
        KeyData::Rsa(_) => "RSA",
        KeyData::Dsa(_) => "DSA",
        KeyData::SkEcdsaSha2NistP256(_) => "ECDSA-SK",
        KeyData::SkEd25519(_) => "ED25519-SK",
        _ => "UNKNOWN",
    }
}

/// Key size in bits, as the first column of `ssh-keygen -l`.
pub fn bits(key: &KeyData) -> u32 {
    match key {
        KeyData::Ed25519(_) | KeyData::SkEd25519(_) => 256,
        KeyData::Ecdsa(k) => match k.curve() {
            EcdsaCurve::NistP256 => 256,
            EcdsaCurve::NistP384 => 384,
            EcdsaCurve::NistP521 => 521,
        },
        KeyData::SkEcdsaSha2NistP256(_) => 256,
        KeyData::Rsa(k) => mpint_bits(k.n().as_positive_bytes().unwrap_or_default()),
        KeyData::Dsa(k) => mpint_bits(k.p().as_positive_bytes().unwrap_or_default()),
        _ => 0,
    }
}

fn mpint_bits(bytes: &[u8]) -> u32 {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    let lead = bytes[0].leading_zeros();
    (bytes.len() as u32) * 8 - lead
}

/// `256 SHA256:… comment (ED25519)`, the line `ssh-keygen -lf` prints for a key file; for a
/// host key pass the host name as `comment`. An empty comment prints `no comment` like OpenSSH.
pub fn describe(key: &PublicKey, comment: &str) -> String {
    let comment = if comment.is_empty() {
        "no comment"
    } else {
        comment
    };
    format!(
        "{} {} {} ({})",
        bits(key.key_data()),
        sha256(key),
        comment,
        type_name(key.key_data())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_an_ed25519_key() {
        let k = PublicKey::from_openssh(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x@y",
        )
        .unwrap();
        let d = describe(&k, "x@y");
        assert!(
            d.starts_with("256 SHA256:") && d.ends_with(" x@y (ED25519)"),
            "{d}"
        );
    }

    #[test]
    fn counts_bits_without_leading_zeros() {
        assert_eq!(mpint_bits(&[0x01, 0x00]), 9);
        assert_eq!(mpint_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(mpint_bits(&[]), 0);
    }
}
