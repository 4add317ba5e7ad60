//! Metric families as OTLP metrics: a counter becomes a cumulative monotonic sum, a gauge a
//! gauge, a histogram a cumulative explicit-bucket histogram with the same bounds. Names,
//! labels and values stay as `/metrics` shows them, so a value read from the collector is the
//! value a scrape reads.

use opentelemetry_proto::tonic::{
    common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue},
    metrics::v1::{
        metric::Data, number_data_point, AggregationTemporality, Gauge, Histogram,
        HistogramDataPoint, Metric, NumberDataPoint, ScopeMetrics, Sum,
    },
};

use super::exposition::{Family, Kind, Sample};

/// When the series started counting and when they were read, in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) start: u64,
    pub(crate) now: u64,
}

/// The metrics one source (a `/metrics` text) shows, under the scope `scope`.
pub(crate) fn scope_metrics(scope: &str, families: &[Family], times: Times) -> ScopeMetrics {
    ScopeMetrics {
        scope: Some(InstrumentationScope {
            name: scope.to_owned(),
            ..Default::default()
        }),
        metrics: families
            .iter()
            .filter_map(|family| metric(family, times))
            .collect(),
        schema_url: String::new(),
    }
}

/// `None` for a family without a sample to send.
fn metric(family: &Family, times: Times) -> Option<Metric> {
    let data = match family.kind {
        Kind::Counter => Data::Sum(Sum {
            data_points: numbers(family, times),
            aggregation_temporality: AggregationTemporality::Cumulative.into(),
            is_monotonic: true,
        }),
        Kind::Gauge => Data::Gauge(Gauge {
            data_points: numbers(family, times),
        }),
        Kind::Histogram => Data::Histogram(Histogram {
            data_points: histogram_points(family, times),
            aggregation_temporality: AggregationTemporality::Cumulative.into(),
        }),
    };
    let empty = match &data {
        Data::Sum(sum) => sum.data_points.is_empty(),
        Data::Gauge(gauge) => gauge.data_points.is_empty(),
        Data::Histogram(histogram) => histogram.data_points.is_empty(),
        Data::ExponentialHistogram(_) | Data::Summary(_) => true,
    };
    (!empty).then(|| Metric {
        name: family.name.clone(),
        description: family.help.clone(),
        unit: unit(&family.name).to_owned(),
        data: Some(data),
        ..Default::default()
    })
}

/// The UCUM unit a Prometheus name's base-unit suffix stands for.
fn unit(name: &str) -> &'static str {
    let base = name.strip_suffix("_total").unwrap_or(name);
    if base.ends_with("_seconds") {
        "s"
    } else if base.ends_with("_bytes") {
        "By"
    } else {
        ""
    }
}

fn numbers(family: &Family, times: Times) -> Vec<NumberDataPoint> {
    family
        .samples
        .iter()
        .filter_map(|sample| {
            Some(NumberDataPoint {
                attributes: attributes(sample, None),
                start_time_unix_nano: times.start,
                time_unix_nano: times.now,
                value: Some(number(&sample.value)?),
                ..Default::default()
            })
        })
        .collect()
}

/// An integer as an integer, anything else as a double.
fn number(text: &str) -> Option<number_data_point::Value> {
    match text.parse::<i64>() {
        Ok(integer) => Some(number_data_point::Value::AsInt(integer)),
        Err(_) => text
            .parse::<f64>()
            .ok()
            .map(number_data_point::Value::AsDouble),
    }
}

/// One point per label set (`le` aside): the cumulative `_bucket` counts become per-bucket
/// counts, the `+Inf` bucket the overflow past the last bound.
fn histogram_points(family: &Family, times: Times) -> Vec<HistogramDataPoint> {
    let mut points: Vec<(Vec<KeyValue>, Buckets)> = Vec::new();
    for sample in &family.samples {
        let key = attributes(sample, Some("le"));
        let slot = match points.iter().position(|(labels, _)| *labels == key) {
            Some(slot) => slot,
            None => {
                points.push((key, Buckets::default()));
                points.len() - 1
            }
        };
        let buckets = &mut points[slot].1;
        let suffix = &sample.name[family.name.len().min(sample.name.len())..];
        let Ok(value) = sample.value.parse::<f64>() else {
            continue;
        };
        match suffix {
            "_bucket" => match sample.label("le").map(str::parse::<f64>) {
                Some(Ok(bound)) if bound.is_finite() => buckets.bounds.push((bound, value)),
                _ => {}
            },
            "_sum" => buckets.sum = Some(value),
            "_count" => buckets.count = value as u64,
            _ => {}
        }
    }
    points
        .into_iter()
        .map(|(attributes, mut buckets)| {
            buckets.bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut below = 0;
            let mut bucket_counts: Vec<u64> = buckets
                .bounds
                .iter()
                .map(|(_, cumulative)| {
                    let cumulative = *cumulative as u64;
                    let count = cumulative.saturating_sub(below);
                    below = below.max(cumulative);
                    count
                })
                .collect();
            bucket_counts.push(buckets.count.saturating_sub(below));
            HistogramDataPoint {
                attributes,
                start_time_unix_nano: times.start,
                time_unix_nano: times.now,
                count: buckets.count,
                sum: buckets.sum,
                bucket_counts,
                explicit_bounds: buckets.bounds.iter().map(|(bound, _)| *bound).collect(),
                ..Default::default()
            }
        })
        .collect()
}

/// What a histogram's samples of one label set say.
#[derive(Debug, Default)]
struct Buckets {
    /// Finite upper bounds and their cumulative counts.
    bounds: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: u64,
}

/// The sample's labels as string attributes, `except` left out.
fn attributes(sample: &Sample, except: Option<&str>) -> Vec<KeyValue> {
    sample
        .labels
        .iter()
        .filter(|(key, _)| Some(key.as_str()) != except)
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.clone())),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_export::exposition::parse;

    const TIMES: Times = Times { start: 1, now: 2 };

    fn data(text: &str) -> Vec<Data> {
        scope_metrics("test", &parse(text), TIMES)
            .metrics
            .into_iter()
            .filter_map(|metric| metric.data)
            .collect()
    }

    #[test]
    fn a_counter_is_a_cumulative_monotonic_sum_with_its_labels_and_integer_value() {
        let text = "# HELP c_total Things.\n# TYPE c_total counter\nc_total{k=\"v\"} 7\n";
        let metrics = scope_metrics("lists", &parse(text), TIMES);
        assert_eq!(metrics.scope.expect("scope").name, "lists");
        let metric = &metrics.metrics[0];
        assert_eq!(
            (metric.name.as_str(), metric.description.as_str()),
            ("c_total", "Things.")
        );
        let Some(Data::Sum(sum)) = &metric.data else {
            panic!("{metric:?}")
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            i32::from(AggregationTemporality::Cumulative)
        );
        let point = &sum.data_points[0];
        assert_eq!(point.value, Some(number_data_point::Value::AsInt(7)));
        assert_eq!(point.attributes[0].key, "k");
        assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (1, 2));
    }

    #[test]
    fn a_gauge_keeps_a_fraction_and_an_empty_family_is_not_sent() {
        let text = "# TYPE g gauge\ng 0.25\n# TYPE none counter\n";
        let data = data(text);
        assert_eq!(data.len(), 1);
        let Data::Gauge(gauge) = &data[0] else {
            panic!("{data:?}")
        };
        assert_eq!(
            gauge.data_points[0].value,
            Some(number_data_point::Value::AsDouble(0.25))
        );
    }

    #[test]
    fn a_histogram_turns_cumulative_buckets_into_per_bucket_counts_per_label_set() {
        let text = "\
# TYPE h_seconds histogram
h_seconds_bucket{m=\"a\",le=\"0.1\"} 1
h_seconds_bucket{m=\"a\",le=\"1\"} 3
h_seconds_bucket{m=\"a\",le=\"+Inf\"} 4
h_seconds_sum{m=\"a\"} 12.5
h_seconds_count{m=\"a\"} 4
h_seconds_bucket{m=\"b\",le=\"0.1\"} 0
h_seconds_bucket{m=\"b\",le=\"1\"} 0
h_seconds_bucket{m=\"b\",le=\"+Inf\"} 0
h_seconds_sum{m=\"b\"} 0
h_seconds_count{m=\"b\"} 0
";
        let metrics = scope_metrics("test", &parse(text), TIMES);
        assert_eq!(metrics.metrics[0].unit, "s");
        let Some(Data::Histogram(histogram)) = &metrics.metrics[0].data else {
            panic!("{metrics:?}")
        };
        assert_eq!(histogram.data_points.len(), 2);
        let a = &histogram.data_points[0];
        assert_eq!(a.attributes.len(), 1, "le is not an attribute");
        assert_eq!(a.explicit_bounds, [0.1, 1.0]);
        assert_eq!(a.bucket_counts, [1, 2, 1]);
        assert_eq!((a.count, a.sum), (4, Some(12.5)));
        assert_eq!(histogram.data_points[1].bucket_counts, [0, 0, 0]);
    }
}
