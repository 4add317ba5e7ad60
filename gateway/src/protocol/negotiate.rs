//! The pure half of `POST {hub}/negotiate`: reading the query values, choosing ids, and the
//! response bodies. The HTTP handler (status 200 even for errors) lives in the transport layer.

use serde::{Serialize, Serializer};

use super::error::NegotiateError;
use super::hub_protocol::TransferFormat;
use super::issuer::Issuer;

/// The negotiate protocol version answered; requests above 1 are answered with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiateVersion {
    /// No `connectionToken`: the client uses `connectionId` as the `id` of transport requests.
    V0,
    /// A secret `connectionToken` separate from the public `connectionId` (what the JS client asks
    /// for).
    V1,
}

impl NegotiateVersion {
    /// Reads the `negotiateVersion` query value (the caller finds the key case-insensitively, as
    /// .NET does). Missing means version 0; parsing follows .NET's `int.TryParse`, which allows a
    /// sign and surrounding whitespace.
    pub fn parse(value: Option<&str>) -> Result<Self, NegotiateError> {
        let Some(value) = value else {
            return Ok(Self::V0);
        };
        let requested: i32 = value
            .trim_matches(|c| matches!(c, '\t'..='\r' | ' '))
            .parse()
            .map_err(|_| NegotiateError::NonIntegerVersion)?;
        match requested {
            ..0 => Err(NegotiateError::UnsupportedVersion(requested)),
            0 => Ok(Self::V0),
            1.. => Ok(Self::V1),
        }
    }
}

impl Serialize for NegotiateVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(match self {
            Self::V0 => 0,
            Self::V1 => 1,
        })
    }
}

/// The raw value of a query parameter, its key matched case-insensitively as .NET does. The keys
/// read (`id`, `negotiateVersion`, `useStatefulReconnect`) are plain ASCII and their values
/// URL-safe, so no decoding is needed; a value that would need it simply does not match anything.
pub fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, value)| value)
}

/// Reads the `useStatefulReconnect` query value the way .NET's `bool.TryParse` does: only a
/// case-insensitive `true` opts in.
pub fn wants_stateful_reconnect(value: Option<&str>) -> bool {
    value.is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
}

/// The two names of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionIds {
    /// Public: how other code and the client's `connectionId` refer to the connection.
    pub id: String,
    /// Secret: the `id` query value of every transport request, hence the key to look the
    /// connection up by. Equal to `id` in version 0, where the client knows no other name.
    pub token: String,
}

impl ConnectionIds {
    /// Fresh ids for a connection negotiated with `version` on the gateway `issuer`: URL-safe
    /// (the JS client appends the token to URLs without encoding it), unguessable (16 random
    /// bytes, as .NET's), each starting with the issuer's tag.
    pub fn generate(version: NegotiateVersion, issuer: &Issuer) -> Self {
        let id = issuer.new_id();
        let token = match version {
            NegotiateVersion::V0 => id.clone(),
            NegotiateVersion::V1 => issuer.new_id(),
        };
        Self { id, token }
    }
}

/// A transport name as the JS client spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TransportType {
    /// Full duplex; the only transport that supports stateful reconnect.
    WebSockets,
    /// An event stream for server→client, POSTs for client→server; text only.
    ServerSentEvents,
    /// Polls for server→client, POSTs for client→server; works through anything that passes
    /// plain HTTP.
    LongPolling,
}

/// One entry of `availableTransports`. The JS client tries them in the order given and needs
/// `transferFormats` on every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailableTransport {
    /// Which transport.
    pub transport: TransportType,
    /// What it can carry: `Text` for JSON, `Binary` for MessagePack.
    pub transfer_formats: &'static [TransferFormat],
}

impl AvailableTransport {
    /// WebSockets carry both text and binary frames.
    pub const WEB_SOCKETS: Self = Self {
        transport: TransportType::WebSockets,
        transfer_formats: &[TransferFormat::Text, TransferFormat::Binary],
    };
    /// EventSource delivers text only, so MessagePack clients skip this transport.
    pub const SERVER_SENT_EVENTS: Self = Self {
        transport: TransportType::ServerSentEvents,
        transfer_formats: &[TransferFormat::Text],
    };
    /// Poll responses and POST bodies carry text or bytes.
    pub const LONG_POLLING: Self = Self {
        transport: TransportType::LongPolling,
        transfer_formats: &[TransferFormat::Text, TransferFormat::Binary],
    };

    /// Every transport, in the order clients should try them (as .NET lists them).
    pub const ALL: &'static [Self] = &[
        Self::WEB_SOCKETS,
        Self::SERVER_SENT_EVENTS,
        Self::LONG_POLLING,
    ];
}

/// The success body, serialized as JSON. Field order is .NET's: `useStatefulReconnect` first and
/// only when true, `connectionToken` only in version 1.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NegotiateResponse<'a> {
    #[serde(skip_serializing_if = "is_false")]
    use_stateful_reconnect: bool,
    negotiate_version: NegotiateVersion,
    connection_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_token: Option<&'a str>,
    available_transports: &'a [AvailableTransport],
}

impl<'a> NegotiateResponse<'a> {
    /// `use_stateful_reconnect` must be true only when the client asked for it
    /// ([`wants_stateful_reconnect`]) and the server allows it: the JS client refuses to start when
    /// the server claims a feature it did not request.
    pub fn new(
        version: NegotiateVersion,
        ids: &'a ConnectionIds,
        available_transports: &'a [AvailableTransport],
        use_stateful_reconnect: bool,
    ) -> Self {
        Self {
            use_stateful_reconnect,
            negotiate_version: version,
            connection_id: &ids.id,
            connection_token: match version {
                NegotiateVersion::V0 => None,
                NegotiateVersion::V1 => Some(&ids.token),
            },
            available_transports,
        }
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

/// `{"error":"..."}`, the negotiate body that makes the JS client fail `start()` with that text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegotiateErrorBody {
    /// Shown to the application verbatim.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: &impl Serialize) -> String {
        serde_json::to_string(value).expect("serializable body")
    }

    fn ids() -> ConnectionIds {
        ConnectionIds {
            id: "pub".to_owned(),
            token: "secret".to_owned(),
        }
    }

    #[test]
    fn missing_version_means_version_0() {
        assert_eq!(NegotiateVersion::parse(None), Ok(NegotiateVersion::V0));
    }

    #[test]
    fn versions_above_1_are_answered_with_1() {
        for value in ["1", "2", "+7", " 1 ", "2147483647"] {
            assert_eq!(
                NegotiateVersion::parse(Some(value)),
                Ok(NegotiateVersion::V1),
                "{value}"
            );
        }
        assert_eq!(NegotiateVersion::parse(Some("0")), Ok(NegotiateVersion::V0));
    }

    #[test]
    fn non_integer_version_is_refused_with_the_dotnet_text() {
        for value in ["", "one", "1.0", "2147483648"] {
            let error = NegotiateVersion::parse(Some(value)).expect_err("non-integer");
            assert_eq!(
                body(&error.body()),
                r#"{"error":"The client requested a non-integer protocol version."}"#,
                "{value:?}"
            );
        }
    }

    #[test]
    fn negative_version_is_refused() {
        let error = NegotiateVersion::parse(Some("-1")).expect_err("below the minimum");
        assert_eq!(
            error.to_string(),
            "The client requested version '-1', but the server does not support this version."
        );
    }

    #[test]
    fn version_1_body_carries_the_token() {
        let ids = ids();
        let response = NegotiateResponse::new(
            NegotiateVersion::V1,
            &ids,
            &[AvailableTransport::WEB_SOCKETS],
            false,
        );
        assert_eq!(
            body(&response),
            r#"{"negotiateVersion":1,"connectionId":"pub","connectionToken":"secret","availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}"#
        );
    }

    #[test]
    fn version_0_body_has_no_token() {
        let ids = ids();
        let response = NegotiateResponse::new(
            NegotiateVersion::V0,
            &ids,
            &[AvailableTransport::WEB_SOCKETS],
            false,
        );
        assert_eq!(
            body(&response),
            r#"{"negotiateVersion":0,"connectionId":"pub","availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}"#
        );
    }

    #[test]
    fn stateful_reconnect_is_written_first_and_only_when_enabled() {
        let ids = ids();
        let response = NegotiateResponse::new(NegotiateVersion::V1, &ids, &[], true);
        assert_eq!(
            body(&response),
            r#"{"useStatefulReconnect":true,"negotiateVersion":1,"connectionId":"pub","connectionToken":"secret","availableTransports":[]}"#
        );
    }

    #[test]
    fn only_a_true_query_value_asks_for_stateful_reconnect() {
        assert!(wants_stateful_reconnect(Some("true")));
        assert!(wants_stateful_reconnect(Some("True")));
        for value in [None, Some(""), Some("1"), Some("false"), Some("yes")] {
            assert!(!wants_stateful_reconnect(value), "{value:?}");
        }
    }

    #[test]
    fn every_transport_is_advertised_in_dotnet_order_with_its_formats() {
        assert_eq!(
            body(&AvailableTransport::ALL),
            r#"[{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}]"#
        );
    }

    #[test]
    fn query_keys_match_case_insensitively_and_first_wins() {
        let query = "negotiateversion=1&ID=abc&id=def&flag&useStatefulReconnect=true";
        assert_eq!(query_value(query, "negotiateVersion"), Some("1"));
        assert_eq!(query_value(query, "id"), Some("abc"));
        assert_eq!(query_value(query, "flag"), None);
        assert_eq!(query_value(query, "missing"), None);
        assert_eq!(query_value("", "id"), None);
    }

    proptest::proptest! {
        /// The negotiate query is attacker-controlled: whatever it holds, reading it never panics
        /// and always ends in a version or a .NET error text.
        #[test]
        fn any_negotiate_query_is_answered_without_panicking(
            version in "\\PC{0,12}|[-+ 0-9]{0,12}",
            flag in "\\PC{0,8}",
            noise in "[a-zA-Z=&%]{0,32}",
        ) {
            let query = format!("{noise}&negotiateVersion={version}&useStatefulReconnect={flag}&{noise}");
            let version = NegotiateVersion::parse(query_value(&query, "negotiateVersion"));
            if let Err(error) = version {
                let text = body(&error.body());
                proptest::prop_assert!(text.starts_with(r#"{"error":"The client requested"#), "{}", text);
            }
            let _ = wants_stateful_reconnect(query_value(&query, "useStatefulReconnect"));
            let _ = query_value(&query, "id");
        }
    }

    #[test]
    fn version_0_uses_the_id_as_token_and_version_1_a_separate_secret() {
        let v0 = ConnectionIds::generate(NegotiateVersion::V0, &Issuer::default());
        assert_eq!(v0.id, v0.token);
        let v1 = ConnectionIds::generate(NegotiateVersion::V1, &Issuer::default());
        assert_ne!(v1.id, v1.token);
    }
}
