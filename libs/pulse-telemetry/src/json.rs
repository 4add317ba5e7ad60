//! JSON log lines that name the trace they belong to: tracing-subscriber's
//! JSON line with a `trace_id` field first, when the event happened inside a
//! traced span, so a log search finds every line of one request from a trace
//! (and a trace from a line).

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_opentelemetry::OtelData;
use tracing_subscriber::{
    fmt::{
        format::{Format, Json, JsonFields, Writer},
        FmtContext, FormatEvent,
    },
    registry::LookupSpan,
};

/// The JSON event format, with the event's trace id.
#[derive(Debug)]
pub(crate) struct JsonWithTraceId(Format<Json>);

impl JsonWithTraceId {
    pub(crate) fn new() -> Self {
        Self(Format::default().json())
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonWithTraceId
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let trace_id = ctx
            .lookup_current()
            .and_then(|span| span.extensions().get::<OtelData>()?.trace_id());
        let Some(trace_id) = trace_id else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::with_capacity(256);
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // The line is one JSON object: the field goes in right after its brace.
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"trace_id\":\"{trace_id}\",{rest}"),
            None => writer.write_str(&line),
        }
    }
}
