//! Known-answer tests: RFC 9106 Argon2id, XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §A.3.1 and
//! Wycheproof), RFC 6238 TOTP through the vault's own parser.
#![allow(clippy::unwrap_used)]

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn argon2id_rfc9106_section_5_3() {
    // RFC 9106 §5.3: m=32 KiB, t=3, p=4, 32-byte tag, with secret and associated data.
    let password = [0x01u8; 32];
    let salt = [0x02u8; 16];
    let secret = [0x03u8; 8];
    let ad = [0x04u8; 12];
    let params = argon2::ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(argon2::AssociatedData::new(&ad).unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let argon = argon2::Argon2::new_with_secret(
        &secret,
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    )
    .unwrap();
    let mut out = [0u8; 32];
    argon
        .hash_password_into(&password, &salt, &mut out)
        .unwrap();
    assert_eq!(
        out.to_vec(),
        unhex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    );
}

#[test]
fn vault_kdf_is_argon2id_v13_without_secret() {
    // Our derive_kek must equal plain Argon2id(m, t, p) over passphrase and salt.
    let kdf = lumen::vault::KdfParams {
        memory_kib: 64,
        time: 2,
        lanes: 2,
    };
    let salt = [7u8; 16];
    let ours = lumen::vault::format::derive_kek("pässwörd".as_bytes(), &salt, kdf).unwrap();
    let params = argon2::Params::new(64, 2, 2, Some(32)).unwrap();
    let mut expected = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into("pässwörd".as_bytes(), &salt, &mut expected)
        .unwrap();
    assert_eq!(*ours, expected);
}

fn xchacha_case(key: &str, nonce: &str, aad: &str, msg: &str, ct_tag: &str) {
    let key = unhex(key);
    let cipher = XChaCha20Poly1305::new(key.as_slice().into());
    let nonce = unhex(nonce);
    let (aad, msg, ct) = (unhex(aad), unhex(msg), unhex(ct_tag));
    let got = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &msg,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(got, ct);
    let back = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ct,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(back, msg);
    let mut bad = ct.clone();
    bad[0] ^= 1;
    assert!(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &bad,
                    aad: &aad
                }
            )
            .is_err()
    );
}

#[test]
fn xchacha20poly1305_draft_a_3_1() {
    let plaintext = hex_of(b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    xchacha_case(
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
        "404142434445464748494a4b4c4d4e4f5051525354555657",
        "50515253c0c1c2c3c4c5c6c7",
        &plaintext,
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb\
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452\
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9\
         21f9664c97637da9768812f615c68b13b52e\
         c0875924c1c7987947deafd8780acf49",
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn xchacha20poly1305_wycheproof() {
    // C2SP/wycheproof testvectors/xchacha20_poly1305_test.json, valid cases (key, iv, aad, msg, ct||tag).
    let cases = [
        // tcId 2: empty message and aad
        (
            "ab1562faea9f47af3ae1c3d6d030e3af230255dff3df583ced6fbbcbf9d606a9",
            "6a5e0c4617e07091b605a4de2c02dde117de2ebd53b23497",
            "",
            "",
            "e2697ea6877aba39d9555a00e14db041",
        ),
        // tcId 3: aad only
        (
            "d821dce9b890ea37ae1c89e7cb6aeae9371b8179add0d08f5494718322ae0071",
            "3ec3f7c45e687d75a895bf5e71809e7cdac32158bb48ec0d",
            "8780fb400f94c55d",
            "",
            "966c22d655b9e56326024f028cf887ad",
        ),
        // tcId 5: one byte with aad
        (
            "697c197c9e0023c8eee42ddf08c12c46718a436561b0c66d998c81879f7cb74c",
            "cd78f4533c94648feacd5aef0291b00b454ee3dcdb76dcc8",
            "6384f4714ff18c18",
            "e1",
            "b0e5e35f5332f91bdd2d28e59d68a0b141",
        ),
        // tcId 23: ten bytes with aad
        (
            "8a275c90eb8688c5d9e82b74331cf104a2c8757d6257079b1d8035bb40d6a8d9",
            "33dfa71a0cb2aca008e4c8e8a72dbda4c407bbadd5d7e1a5",
            "e7c9d1dda90b699e",
            "3c2da491f244acfbd1dc",
            "e5aad5c055dc6df73cf096fc30292cc8381c345d5f2964ba5626",
        ),
        // tcId 34: sixteen bytes
        (
            "6a1f808358461e75072a054e2fc4e4c3e7f882c57920dda3278d0c860ca704e3",
            "25dc279923c1bcdaa7a36e7b884b51f62343abad71986037",
            "",
            "f242209c67698ea32c2152f8785b7d82",
            "732715c60018fb0ed55c14c1fa9a5273afe3c4f050bf001e1dfcb2313dd8edd2",
        ),
    ];
    for (key, iv, aad, msg, ct) in cases {
        xchacha_case(key, iv, aad, msg, ct);
    }
}

/// RFC 6238 Appendix B, through the vault's own TOTP parser (otpauth URIs with 8 digits).
#[test]
fn totp_rfc6238_appendix_b() {
    let secrets = [
        ("SHA1", "12345678901234567890".as_bytes().to_vec()),
        (
            "SHA256",
            "12345678901234567890123456789012".as_bytes().to_vec(),
        ),
        (
            "SHA512",
            "1234567890123456789012345678901234567890123456789012345678901234"
                .as_bytes()
                .to_vec(),
        ),
    ];
    let expected: [(u64, [&str; 3]); 6] = [
        (59, ["94287082", "46119246", "90693936"]),
        (1111111109, ["07081804", "68084774", "25091201"]),
        (1111111111, ["14050471", "67062674", "99943326"]),
        (1234567890, ["89005924", "91819424", "93441116"]),
        (2000000000, ["69279037", "90698825", "38618901"]),
        (20000000000, ["65353130", "77737706", "47863826"]),
    ];
    for (i, (alg, secret)) in secrets.iter().enumerate() {
        let b32 = base32_encode(secret);
        let uri =
            format!("otpauth://totp/RFC:test?secret={b32}&algorithm={alg}&digits=8&period=30");
        for (t, codes) in expected {
            let code = lumen::vault::totp_code(&uri, t).unwrap();
            assert_eq!(code.code, codes[i], "{alg} at {t}");
            assert_eq!(code.seconds_left, 30 - t % 30);
        }
    }
    // A plain base32 secret means SHA1, 6 digits, 30 s: the last 6 digits of the SHA1 column.
    let plain = base32_encode(&secrets[0].1);
    assert_eq!(lumen::vault::totp_code(&plain, 59).unwrap().code, "287082");
}

#[test]
fn totp_rejects_bad_secrets() {
    for bad in [
        "",
        "not base32!",
        "JBSW",
        "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=7",
    ] {
        let err = lumen::vault::totp_code(bad, 0).unwrap_err();
        assert!(
            matches!(err, lumen::vault::VaultError::BadTotp { .. }),
            "{bad}: {err}"
        );
    }
}

pub fn base32_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}
