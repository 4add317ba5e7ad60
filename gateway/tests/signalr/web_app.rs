//! The web app the gateway serves and the demo sign-in it uses: off unless `--demo`, a working
//! credential when on, and refused at start-up with an RS256 key.

use clap::Parser;
use pulse_auth::{JwtKeys, JwtValidator};
use pulse_bus::{Bus, Namespace};
use pulse_gateway::{GatewayApp, StartupError};
use serde_json::{json, Value};

use crate::helpers::{GatewayArgs, RawClient, SuiteOptions, TestSuite};

/// A public key only: a gateway configured with it validates RS256 tokens and can sign none.
const RS256_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq3zjThlGMWb2W8oe7TlS
u2onRF3GRY2IXUjWt3ai5k7PhGnXXInxGLnfwLErPqjGJKBUT874mWXT9hSYqtvR
e4zCe414zrzFSqJBcfa3NSyaU7eg53YxZCXZ00VlUuuQMvG3VhT7hDf632N4M3dl
9AneC3xH9PUA/SK00E45VRlFPVf6ExW0e93sLSwphLF7g/R3QaMTd+Z/z5JDMrmy
RU12eTF0jZwHZSLQoV4yoeg3J8Xzz3mPWNQsqPANHzvJ3uZTKq7/TemZE5I6kBK7
dptJ80VyssiI8MX9/87dtXCb5gjdt1K16M7JMthhlVtdck9i9McUkHP8g9Z/HauD
7QIDAQAB
-----END PUBLIC KEY-----
";

/// The JSON of a request the gateway must answer 200.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("request")
        .error_for_status()
        .expect("200")
        .json()
        .await
        .expect("json")
}

fn demo() -> SuiteOptions {
    SuiteOptions {
        gateway_args: vec!["--demo".to_owned()],
        ..SuiteOptions::default()
    }
}

#[tokio::test]
async fn the_app_is_served_and_demo_sign_in_is_off_by_default() {
    let suite = TestSuite::start().await;
    let http = reqwest::Client::new();
    let page = http.get(suite.http("/")).send().await.expect("GET /");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.expect("body").contains("/app/main.js"));
    let script = http
        .get(suite.http("/app/vendor/signalr.min.js"))
        .send()
        .await
        .expect("GET script");
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let missing = http
        .get(suite.http("/app/nope.js"))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);

    let sign_in = http
        .post(suite.http("/demo/token"))
        .json(&json!({"name": "Ann"}))
        .send()
        .await
        .expect("POST /demo/token");
    assert_eq!(sign_in.status(), 404);
    suite.stop().await;
}

#[tokio::test]
async fn a_demo_token_signs_in_to_a_hub_as_the_name_typed() {
    let suite = TestSuite::start_with_options(demo()).await;
    let http = reqwest::Client::new();
    let signed_in = answer(
        http.post(suite.http("/demo/token"))
            .json(&json!({"name": "  Ann  ", "role": "trainer"})),
    )
    .await;
    assert_eq!(signed_in["name"], "Ann");
    assert_eq!(signed_in["roles"], json!(["trainer"]));
    let identity = suite
        .validator
        .validate(signed_in["token"].as_str().expect("token"))
        .expect("a valid token");
    assert_eq!(identity.user_id.to_string(), signed_in["userId"]);

    let mut ann = RawClient::connect(&suite, signed_in["token"].as_str().expect("token")).await;
    let list = ann.call("CreateList", json!([{"name": "Groceries"}])).await;
    assert_eq!(list["ownerId"], signed_in["userId"]);

    for refused in [
        json!({"name": " "}),
        json!({"name": "Eve", "role": "admin"}),
        json!({}),
    ] {
        let status = http
            .post(suite.http("/demo/token"))
            .json(&refused)
            .send()
            .await
            .expect("POST /demo/token")
            .status();
        assert!(status.is_client_error(), "{refused}: {status}");
    }
    suite.stop().await;
}

#[tokio::test]
async fn demo_sign_in_is_refused_at_start_up_with_an_rs256_key() {
    let config = GatewayArgs::parse_from([
        "gateway",
        "--gateway-addr",
        "127.0.0.1:0",
        "--gateway-grpc-addr",
        "127.0.0.1:0",
        "--demo",
    ])
    .config;
    let validator =
        JwtValidator::new(&JwtKeys::Rs256PublicPem(RS256_PUBLIC_KEY.to_owned())).expect("key");
    let bus = Bus::memory(Namespace::new("demo_refused").expect("namespace"));
    let started = GatewayApp::build(&config, bus, validator).await;
    let Err(error) = started else {
        panic!("the gateway started with --demo and an RS256 key");
    };
    assert!(matches!(error, StartupError::Demo(_)), "{error}");
    assert!(
        error.to_string().contains("--demo needs an HS256 secret"),
        "{error}"
    );
}

#[tokio::test]
async fn demo_helpers_create_a_key_start_its_task_and_report_it_done() {
    let suite = TestSuite::start_with_options(SuiteOptions {
        key_services: true,
        ..demo()
    })
    .await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(suite.http(path)).json(&body);
    let key = answer(post(
        "/demo/keys",
        json!({"name": "Studio", "budget": 10.0}),
    ))
    .await;
    let secret = key["secret"].as_str().expect("secret");
    let task = answer(
        post(
            "/demo/tasks",
            json!({"kind": "Video", "taskType": "video.generate"}),
        )
        .bearer_auth(secret),
    )
    .await;
    assert_eq!(task["status"], "Pending");
    let done = answer(post(
        "/demo/work",
        json!({"taskId": task["id"], "percentage": 100}),
    ))
    .await;
    assert_eq!(done["status"], "Completed");
    let read = answer(
        http.get(suite.http(&format!("/demo/tasks/{}", task["id"].as_str().expect("id"))))
            .bearer_auth(secret),
    )
    .await;
    assert_eq!(read["status"], "Completed");
    assert_eq!(read["percentage"], 100);
    let without_key = post("/demo/tasks", json!({"kind": "Video", "taskType": "x"}))
        .send()
        .await
        .expect("POST /demo/tasks");
    assert_eq!(without_key.status(), 401);
    suite.stop().await;
}

#[tokio::test]
async fn demo_helpers_that_need_the_master_key_say_so_without_it() {
    let suite = TestSuite::start_with_options(demo()).await;
    let refused = reqwest::Client::new()
        .post(suite.http("/demo/keys"))
        .json(&json!({"name": "Studio"}))
        .send()
        .await
        .expect("POST /demo/keys");
    assert_eq!(refused.status(), 503);
    assert!(refused
        .text()
        .await
        .expect("body")
        .contains("PULSE_MASTER_KEY"));
    suite.stop().await;
}
