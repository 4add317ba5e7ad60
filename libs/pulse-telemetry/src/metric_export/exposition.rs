//! Reading the Prometheus text format back into metric families: what `/metrics` serves is
//! the one description of a process's metrics, and the OTLP export is made from it.
//!
//! Written for what [`crate::prometheus`] and the `/metrics` renderers write (a `# TYPE` line
//! before a family's samples, which come together); a line it cannot read is skipped, so a
//! malformed sample costs that sample, not the export.

/// How a family's samples are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: its samples as written (`name_bucket`, `name_sum` and `name_count` for a
/// histogram).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Family {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: Kind,
    pub(crate) samples: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// The sample's own name (`x_seconds_bucket` in the family `x_seconds`).
    pub(crate) name: String,
    pub(crate) labels: Vec<(String, String)>,
    /// The value as written, so an integer stays one.
    pub(crate) value: String,
}

impl Sample {
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// The families of `text`, in order.
pub(crate) fn parse(text: &str) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    let mut help: Option<(&str, &str)> = None;
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = rest.split_once(' ').or(Some((rest, "")));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let Some((name, kind)) = rest.split_once(' ') else {
                continue;
            };
            let help = match help.take() {
                Some((named, text)) if named == name => unescape_help(text),
                _ => String::new(),
            };
            families.push(Family {
                name: name.to_owned(),
                help,
                kind: kind_of(kind),
                samples: Vec::new(),
            });
        } else if line.starts_with('#') {
            continue;
        } else if let Some(sample) = sample(line) {
            match families.last_mut() {
                Some(family) if belongs(family, &sample.name) => family.samples.push(sample),
                _ => families.push(Family {
                    name: sample.name.clone(),
                    help: String::new(),
                    kind: Kind::Gauge,
                    samples: vec![sample],
                }),
            }
        }
    }
    families
}

/// Counters and gauges as such; anything else (`untyped`, `summary`) is read as gauges.
fn kind_of(kind: &str) -> Kind {
    match kind {
        "counter" => Kind::Counter,
        "histogram" => Kind::Histogram,
        _ => Kind::Gauge,
    }
}

fn belongs(family: &Family, sample: &str) -> bool {
    match family.kind {
        Kind::Histogram => sample
            .strip_prefix(family.name.as_str())
            .is_some_and(|suffix| matches!(suffix, "_bucket" | "_sum" | "_count")),
        Kind::Counter | Kind::Gauge => sample == family.name,
    }
}

/// `name{a="1",b="x"} value` or `name value` (a timestamp after the value is ignored).
fn sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let (labels, rest) = match line[name_end..].strip_prefix('{') {
        Some(inside) => labels(inside)?,
        None => (Vec::new(), &line[name_end..]),
    };
    let value = rest.split_whitespace().next()?;
    Some(Sample {
        name: name.to_owned(),
        labels,
        value: value.to_owned(),
    })
}

/// The pairs of a label set (after its `{`) and what follows its `}`.
fn labels(mut rest: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut pairs = Vec::new();
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((pairs, after));
        }
        let (key, after_key) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let end = loop {
            match chars.next()? {
                (at, '"') => break at,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, other) => value.push(other),
            }
        };
        pairs.push((key.trim().to_owned(), value));
        rest = &after_key[end + 1..];
    }
}

fn unescape_help(text: &str) -> String {
    text.replace("\\n", "\n").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP pulse_commands_total gRPC requests served, by method and status.
# TYPE pulse_commands_total counter
pulse_commands_total{method=\"/a.B/C\",status=\"OK\"} 5
pulse_commands_total{method=\"/a.B/C\",status=\"NOT_FOUND\"} 1
# HELP pulse_outbox_rows Events not yet published.
# TYPE pulse_outbox_rows gauge
pulse_outbox_rows 0
# HELP x_seconds Latency.
# TYPE x_seconds histogram
x_seconds_bucket{method=\"m\",le=\"0.001\"} 1
x_seconds_bucket{method=\"m\",le=\"+Inf\"} 2
x_seconds_sum{method=\"m\"} 0.5005
x_seconds_count{method=\"m\"} 2
stray{note=\"a \\\"quoted\\\" \\\\ word, with } and ,\"} 1.5
";

    #[test]
    fn families_keep_their_kind_help_labels_and_values_as_written() {
        let families = parse(TEXT);
        let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pulse_commands_total",
                "pulse_outbox_rows",
                "x_seconds",
                "stray"
            ]
        );
        let commands = &families[0];
        assert_eq!(commands.kind, Kind::Counter);
        assert_eq!(commands.help, "gRPC requests served, by method and status.");
        assert_eq!(commands.samples.len(), 2);
        assert_eq!(commands.samples[1].label("status"), Some("NOT_FOUND"));
        assert_eq!(commands.samples[0].value, "5");
        assert_eq!(families[1].kind, Kind::Gauge);
        let histogram = &families[2];
        assert_eq!(histogram.kind, Kind::Histogram);
        assert_eq!(histogram.samples.len(), 4);
        assert_eq!(histogram.samples[1].label("le"), Some("+Inf"));
        assert_eq!(histogram.samples[2].name, "x_seconds_sum");
        let stray = &families[3];
        assert_eq!(stray.kind, Kind::Gauge);
        assert_eq!(
            stray.samples[0].label("note"),
            Some("a \"quoted\" \\ word, with } and ,")
        );
        assert_eq!(stray.samples[0].value, "1.5");
    }

    #[test]
    fn a_line_that_is_not_a_sample_is_skipped() {
        let families = parse("# TYPE a counter\na{broken 1\na 2\n");
        assert_eq!(families.len(), 1);
        assert_eq!(families[0].samples.len(), 1);
        assert_eq!(families[0].samples[0].value, "2");
    }
}
