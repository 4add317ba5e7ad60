//! The receiving side of SignalR's long-polling transport: one `GET {hub}?id=`
//! after another, as the JS client polls. The first poll only starts the
//! connection (200, body ignored); then each 200 carries zero or more
//! records, and 204 says the server ended the connection.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use reqwest::StatusCode;

use crate::{
    client::{within, STEP_TIMEOUT},
    http_transport::Incoming,
    marker,
};

/// Longest one poll may take: the JS client's fixed 100 s, beyond the
/// gateway's 90 s poll timeout, so a poll that outlasts it is a failure and
/// never one the server answered while the client had given up.
const POLL_LIMIT: Duration = Duration::from_secs(100);

/// The first poll: it only starts the connection.
pub async fn start(http: &reqwest::Client, url: &str, token: &str) -> Result<()> {
    match within("the first poll", STEP_TIMEOUT, poll(http, url, token)).await? {
        Some(_) => Ok(()),
        None => bail!("the first poll was answered 204"),
    }
}

/// Polls into `incoming` until the connection ends; `Ok` once the client is gone.
pub async fn keep_polling(
    http: reqwest::Client,
    url: String,
    token: String,
    incoming: Incoming,
) -> Result<()> {
    loop {
        let body = poll(&http, &url, &token)
            .await?
            .ok_or_else(|| anyhow!("long polling ended by the server (204)"))?;
        // An empty 200 is a poll that timed out with nothing to say.
        if !body.is_empty() && incoming.send(Ok(body)).await.is_err() {
            return Ok(());
        }
    }
}

/// One poll: its body, or `None` for 204. The `_` parameter is the JS
/// client's cache buster.
async fn poll(http: &reqwest::Client, url: &str, token: &str) -> Result<Option<String>> {
    let response = http
        .get(format!("{url}&_={}", marker::now_micros() / 1_000))
        .bearer_auth(token)
        .timeout(POLL_LIMIT)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("poll")?;
    if response.status() == StatusCode::NO_CONTENT {
        return Ok(None);
    }
    let body = response.bytes().await.context("poll body")?;
    String::from_utf8(body.into())
        .map(Some)
        .context("poll body: not UTF-8")
}
