//! What a run logs, as JSON lines: every line an object, lines inside a traced request carry its
//! trace id, and no token, key or `access_token` value appears anywhere, even at debug level.

use pulse_auth::{JwtKeys, JwtValidator, TokenRequest};
use pulse_telemetry::{LogBuffer, LogFormat, Telemetry};
use pulse_testkit::Collector;
use serde_json::{json, Value};

use super::{create_list, helpers::SECRET, TestSuite, User, HUB};

#[tokio::test]
async fn json_logs_carry_trace_ids_and_never_a_secret() {
    let collector = Collector::start().await;
    let logs = LogBuffer::default();
    let (dispatch, _telemetry) = Telemetry::new("pulse-test")
        .log_format(LogFormat::Json)
        .log_filter("debug")
        .log_to(logs.clone())
        .otlp_endpoint(Some(collector.endpoint()))
        .build()
        .expect("telemetry");
    let _default = tracing::dispatcher::set_default(&dispatch);
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let token = suite.token(&ann);
    let mut client = suite.connect(&ann).await;
    let list_id = create_list(&mut client, "Groceries").await;
    client.call("JoinList", json!([list_id])).await;
    client
        .call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    client.event("ItemAdded").await;
    let refused = client.invoke("DeleteItem", json!([list_id, "nope"])).await;
    assert!(refused.get("error").is_some(), "{refused}");

    // A forged token, refused at negotiate and at connect.
    let forged = JwtValidator::new(&JwtKeys::Hs256("other-secret".to_owned().into()))
        .expect("validator")
        .mint(&TokenRequest {
            sub: ann.id,
            name: "Mallory".into(),
            roles: vec![],
            exp: chrono::Utc::now().timestamp() + 60,
        })
        .expect("mint");
    let http = reqwest::Client::new();
    let negotiate = http
        .post(suite.http(&format!("{HUB}/negotiate?negotiateVersion=1")))
        .bearer_auth(&forged)
        .send()
        .await
        .expect("negotiate");
    assert_eq!(negotiate.status(), 401);
    let connect = http
        .get(suite.http(&format!("{HUB}?id=x&access_token={forged}")))
        .send()
        .await
        .expect("connect");
    assert_eq!(connect.status(), 401);
    suite.stop().await;

    let text = logs.contents();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(lines.len() > 20, "the run logged: {text}");
    let invoked: Vec<&Value> = lines
        .iter()
        .filter(|line| line["span"]["name"] == "invoke")
        .collect();
    assert!(!invoked.is_empty(), "lines logged inside an invocation");
    assert!(
        invoked.iter().all(|line| line["trace_id"].is_string()),
        "every line of an invocation names its trace"
    );
    let signature = token.rsplit('.').next().expect("a JWT");
    let forged_signature = forged.rsplit('.').next().expect("a JWT");
    for secret in [
        token.as_str(),
        signature,
        forged.as_str(),
        forged_signature,
        SECRET,
    ] {
        assert!(!text.contains(secret), "a secret was logged: {secret}");
    }
    assert!(
        text.contains("access_token=[redacted]"),
        "the connect requests' queries are logged, redacted"
    );
    for (at, _) in text.match_indices("access_token=") {
        assert!(
            text[at..].starts_with("access_token=[redacted]"),
            "an access_token value was logged: {}",
            &text[at..text.len().min(at + 80)]
        );
    }
}
