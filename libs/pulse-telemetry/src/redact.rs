use std::borrow::Cow;

/// A query string fit for a log line: the value of `access_token` replaced.
pub fn redact_query(query: &str) -> Cow<'_, str> {
    if !query.contains("access_token=") {
        return Cow::Borrowed(query);
    }
    let redacted: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("access_token=") {
                "access_token=[redacted]"
            } else {
                pair
            }
        })
        .collect();
    Cow::Owned(redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_value_never_survives() {
        assert_eq!(
            redact_query("id=abc&access_token=eyJ.secret.sig&_=1"),
            "id=abc&access_token=[redacted]&_=1"
        );
        assert_eq!(redact_query("id=abc"), "id=abc");
    }
}
