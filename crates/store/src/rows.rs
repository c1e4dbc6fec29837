//! Conversions between stored columns and domain values, shared by every aggregate.

use crate::StoreError;

/// Lists are stored as JSON text on both backends.
pub fn to_json_list<T: serde::Serialize>(items: &[T]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(items)?)
}

pub fn from_json_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, StoreError> {
    Ok(serde_json::from_str(text)?)
}
