//! Conversions between stored columns and domain values, shared by every aggregate: lists and
//! documents are JSON text on both backends, and a value that no longer parses is
//! [`StoreError::Corrupt`], never a panic.

use crate::StoreError;

/// Lists are stored as JSON text on both backends.
pub fn to_json_list<T: serde::Serialize>(items: &[T]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(items)?)
}

/// Reads a JSON list column; each element goes through its type's `Deserialize` (and so its parser).
pub fn from_json_list<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// Documents (payloads, details) are stored as JSON text.
pub fn to_json_doc(value: &serde_json::Value) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

pub fn from_json_doc(text: &str) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// Parses an optional column with the domain parser `parse`.
pub fn parse_opt<T, E>(value: Option<&str>, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<Option<T>, StoreError>
where
    StoreError: From<E>,
{
    Ok(value.map(parse).transpose()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip() {
        let text = to_json_list(&["a".to_owned(), "b".to_owned()]).unwrap();
        assert_eq!(text, r#"["a","b"]"#);
        assert_eq!(from_json_list::<String>(&text).unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn unreadable_columns_are_corrupt() {
        assert!(matches!(
            from_json_list::<String>("not json"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(from_json_doc("{"), Err(StoreError::Corrupt(_))));
        let bad = parse_opt(Some("nope"), gatehouse_domain::integration::Platform::parse);
        assert!(matches!(bad, Err(StoreError::Corrupt(_))));
        assert_eq!(
            parse_opt(None, gatehouse_domain::integration::Platform::parse).unwrap(),
            None
        );
    }
}
