//! Virtual keys: the secret is shown once and stored only as a hash, every
//! key change is announced to admins without secrets, and a revoked key is
//! refused everywhere from then on.

use pulse_proto::tasks::v1::{
    event::Kind, AuthenticateKeyRequest, CreateTaskRequest, CreateVirtualKeyRequest,
    ListTasksRequest, ListVirtualKeysRequest, RecordSpendRequest, SetBudgetRequest,
    VirtualKeyRequest,
};
use pulse_proto::tasks::{ADMIN, KEY_REVOCATIONS};
use pulse_testkit::{assert_refused, expect_kind};
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::helpers::{create_key, key_id, spawn_app, spawn_app_with, uuid, AppOptions, MASTER_KEY};

fn revoke(id: &str) -> VirtualKeyRequest {
    VirtualKeyRequest {
        virtual_key_id: id.into(),
    }
}

fn budget(id: &str, budget: Option<f64>) -> SetBudgetRequest {
    SetBudgetRequest {
        virtual_key_id: id.into(),
        budget,
    }
}

#[tokio::test]
async fn a_new_key_shows_its_secret_once_and_the_store_keeps_only_its_hash() {
    let app = spawn_app().await;
    let mut admin = app.subscribe(ADMIN.topic()).await;

    let created = create_key(&app, "Acme", Some(25.5)).await;

    let key = created.key.clone().expect("key");
    let secret = created.secret.clone();
    assert!(secret.starts_with("pvk_") && secret.len() == 47, "{secret}");
    assert_eq!(key.key_prefix, secret[..12]);
    assert_eq!(
        (
            key.name.as_str(),
            key.status.as_str(),
            key.budget,
            key.current_spend
        ),
        ("Acme", "Active", Some(25.5), 0.0)
    );
    assert_eq!(key.revoked_at, None);
    let db = app.db().await;
    let (hash, prefix): (Vec<u8>, String) =
        sqlx::query_as("SELECT key_hash, key_prefix FROM virtual_keys WHERE id = $1")
            .bind(uuid(&key.id))
            .fetch_one(&db)
            .await
            .expect("stored key");
    assert_eq!(hash, Sha256::digest(secret.as_bytes()).to_vec());
    assert_eq!(prefix, secret[..12]);
    let holding_the_secret: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM virtual_keys k WHERE strpos(row_to_json(k)::text, $1) > 0",
    )
    .bind(&secret[12..])
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(holding_the_secret, 0, "no column holds the secret");
    let listed = app
        .keys()
        .await
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect("listed")
        .into_inner()
        .keys;
    assert_eq!(listed, vec![key.clone()]);
    let authenticated = app
        .keys_as(Some(&secret))
        .await
        .authenticate_key(AuthenticateKeyRequest {})
        .await
        .expect("the secret authenticates")
        .into_inner();
    assert_eq!(authenticated, key);
    let announced = admin.expect(1).await;
    let json = serde_json::to_string(&announced).expect("serializes");
    assert!(!json.contains(&secret[12..]), "no secret in {json}");
    let change = expect_kind!(announced, ConfigurationChanged);
    assert_eq!(change.setting, format!("virtualKey:{}:status", key.id));
    assert_eq!(
        (change.old_value, change.new_value.as_deref()),
        (None, Some("Active"))
    );
    assert_eq!(change.changed_by, "master key");
}

#[tokio::test]
async fn a_revoked_key_is_refused_and_gateways_and_admins_are_told_once() {
    let app = spawn_app().await;
    let mut admin = app.subscribe(ADMIN.topic()).await;
    let mut revocations = app.subscribe(KEY_REVOCATIONS.topic()).await;
    let created = create_key(&app, "Acme", None).await;
    let id = key_id(&created);
    expect_kind!(admin.expect(1).await, ConfigurationChanged);
    let mut tasks = app.tasks_as(Some(&created.secret)).await;
    tasks
        .list_tasks(ListTasksRequest { kind: None })
        .await
        .expect("active key works");

    let revoked = app
        .keys()
        .await
        .revoke_virtual_key(revoke(&id))
        .await
        .expect("revoked")
        .into_inner();

    assert_eq!(revoked.status, "Revoked");
    assert!(revoked.revoked_at.is_some());
    let event = expect_kind!(revocations.expect(1).await, VirtualKeyRevoked);
    assert_eq!(event.virtual_key_id, id);
    let change = expect_kind!(admin.expect(2).await, ConfigurationChanged);
    assert_eq!(change.setting, format!("virtualKey:{id}:status"));
    assert_eq!(
        (change.old_value.as_deref(), change.new_value.as_deref()),
        (Some("Active"), Some("Revoked"))
    );
    assert_eq!(change.changed_by, "master key");
    let refusals = [
        tasks
            .list_tasks(ListTasksRequest { kind: None })
            .await
            .expect_err("list"),
        tasks
            .create_task(CreateTaskRequest {
                kind: "Video".into(),
                task_type: "video.generate".into(),
            })
            .await
            .expect_err("create"),
        app.keys_as(Some(&created.secret))
            .await
            .authenticate_key(AuthenticateKeyRequest {})
            .await
            .expect_err("authenticate"),
    ];
    for refused in &refusals {
        assert_refused(refused, Code::Unauthenticated, "virtual key revoked");
    }

    let again = app
        .keys()
        .await
        .revoke_virtual_key(revoke(&id))
        .await
        .expect("revoking twice is fine")
        .into_inner();
    assert_eq!(again, revoked, "nothing changed");
    let other = create_key(&app, "Other", None).await;
    app.keys()
        .await
        .revoke_virtual_key(revoke(&key_id(&other)))
        .await
        .expect("revoked");
    let next = expect_kind!(revocations.expect(2).await, VirtualKeyRevoked);
    assert_eq!(next.virtual_key_id, key_id(&other), "no second event");
}

#[tokio::test]
async fn budget_changes_are_announced_and_an_unchanged_budget_is_silent() {
    let app = spawn_app().await;
    let mut admin = app.subscribe(ADMIN.topic()).await;
    let created = create_key(&app, "Acme", None).await;
    let id = key_id(&created);
    expect_kind!(admin.expect(1).await, ConfigurationChanged);
    let mut keys = app.keys().await;

    let set = keys
        .set_budget(budget(&id, Some(100.0)))
        .await
        .expect("set")
        .into_inner();
    let same = keys
        .set_budget(budget(&id, Some(100.0)))
        .await
        .expect("same again")
        .into_inner();
    let cleared = keys
        .set_budget(budget(&id, None))
        .await
        .expect("cleared")
        .into_inner();

    assert_eq!(
        (set.budget, same.budget, cleared.budget),
        (Some(100.0), Some(100.0), None)
    );
    let first = expect_kind!(admin.expect(2).await, ConfigurationChanged);
    assert_eq!(first.setting, format!("virtualKey:{id}:budget"));
    assert_eq!(
        (first.old_value, first.new_value.as_deref()),
        (None, Some("100"))
    );
    let second = expect_kind!(admin.expect(3).await, ConfigurationChanged);
    assert_eq!(
        (second.old_value.as_deref(), second.new_value),
        (Some("100"), None)
    );
    assert_eq!(app.sequence(ADMIN.topic()).await, 3);
}

#[tokio::test]
async fn key_requests_are_validated() {
    let app = spawn_app().await;
    let created = create_key(&app, "Acme", None).await;
    let id = key_id(&created);
    let mut keys = app.keys().await;
    let nowhere = uuid::Uuid::new_v4().to_string();

    let no_name = keys
        .create_virtual_key(CreateVirtualKeyRequest {
            name: " ".into(),
            budget: None,
        })
        .await
        .expect_err("no name");
    let free_money = keys
        .create_virtual_key(CreateVirtualKeyRequest {
            name: "Acme".into(),
            budget: Some(-5.0),
        })
        .await
        .expect_err("negative budget");
    let endless = keys
        .set_budget(budget(&id, Some(f64::INFINITY)))
        .await
        .expect_err("infinite budget");
    let bad_id = keys
        .revoke_virtual_key(revoke("acme"))
        .await
        .expect_err("bad id");
    let unknown = keys
        .revoke_virtual_key(revoke(&nowhere))
        .await
        .expect_err("unknown");
    let unknown_budget = keys
        .set_budget(budget(&nowhere, Some(1.0)))
        .await
        .expect_err("unknown");

    assert_refused(&no_name, Code::InvalidArgument, "name must not be empty");
    for refused in [&free_money, &endless] {
        assert_refused(
            refused,
            Code::InvalidArgument,
            "budget must be a number greater than 0",
        );
    }
    assert_refused(&bad_id, Code::InvalidArgument, "virtualKeyId is not a UUID");
    assert_refused(&unknown, Code::NotFound, "virtual key not found");
    assert_refused(&unknown_budget, Code::NotFound, "virtual key not found");
    let listed = keys
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect("listed")
        .into_inner()
        .keys;
    assert_eq!(listed.len(), 1, "nothing else was created");
}

#[tokio::test]
async fn keys_are_listed_newest_first() {
    let app = spawn_app().await;
    let first = create_key(&app, "First", None).await;
    let second = create_key(&app, "Second", Some(5.0)).await;

    let listed = app
        .keys()
        .await
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect("listed")
        .into_inner()
        .keys;

    let ids: Vec<String> = listed.into_iter().map(|key| key.id).collect();
    assert_eq!(ids, vec![key_id(&second), key_id(&first)]);
}

#[tokio::test]
async fn master_key_calls_are_refused_without_the_master_key() {
    let app = spawn_app().await;
    let created = create_key(&app, "Acme", None).await;
    let list = || ListVirtualKeysRequest {};

    let missing = app
        .keys_as(None)
        .await
        .list_virtual_keys(list())
        .await
        .expect_err("none");
    let wrong = app
        .keys_as(Some("tasks-test-master-key-0123456780"))
        .await
        .list_virtual_keys(list())
        .await
        .expect_err("wrong");
    let virtual_key = app
        .keys_as(Some(&created.secret))
        .await
        .list_virtual_keys(list())
        .await
        .expect_err("a virtual key is not the master key");
    let producer = app
        .producers_as(Some(&created.secret))
        .await
        .record_spend(RecordSpendRequest {
            virtual_key_id: key_id(&created),
            amount: 1.0,
            description: None,
        })
        .await
        .expect_err("producers need the master key");

    assert_refused(&missing, Code::Unauthenticated, "missing bearer token");
    for refused in [&wrong, &virtual_key, &producer] {
        assert_refused(refused, Code::Unauthenticated, "invalid master key");
    }
}

#[tokio::test]
async fn without_a_configured_master_key_nobody_is_admin() {
    let app = spawn_app_with(AppOptions {
        master_key: None,
        ..AppOptions::default()
    })
    .await;

    let refused = app
        .keys_as(Some(MASTER_KEY))
        .await
        .list_virtual_keys(ListVirtualKeysRequest {})
        .await
        .expect_err("no master key configured");

    assert_refused(
        &refused,
        Code::Unauthenticated,
        "master key authentication is not configured",
    );
}

#[tokio::test]
async fn unknown_virtual_keys_are_unauthenticated() {
    let app = spawn_app().await;
    create_key(&app, "Acme", None).await;
    let forged = format!("pvk_{}", "A".repeat(43));

    let outcomes = [
        (Some(forged.as_str()), "invalid virtual key"),
        (Some(MASTER_KEY), "invalid virtual key"),
        (None, "missing bearer token"),
    ];
    for (credential, message) in outcomes {
        let refused = app
            .tasks_as(credential)
            .await
            .list_tasks(ListTasksRequest { kind: None })
            .await
            .expect_err("refused");
        assert_refused(&refused, Code::Unauthenticated, message);
        let refused = app
            .keys_as(credential)
            .await
            .authenticate_key(AuthenticateKeyRequest {})
            .await
            .expect_err("refused");
        assert_refused(&refused, Code::Unauthenticated, message);
    }
}
