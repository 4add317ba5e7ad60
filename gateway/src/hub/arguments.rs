//! Binding of invocation arguments (JSON values) to what a method takes.

mod binding;

use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::HubError;

/// The arguments of one invocation.
#[derive(Debug)]
pub struct Arguments(Vec<Value>);

impl Arguments {
    pub fn new(values: Vec<Value>) -> Self {
        Self(values)
    }

    /// Checks the count, with .NET's wording.
    pub fn expect(&self, count: usize) -> Result<(), HubError> {
        if self.0.len() == count {
            Ok(())
        } else {
            Err(HubError::BadArguments(format!(
                "Invocation provides {} argument(s) but target expects {count}.",
                self.0.len()
            )))
        }
    }

    fn get(&self, index: usize) -> &Value {
        self.0.get(index).unwrap_or(&Value::Null)
    }

    /// A UUID string argument, given back in canonical form.
    pub fn id(&self, index: usize, name: &str) -> Result<Uuid, HubError> {
        self.get(index)
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| HubError::Refused(format!("{name} must be a UUID string")))
    }

    /// An argument deserialized into `T` (objects with camelCase keys); a
    /// refusal names the field at fault and the JSON it needs.
    pub fn object<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T, HubError> {
        binding::bind(self.get(index).clone(), name).map_err(HubError::BadArguments)
    }

    /// An argument given either as a bare value or as `{field: value}`, for
    /// methods that take a single datum (`SetItemPurchased(listId, itemId, true)`
    /// and `SetItemPurchased(listId, itemId, {isPurchased: true})` alike).
    pub fn field<T: DeserializeOwned>(&self, index: usize, field: &str) -> Result<T, HubError> {
        let value = match self.get(index) {
            Value::Object(map) => map.get(field).cloned().unwrap_or(Value::Null),
            other => other.clone(),
        };
        binding::bind(value, field).map_err(HubError::BadArguments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_argument_count_is_reported_like_dotnet() {
        let err = Arguments::new(vec![json!(1)])
            .expect(2)
            .expect_err("mismatch");
        assert!(
            matches!(err, HubError::BadArguments(t) if t == "Invocation provides 1 argument(s) but target expects 2.")
        );
    }

    #[test]
    fn a_datum_may_be_bare_or_wrapped() {
        let args = Arguments::new(vec![json!(true), json!({"isPurchased": false})]);
        assert!(args.field::<bool>(0, "isPurchased").expect("bare"));
        assert!(!args.field::<bool>(1, "isPurchased").expect("wrapped"));
    }

    #[test]
    fn ids_must_be_uuids() {
        let args = Arguments::new(vec![json!("nope"), json!(3)]);
        assert!(args.id(0, "listId").is_err());
        assert!(args.id(1, "listId").is_err());
    }
}
