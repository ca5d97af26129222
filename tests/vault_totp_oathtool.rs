//! TOTP parity with `oathtool --totp` on random secrets, algorithms, digits, periods and times.
#![allow(clippy::unwrap_used)]

use rand::{Rng, SeedableRng};
use std::process::Command;

const ROUNDS: usize = 40;

fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (String::new(), 0u32, 0);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[test]
fn matches_oathtool_on_random_secrets() {
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for _ in 0..ROUNDS {
        let len = rng.gen_range(10..=64);
        let secret: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        let b32 = base32(&secret);
        let (alg, mode) =
            [("SHA1", "sha1"), ("SHA256", "sha256"), ("SHA512", "sha512")][rng.gen_range(0..3)];
        let digits = [6, 8][rng.gen_range(0..2)];
        let period = [30, 60, 15][rng.gen_range(0..3)];
        let t: u64 = rng.gen_range(0..4_000_000_000);
        let uri = format!(
            "otpauth://totp/x?secret={b32}&algorithm={alg}&digits={digits}&period={period}"
        );
        let ours = lumen::vault::totp_code(&uri, t).unwrap().code;
        let out = Command::new("oathtool")
            .arg(format!("--totp={mode}"))
            .args([
                "-b",
                "-d",
                &digits.to_string(),
                "-s",
                &format!("{period}s"),
                "-N",
                &format!("@{t}"),
                &b32,
            ])
            .output()
            .expect("oathtool is installed by scripts/install-test-deps.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            ours,
            theirs.trim(),
            "seed {seed}: {alg} {digits} {period} at {t}"
        );
        if alg == "SHA1" && digits == 6 && period == 30 {
            assert_eq!(
                lumen::vault::totp_code(&b32.to_lowercase(), t)
                    .unwrap()
                    .code,
                ours
            );
        }
    }
}
