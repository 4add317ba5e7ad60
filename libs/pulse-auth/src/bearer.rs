//! Where a bearer token comes from: the `Authorization` header, or the
//! `access_token` query parameter that browsers use for WebSockets and SSE.

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_from_header(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The `access_token` parameter of a raw (still percent-encoded) query string,
/// decoded.
pub fn bearer_from_query(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "access_token")
        .map(|(_, value)| percent_decode(value))
        .filter(|token| !token.is_empty())
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_is_case_insensitive_and_trimmed() {
        assert_eq!(bearer_from_header("Bearer abc"), Some("abc"));
        assert_eq!(bearer_from_header("bearer  abc "), Some("abc"));
        assert_eq!(bearer_from_header("Basic abc"), None);
        assert_eq!(bearer_from_header("Bearer "), None);
    }

    #[test]
    fn access_token_is_found_and_decoded() {
        assert_eq!(
            bearer_from_query("id=x&access_token=a%2Eb.c&_=1").as_deref(),
            Some("a.b.c")
        );
        assert_eq!(bearer_from_query("id=x"), None);
        assert_eq!(bearer_from_query("access_token="), None);
        assert_eq!(
            bearer_from_query("access_token=%zz%4").as_deref(),
            Some("%zz%4")
        );
    }
}
