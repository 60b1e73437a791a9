//! Parsing an `X-authenticate` value: the strict canonical grammar by default, and an
//! optional lenient mode (any field order, optional whitespace, case-insensitive names).
//!
//! ```text
//! value   = "RestApiUsernameToken" SP
//!           "Username=" DQ user DQ ", " "Domain=" DQ domain DQ ", "
//!           "Digest=" DQ digest DQ ", " "Nonce=" DQ nonce DQ ", " "Created=" DQ created DQ
//! user    = 1*( any char except DQ, "@", CR, LF )
//! domain  = 1*( any char except DQ, "@", CR, LF )
//! digest  = 43( base64char ) "="
//! nonce   = 8*128HEXDIG
//! created = 4DIGIT "-" 2DIGIT "-" 2DIGIT "T" 2DIGIT ":" 2DIGIT ":" 2DIGIT "Z"
//! ```

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::created::{CreatedError, parse_created};
use crate::digest::DIGEST_LEN;
use crate::grammar::{is_valid_field, is_valid_nonce};

/// The scheme token that starts every value.
pub const SCHEME: &str = "RestApiUsernameToken";

/// Why a header value does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The value holds CR, LF or NUL, or is not UTF-8.
    Bytes,
    /// It does not start with `RestApiUsernameToken`.
    Scheme,
    /// The fields are not laid out as the grammar says (order, separators, quotes, extra
    /// text); in lenient mode, a field is unknown, repeated or missing.
    Layout,
    /// `Username` is empty or holds `"`, `@` or a control character.
    Username,
    /// `Domain` is empty or holds `"`, `@` or a control character.
    Domain,
    /// `Digest` is not 44 characters of canonical padded standard base64 for 32 bytes.
    Digest,
    /// `Nonce` is not 8 to 128 hexadecimal characters.
    Nonce,
    /// `Created` is not `YYYY-MM-DDThh:mm:ssZ`.
    CreatedFormat,
    /// `Created` has the right shape but names a date or time that does not exist.
    CreatedImpossible,
}

/// A parsed header, borrowing from the value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParsedHeader<'a> {
    /// `Username`.
    pub username: &'a str,
    /// `Domain`.
    pub domain: &'a str,
    /// `Digest`, decoded.
    pub digest: [u8; 32],
    /// `Nonce`, as sent (nonces compare byte-exactly, case included).
    pub nonce: &'a str,
    /// `Created`, as sent (the digest covers this text).
    pub created_text: &'a str,
    /// `Created`, as a time.
    pub created: SystemTime,
}

/// Trims optional whitespace around a field value, refuses CR, LF and NUL, and decodes
/// UTF-8.
///
/// # Errors
///
/// [`ParseError::Bytes`].
pub(crate) fn value_text(raw: &[u8]) -> Result<&str, ParseError> {
    let start = raw
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |i| i + 1);
    let raw = &raw[start..end];
    if raw.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(ParseError::Bytes);
    }
    std::str::from_utf8(raw).map_err(|_| ParseError::Bytes)
}

/// Parses `raw` with the strict grammar.
///
/// # Errors
///
/// The first rule the value breaks.
pub fn parse_strict(raw: &[u8]) -> Result<ParsedHeader<'_>, ParseError> {
    let text = value_text(raw)?;
    let rest = text
        .strip_prefix(SCHEME)
        .ok_or(ParseError::Scheme)?
        .strip_prefix(' ')
        .ok_or(ParseError::Layout)?;
    let (username, rest) = quoted(rest, "Username=\"")?;
    let (domain, rest) = quoted(sep(rest)?, "Domain=\"")?;
    let (digest, rest) = quoted(sep(rest)?, "Digest=\"")?;
    let (nonce, rest) = quoted(sep(rest)?, "Nonce=\"")?;
    let (created, rest) = quoted(sep(rest)?, "Created=\"")?;
    if !rest.is_empty() {
        return Err(ParseError::Layout);
    }
    check(username, domain, digest, nonce, created)
}

/// Parses `raw` leniently: fields in any order, optional whitespace around `,` and `=`,
/// case-insensitive names and scheme. Each field must still appear exactly once, and
/// every field value follows the strict rules.
///
/// # Errors
///
/// The first rule the value breaks.
pub fn parse_lenient(raw: &[u8]) -> Result<ParsedHeader<'_>, ParseError> {
    let text = value_text(raw)?;
    let scheme = text.get(..SCHEME.len()).ok_or(ParseError::Scheme)?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(ParseError::Scheme);
    }
    let mut rest = &text[SCHEME.len()..];
    if !rest.starts_with([' ', '\t']) {
        return Err(ParseError::Layout);
    }
    const NAMES: [&str; 5] = ["username", "domain", "digest", "nonce", "created"];
    let mut values: [Option<&str>; 5] = [None; 5];
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        let name_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_end);
        let slot = NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or(ParseError::Layout)?;
        let after = after
            .trim_start_matches([' ', '\t'])
            .strip_prefix('=')
            .ok_or(ParseError::Layout)?
            .trim_start_matches([' ', '\t'])
            .strip_prefix('"')
            .ok_or(ParseError::Layout)?;
        let end = after.find('"').ok_or(ParseError::Layout)?;
        if values[slot].replace(&after[..end]).is_some() {
            return Err(ParseError::Layout);
        }
        rest = after[end + 1..].trim_start_matches([' ', '\t']);
        match rest.strip_prefix(',') {
            Some(more) => rest = more,
            None if rest.is_empty() => break,
            None => return Err(ParseError::Layout),
        }
    }
    let [Some(u), Some(d), Some(g), Some(n), Some(c)] = values else {
        return Err(ParseError::Layout);
    };
    check(u, d, g, n, c)
}

fn sep(rest: &str) -> Result<&str, ParseError> {
    rest.strip_prefix(", ").ok_or(ParseError::Layout)
}

/// `name="value"` at the start of `rest`: the value and what follows the closing quote.
fn quoted<'a>(rest: &'a str, name_eq_quote: &str) -> Result<(&'a str, &'a str), ParseError> {
    let after = rest.strip_prefix(name_eq_quote).ok_or(ParseError::Layout)?;
    let end = after.find('"').ok_or(ParseError::Layout)?;
    Ok((&after[..end], &after[end + 1..]))
}

fn check<'a>(
    username: &'a str,
    domain: &'a str,
    digest: &'a str,
    nonce: &'a str,
    created_text: &'a str,
) -> Result<ParsedHeader<'a>, ParseError> {
    if !is_valid_field(username) {
        return Err(ParseError::Username);
    }
    if !is_valid_field(domain) {
        return Err(ParseError::Domain);
    }
    let mut decoded = [0u8; 33];
    // Exactly 44 characters ending in one `=`; the engine refuses non-canonical trailing
    // bits, the URL-safe alphabet and whitespace.
    let len = if digest.len() == DIGEST_LEN && digest.ends_with('=') && !digest.ends_with("==") {
        STANDARD
            .decode_slice(digest, &mut decoded)
            .map_err(|_| ParseError::Digest)?
    } else {
        return Err(ParseError::Digest);
    };
    if len != 32 {
        return Err(ParseError::Digest);
    }
    if !is_valid_nonce(nonce) {
        return Err(ParseError::Nonce);
    }
    let created = parse_created(created_text).map_err(|e| match e {
        CreatedError::Impossible => ParseError::CreatedImpossible,
        _ => ParseError::CreatedFormat,
    })?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&decoded[..32]);
    Ok(ParsedHeader {
        username,
        domain,
        digest: out,
        nonce,
        created_text,
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "RestApiUsernameToken Username=\"admin\", Domain=\"default\", \
        Digest=\"+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40=\", \
        Nonce=\"bfb79078ff44c35714af28b7412a702b\", Created=\"2016-04-29T15:48:26Z\"";

    #[test]
    fn strict_accepts_canonical() {
        let p = parse_strict(GOOD.as_bytes()).unwrap();
        assert_eq!(p.username, "admin");
        assert_eq!(p.nonce, "bfb79078ff44c35714af28b7412a702b");
        assert!(parse_strict(format!(" \t{GOOD} ").as_bytes()).is_ok());
    }

    #[test]
    fn strict_rejects_variants() {
        let cases = [
            (GOOD.replace(", Domain", ",Domain"), ParseError::Layout),
            (GOOD.replace("RestApi", "restapi"), ParseError::Scheme),
            (format!("{GOOD}, Extra=\"x\""), ParseError::Layout),
            (GOOD.replace("admin", "ad@min"), ParseError::Username),
            (GOOD.replace("default", ""), ParseError::Domain),
            (GOOD.replace("E40=", "E40"), ParseError::Digest),
            (GOOD.replace("+PJg", "-PJg"), ParseError::Digest),
            (GOOD.replace("E40=", "E41="), ParseError::Digest),
            (
                GOOD.replace("bfb79078ff44c357", "zzb79078ff44c357"),
                ParseError::Nonce,
            ),
            (GOOD.replace("26Z", "26.1Z"), ParseError::CreatedFormat),
            (
                GOOD.replace("04-29", "02-30"),
                ParseError::CreatedImpossible,
            ),
            (GOOD.replace("admin", "ad\rmin"), ParseError::Bytes),
        ];
        for (value, want) in cases {
            assert_eq!(parse_strict(value.as_bytes()), Err(want), "{value}");
        }
        assert_eq!(parse_strict(b"\xff"), Err(ParseError::Bytes));
    }

    #[test]
    fn lenient_accepts_reordered() {
        let value = "restapiusernametoken nonce = \"bfb79078ff44c35714af28b7412a702b\",Created=\"2016-04-29T15:48:26Z\" , \
            USERNAME=\"admin\", Domain=\"default\", Digest=\"+PJg7Tb3v98XnL6iJVv+v5hwhYjdzQ2tIWxvJB2cE40=\"";
        let p = parse_lenient(value.as_bytes()).unwrap();
        assert_eq!(p, parse_strict(GOOD.as_bytes()).unwrap());
        assert!(parse_lenient(GOOD.as_bytes()).is_ok());
        let dup = format!("{GOOD}, Nonce=\"bfb79078ff44c357\"");
        assert_eq!(parse_lenient(dup.as_bytes()), Err(ParseError::Layout));
        let unknown = format!("{GOOD}, Extra=\"x\"");
        assert_eq!(parse_lenient(unknown.as_bytes()), Err(ParseError::Layout));
    }
}
