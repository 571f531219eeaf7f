//! TOTP (RFC 6238) with totp-rs: 6 digits, 30 s, SHA-1 (what every authenticator app speaks).
//! A code is accepted for steps -1, 0, +1 only, and once (the store keeps the last step used).

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::error::{Error, Result};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;

fn totp(secret: &[u8], account: &str, issuer: &str) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        secret.to_vec(),
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP setup: {e}")))
}

/// A new random 160-bit seed.
pub fn new_secret() -> Vec<u8> {
    rand::random::<[u8; 20]>().to_vec()
}

/// The base32 form users type into an app when they cannot scan.
pub fn secret_base32(secret: &[u8]) -> String {
    base32_encode(secret)
}

fn base32_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI for authenticator apps.
pub fn otpauth_uri(secret: &[u8], account: &str, issuer: &str) -> Result<String> {
    Ok(totp(secret, account, issuer)?.get_url())
}

/// The URI as an SVG QR code.
pub fn qr_svg(uri: &str) -> Result<String> {
    let code =
        qrcode::QrCode::new(uri.as_bytes()).map_err(|e| Error::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// The time step of `code` within +/-1 step of `now_unix`, if it matches.
pub fn matching_step(secret: &[u8], code: &str, now_unix: u64) -> Result<Option<i64>> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret, "check", "uyoop-cal")?;
    let current = now_unix / STEP_SECS;
    let mut found = None;
    // Check every candidate (no early exit) so timing does not tell which step matched.
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = t.generate(step * STEP_SECS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(i64::try_from(step).unwrap_or(i64::MAX));
        }
    }
    Ok(found)
}

/// Ten one-time recovery codes, `xxxxx-xxxxx` (50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let s = base32_encode(&rand::random::<[u8; 7]>()).to_lowercase();
            format!("{}-{}", &s[..5], &s[5..10])
        })
        .collect()
}

/// Normalizes a typed recovery code before hashing (case, spaces, dashes).
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits, seed "12345678901234567890").
    #[test]
    fn rfc6238_vectors() {
        let t = TOTP::new_unchecked(
            Algorithm::SHA1,
            8,
            1,
            30,
            b"12345678901234567890".to_vec(),
            None,
            String::new(),
        );
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(t.generate(time), code, "t={time}");
        }
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let secret = new_secret();
        let t = totp(&secret, "a", "uyoop-cal").unwrap();
        let now = 1_900_000_000u64;
        let step = now / 30;
        for (offset, ok) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let at = (i64::try_from(step).unwrap() + offset) as u64 * 30;
            let code = t.generate(at);
            let got = matching_step(&secret, &code, now).unwrap();
            assert_eq!(got.is_some(), ok, "offset {offset}");
            if ok {
                assert_eq!(got, Some(i64::try_from(step).unwrap() + offset));
            }
        }
        assert_eq!(matching_step(&secret, "12345", now).unwrap(), None);
        assert_eq!(matching_step(&secret, "abcdef", now).unwrap(), None);
    }

    #[test]
    fn uri_qr_and_codes() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "alice", "uYoop-Cal").unwrap();
        assert!(uri.starts_with("otpauth://totp/uYoop-Cal:alice?secret="), "{uri}");
        assert!(uri.contains(&secret_base32(&secret)));
        assert!(qr_svg(&uri).unwrap().starts_with("<?xml"));
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(normalize_recovery_code(" ABCDE-fghij "), "abcdefghij");
    }
}
