//! The receiving side of SignalR's Server-Sent Events transport:
//! `GET {hub}?id=` with `Accept: text/event-stream`, read as EventSource
//! does. Each event's `data:` lines, joined with `\n`, are one or more
//! SignalR records; comments (the server opens with `:`) are skipped.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::time::timeout;

use crate::{
    client::{within, STEP_TIMEOUT},
    http_transport::Incoming,
};

/// Longest the stream may stay silent: the server pings every 15 s, and the
/// JS client gives up after 30 s without anything from the server.
const SILENCE: Duration = Duration::from_secs(30);

/// Opens the event stream (read by [`read`] after).
pub async fn open(http: &reqwest::Client, url: &str, token: &str) -> Result<reqwest::Response> {
    let request = http
        .get(url)
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send();
    within("the event stream's answer", STEP_TIMEOUT, async {
        request
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("event stream")
    })
    .await
}

/// Reads events into `incoming` until the stream fails; `Ok` once the
/// client is gone.
pub async fn read(mut response: reqwest::Response, incoming: Incoming) -> Result<()> {
    let mut events = Events::default();
    loop {
        let chunk = timeout(SILENCE, response.chunk())
            .await
            .map_err(|_| anyhow!("event stream silent for {SILENCE:?}"))?
            .context("event stream")?
            .ok_or_else(|| anyhow!("event stream ended by the server"))?;
        for data in events.push(&chunk)? {
            if incoming.send(Ok(data)).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// An event-stream parser fed chunks as they arrive (a chunk may end in the
/// middle of a line, or hold several events).
#[derive(Default)]
struct Events {
    /// Bytes of a line not complete yet.
    line: Vec<u8>,
    /// The current event's data so far, if it has a `data:` line.
    data: Option<Vec<u8>>,
}

impl Events {
    /// The data of every event that `chunk` completes.
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>> {
        let mut complete = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    complete.push(String::from_utf8(data).context("event data")?);
                }
            } else if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                match &mut self.data {
                    Some(data) => {
                        data.push(b'\n');
                        data.extend_from_slice(value);
                    }
                    None => self.data = Some(value.to_vec()),
                }
            } else if !line.starts_with(b":") {
                // The JS client listens to unnamed events only: an `event:`
                // line (or any other field) would hide records from it.
                bail!(
                    "unexpected event-stream line: {}",
                    String::from_utf8_lossy(line)
                );
            }
        }
        self.line.extend_from_slice(rest);
        Ok(complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_once_and_whole() -> Result<()> {
        let mut events = Events::default();
        assert!(events.push(b":\r\ndata: {}\x1e")?.is_empty());
        assert_eq!(events.push(b"\r\n\r\nda")?, ["{}\u{1e}"]);
        assert_eq!(
            events
                .push(b"ta: {\"type\":6}\x1e{\"type\":6}\x1e\r\n\r\ndata: a\r\ndata: b\r\n\r\n")?,
            ["{\"type\":6}\u{1e}{\"type\":6}\u{1e}", "a\nb"]
        );
        Ok(())
    }

    #[test]
    fn a_line_that_is_not_data_or_a_comment_is_refused() {
        assert!(Events::default().push(b"event: x\r\n").is_err());
    }
}
