//! Edges a hostile or careless client reaches: credentials not valid yet,
//! handshakes and arguments the contract does not allow.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use pulse_auth::TokenRequest;
use pulse_testkit::wait_until;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{TestSuite, User, HUB};
use crate::{create_list, error_text, raw};

#[tokio::test]
async fn negotiate_refuses_a_token_before_its_nbf_and_accepts_it_after() {
    let suite = TestSuite::start().await;
    let now = chrono::Utc::now().timestamp();
    // Beyond the validator's 5 s leeway now, within it two seconds later.
    let token = suite
        .validator
        .mint_not_before(
            &TokenRequest {
                sub: Uuid::new_v4(),
                name: "Ann".into(),
                roles: vec![],
                exp: now + 3600,
            },
            now + 7,
        )
        .expect("mint");
    let http = reqwest::Client::new();
    let negotiate = || {
        http.post(suite.http(&format!("{HUB}/negotiate?negotiateVersion=1")))
            .bearer_auth(&token)
            .send()
    };

    let early = negotiate().await.expect("request");
    assert_eq!(early.status(), 401);

    wait_until("accepted at its nbf", Duration::from_secs(10), async || {
        let status = negotiate().await.expect("request").status();
        if status != 200 {
            assert_eq!(status, 401);
        }
        status == 200
    })
    .await;
    suite.stop().await;
}

#[tokio::test]
async fn a_handshake_asking_for_version_minus_1_is_refused_as_aspnet_core_does() {
    let suite = TestSuite::start().await;
    let token = suite.token(&User::new("Ann"));
    let id = raw::connection_token(&suite, &token, "").await;
    let url = format!("ws://{}{HUB}?id={id}&access_token={token}", suite.gateway);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");

    ws.send(Message::text(
        "{\"protocol\":\"json\",\"version\":-1}\u{1e}",
    ))
    .await
    .expect("send handshake");
    let answer = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("an answer")
        .expect("a frame")
        .expect("readable");

    assert_eq!(
        answer,
        Message::text(
            "{\"error\":\"The server does not support version -1 of the 'json' protocol.\"}\u{1e}"
        )
    );
    suite.stop().await;
}

#[tokio::test]
async fn arguments_that_do_not_fit_are_explained_in_the_contracts_words() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    let prefix = "Failed to invoke 'AddItem' due to an error on the server. InvalidDataException: ";

    let not_an_object = ann.invoke("AddItem", json!([list_id, "x"])).await;
    let not_a_number = ann
        .invoke(
            "AddItem",
            json!([list_id, {"name": "Milk", "quantity": "two"}]),
        )
        .await;
    let not_a_list = ann.invoke("CreateList", json!([5])).await;

    assert_eq!(
        error_text(&not_an_object),
        format!(
            "{prefix}item: expected an object with fields name, quantity, unit, categoryId, notes, imageUrl, got string \"x\""
        )
    );
    assert_eq!(
        error_text(&not_a_number),
        format!("{prefix}item.quantity: expected a number, got string \"two\"")
    );
    assert_eq!(
        error_text(&not_a_list),
        "Failed to invoke 'CreateList' due to an error on the server. InvalidDataException: list: expected an object with fields name, description, got integer `5`"
    );
    suite.stop().await;
}

#[tokio::test]
async fn a_category_that_is_not_a_uuid_and_a_script_link_are_refused_through_the_hub() {
    let suite = TestSuite::start().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let list_id = create_list(&mut ann, "Groceries").await;
    let refused = "An unexpected error occurred invoking 'AddItem' on the server. HubException: ";

    let category = ann
        .invoke(
            "AddItem",
            json!([list_id, {"name": "Milk", "categoryId": "zzz"}]),
        )
        .await;
    let image = ann
        .invoke(
            "AddItem",
            json!([list_id, {"name": "Milk", "imageUrl": "javascript:alert(1)"}]),
        )
        .await;

    assert_eq!(
        error_text(&category),
        format!("{refused}categoryId must be a UUID")
    );
    assert_eq!(
        error_text(&image),
        format!("{refused}imageUrl must be an absolute http or https URL")
    );
    let snapshot = ann.call("GetList", json!([list_id])).await;
    assert_eq!(snapshot["items"], json!([]), "nothing was stored");
    suite.stop().await;
}

#[tokio::test]
async fn a_call_while_the_database_is_unreachable_says_try_again_and_works_once_it_is_back() {
    let suite = TestSuite::start_with_database_proxy().await;
    let mut ann = suite.connect(&User::new("Ann")).await;
    let list_id = create_list(&mut ann, "Groceries").await;

    suite.cut_database();
    let refused = ann
        .invoke("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    assert_eq!(
        error_text(&refused),
        "An unexpected error occurred invoking 'AddItem' on the server. HubException: Service temporarily unavailable; try again."
    );

    suite.restore_database();
    let what = "AddItem accepted after the database came back";
    wait_until(what, Duration::from_secs(10), async || {
        let retried = ann
            .invoke("AddItem", json!([list_id, {"name": "Milk"}]))
            .await;
        let accepted = retried.get("error").is_none();
        if !accepted {
            assert_eq!(error_text(&retried), error_text(&refused));
        }
        accepted
    })
    .await;
    let snapshot = ann.call("GetList", json!([list_id])).await;
    assert_eq!(
        snapshot["items"].as_array().map(Vec::len),
        Some(1),
        "the refused call added nothing, the retry one item"
    );
    suite.stop().await;
}
