//! Whether a JSON value decodes into a Go struct the way Syft declares it.
//!
//! Syft reads `package.json` and `direct_url.json` with Go's
//! `encoding/json` into typed structs, and a value of the wrong type for
//! any field fails the whole file (no package at all): `"private": "yes"`
//! or `"description": ["…"]` lose the package. Keys match field names
//! case-insensitively (exact spelling first), unknown keys are ignored, and
//! `null` is accepted anywhere (it leaves the field as it was).

use serde_json::{Map, Value};

/// The Go type a field is declared with.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// `json.RawMessage`: anything.
    Any,
    /// `string`.
    Str,
    /// `bool`.
    Bool,
    /// `[]string`.
    StrList,
    /// `map[string]string`.
    StrMap,
    /// A struct of these fields (JSON names).
    Struct(&'static [(&'static str, Shape)]),
    /// A string, or else a struct of these fields (a custom `UnmarshalJSON`
    /// trying both, as Syft's npm `author`).
    StrOrStruct(&'static [(&'static str, Shape)]),
    /// A string, or else `map[string]string` (Syft's npm `repository`).
    StrOrStrMap,
    /// `map[string]T` of this shape (keys match exactly: no case folding).
    Map(&'static Shape),
}

/// Whether `value` decodes into `shape` without an error.
pub(crate) fn fits(value: &Value, shape: Shape) -> bool {
    if value.is_null() {
        return true;
    }
    match shape {
        Shape::Any => true,
        Shape::Str => value.is_string(),
        Shape::Bool => value.is_boolean(),
        Shape::StrList => value
            .as_array()
            .is_some_and(|items| items.iter().all(|i| fits(i, Shape::Str))),
        Shape::StrMap => value
            .as_object()
            .is_some_and(|o| o.values().all(|v| fits(v, Shape::Str))),
        Shape::Struct(fields) => value.as_object().is_some_and(|o| struct_fits(o, fields)),
        Shape::StrOrStruct(fields) => value.is_string() || fits(value, Shape::Struct(fields)),
        Shape::StrOrStrMap => value.is_string() || fits(value, Shape::StrMap),
        Shape::Map(inner) => value
            .as_object()
            .is_some_and(|o| o.values().all(|v| fits(v, *inner))),
    }
}

fn struct_fits(object: &Map<String, Value>, fields: &[(&str, Shape)]) -> bool {
    fields
        .iter()
        .all(|(name, shape)| field(object, name).is_none_or(|v| fits(v, *shape)))
}

/// The value Go's decoder gives field `name`: its exact key, else one
/// spelled with other case.
pub(crate) fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A string field as Go leaves it: the string, or empty.
pub(crate) fn string(object: &Map<String, Value>, name: &str) -> String {
    field(object, name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: Shape = Shape::Struct(&[("name", Shape::Str), ("private", Shape::Bool)]);

    #[test]
    fn wrong_types_fail_nulls_and_unknown_keys_do_not() {
        assert!(fits(&json!({"name": "a", "private": true, "x": [1]}), S));
        assert!(fits(&json!({"name": null}), S));
        assert!(fits(&json!(null), S));
        assert!(!fits(&json!({"name": 1}), S));
        assert!(!fits(&json!({"NAME": 1}), S), "keys match any case");
        assert!(!fits(&json!({"private": "true"}), S));
        assert!(!fits(&json!([]), S));
        assert!(fits(&json!(["a", null]), Shape::StrList));
        assert!(!fits(&json!({"a": 1}), Shape::StrMap));
        assert!(fits(&json!("x"), Shape::StrOrStrMap));
        assert!(!fits(&json!({"url": {"a": "b"}}), Shape::StrOrStrMap));
        const M: Shape = Shape::Map(&Shape::Struct(&[("n", Shape::Str)]));
        assert!(fits(&json!({"a": {"n": "x"}, "b": null, "c": {}}), M));
        assert!(!fits(&json!({"a": {"n": 1}}), M));
        assert!(!fits(&json!({"a": "x"}), M));
        assert!(!fits(&json!(["x"]), M));
    }

    #[test]
    fn exact_spelling_first() {
        let o = json!({"Name": "b", "name": "a"});
        assert_eq!(string(o.as_object().unwrap(), "name"), "a");
        let o = json!({"NAME": "b"});
        assert_eq!(string(o.as_object().unwrap(), "name"), "b");
    }
}
