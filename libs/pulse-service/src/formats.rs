//! Values whose format the contract fixes, the same in every service: ids
//! are UUIDs, links are absolute http(s) URLs (each checking function names
//! `field` as the service spells it; each service wraps the message in its
//! own `Invalid` error), and timestamps are written one way.

use uuid::Uuid;

/// The contract's one timestamp format, defined beside its messages.
pub use pulse_proto::timestamp;

/// `value` as a UUID. An id that is not one can never name anything, and a
/// client that stored one would hand every other client a broken reference.
pub fn parse_uuid(field: &str, value: &str) -> Result<Uuid, String> {
    Uuid::parse_str(value).map_err(|_| format!("{field} must be a UUID"))
}

/// Refuses `value` unless it is an absolute `http` or `https` URL with a
/// host. Clients render these as links and images, so any other scheme
/// (`javascript:`, `data:`, `file:`) would let one user run script or read
/// files in another user's browser.
pub fn check_web_url(field: &str, value: &str) -> Result<(), String> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        _ => Err(format!("{field} must be an absolute http or https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_uuids() {
        let id = Uuid::new_v4();
        assert_eq!(parse_uuid("categoryId", &id.to_string()), Ok(id));
        for bad in ["zzz", "", "1", "6f1c0d3e-8a53-4c5e-9d8e"] {
            assert_eq!(
                parse_uuid("categoryId", bad),
                Err("categoryId must be a UUID".to_owned()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_absolute_http_and_https_urls_are_links() {
        for good in [
            "https://example.com/apples.png",
            "http://cdn.example:8080/a?b=c#d",
        ] {
            assert_eq!(check_web_url("imageUrl", good), Ok(()), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "/images/a.png",
            "example.com/a.png",
            "ftp://example.com/a.png",
            "https://",
        ] {
            assert_eq!(
                check_web_url("imageUrl", bad),
                Err("imageUrl must be an absolute http or https URL".to_owned()),
                "{bad}"
            );
        }
    }
}
