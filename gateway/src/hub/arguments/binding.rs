//! Why an argument does not fit what a method takes, in the contract's
//! words: the field at fault and the JSON it needs. serde reports Rust and
//! protobuf type names (`expected struct CreateListRequest`, `expected u32`)
//! that mean nothing to a client and tell an outsider how the server is
//! built, so its messages are rewritten here, in one place.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;

/// Deserializes `value`, the argument called `name`, into `T`; or says which
/// field was wrong and what it should have been.
pub(super) fn bind<T: DeserializeOwned>(value: Value, name: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let at_root = path == ".";
        let place = if at_root {
            name.to_owned()
        } else if path.starts_with('[') {
            format!("{name}{path}")
        } else {
            format!("{name}.{path}")
        };
        let fields = if at_root { struct_fields::<T>() } else { None };
        format!("{place}: {}", describe(&error.inner().to_string(), fields))
    })
}

/// serde's message without type names.
fn describe(message: &str, fields: Option<&[&str]>) -> String {
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    // The client's own value comes first and may contain anything, so the
    // expectation is what follows the last ", expected ".
    if let Some((got, expected)) = mismatch.and_then(|rest| rest.rsplit_once(", expected ")) {
        return format!(
            "expected {}, got {}",
            expected_words(expected, fields),
            got_words(got)
        );
    }
    if let Some((length, expected)) = message
        .strip_prefix("invalid length ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!(
            "expected {}, got {length} elements",
            expected_words(expected, fields)
        );
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!("field {field} is required");
    }
    message.to_owned()
}

/// What serde expected, as the JSON a client should send.
fn expected_words(expected: &str, fields: Option<&[&str]>) -> String {
    let range = |min: i128, max: i128| format!("a whole number from {min} to {max}");
    match expected {
        "i8" => range(i8::MIN.into(), i8::MAX.into()),
        "i16" => range(i16::MIN.into(), i16::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" => range(i64::MIN.into(), i64::MAX.into()),
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "u64" => range(0, u64::MAX.into()),
        "f32" | "f64" => "a number".to_owned(),
        "a string" | "a borrowed string" => "a string".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "an object".to_owned(),
        "unit" => "null".to_owned(),
        struct_name if struct_name.starts_with("struct ") => match fields {
            Some(fields) if !fields.is_empty() => {
                format!("an object with fields {}", fields.join(", "))
            }
            _ => "an object".to_owned(),
        },
        enum_name if enum_name.starts_with("enum ") => "one of the allowed values".to_owned(),
        other => other.to_owned(),
    }
}

/// What the client sent, in JSON's words where serde uses Rust's.
fn got_words(got: &str) -> &str {
    match got {
        "unit value" => "null",
        "map" => "an object",
        "sequence" => "an array",
        other => other,
    }
}

/// The fields of `T` if it is a struct, as it names them on the wire
/// (camelCase), read from its `Deserialize` implementation.
fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut probe = FieldProbe(None);
    // The probe always refuses; what matters is what it saw.
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// A deserializer that records the field list a struct asks it for and
/// produces nothing.
struct FieldProbe(Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &mut FieldProbe {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    #[allow(dead_code)]
    struct NewThing {
        name: String,
        quantity: f64,
        position: u32,
        is_done: bool,
        tags: Vec<String>,
        parts: Vec<Part>,
    }

    impl Default for NewThing {
        fn default() -> Self {
            Self {
                name: String::new(),
                quantity: 1.0,
                position: 0,
                is_done: false,
                tags: Vec::new(),
                parts: Vec::new(),
            }
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Part {
        part_id: String,
    }

    fn refusal<T: DeserializeOwned + std::fmt::Debug>(value: Value) -> String {
        bind::<T>(value, "thing").expect_err("refused")
    }

    #[test]
    fn a_value_that_is_not_an_object_names_the_fields_it_needs() {
        assert_eq!(
            refusal::<NewThing>(json!("x")),
            "thing: expected an object with fields name, quantity, position, isDone, tags, parts, got string \"x\""
        );
        assert_eq!(
            refusal::<NewThing>(json!(null)),
            "thing: expected an object with fields name, quantity, position, isDone, tags, parts, got null"
        );
    }

    #[test]
    fn a_field_of_the_wrong_kind_is_named_with_the_kind_it_needs() {
        assert_eq!(
            refusal::<NewThing>(json!({"quantity": "two"})),
            "thing.quantity: expected a number, got string \"two\""
        );
        assert_eq!(
            refusal::<NewThing>(json!({"isDone": "yes"})),
            "thing.isDone: expected true or false, got string \"yes\""
        );
        assert_eq!(
            refusal::<NewThing>(json!({"tags": {}})),
            "thing.tags: expected an array, got an object"
        );
        assert_eq!(
            refusal::<NewThing>(json!({"parts": [{"partId": "a"}, {}]})),
            "thing.parts[1]: field partId is required"
        );
        assert_eq!(
            refusal::<NewThing>(json!({"parts": [7]})),
            "thing.parts[0]: expected an object, got integer `7`"
        );
    }

    #[test]
    fn numbers_out_of_range_say_the_range() {
        assert_eq!(
            refusal::<NewThing>(json!({"position": -1})),
            "thing.position: expected a whole number from 0 to 4294967295, got integer `-1`"
        );
        assert_eq!(
            refusal::<u64>(json!(1.5)),
            "thing: expected a whole number from 0 to 18446744073709551615, got floating point `1.5`"
        );
    }

    #[test]
    fn no_refusal_names_a_rust_type() {
        let values = [
            json!("x"),
            json!(1),
            json!([1]),
            json!({"name": 1}),
            json!({"position": "1"}),
            json!({"parts": "a"}),
            json!({"parts": [{"partId": 1}]}),
        ];
        for value in values {
            let text = refusal::<NewThing>(value.clone());
            for leak in [
                "struct", "NewThing", "Part", "u32", "f64", "String", "Vec", "sequence",
            ] {
                assert!(!text.contains(leak), "{value}: {text}");
            }
        }
    }

    #[test]
    fn a_fitting_value_binds() {
        let thing: NewThing =
            bind(json!({"name": "a", "parts": [{"partId": "p"}]}), "thing").expect("binds");
        assert_eq!(thing.name, "a");
        assert_eq!(thing.parts.len(), 1);
    }
}
