//! rmxreport's JSON, read by serde_json, and looked up by a path of keys
//! (`totals.results.pass.decisions`, `networks.top.0.network`) that must be
//! there: indexing a `Value` gives `Null` for a missing key, and two
//! missing figures would compare equal.

pub use serde_json::Value;

/// Lookups by path, each of which fails the test when the path is not there
/// or holds a value of another kind.
pub trait At {
    /// The value at `path`, keys separated by dots, array items by index.
    fn at(&self, path: &str) -> &Value;
    /// The count at `path`: a non-negative integer.
    fn int(&self, path: &str) -> u64;
    fn text(&self, path: &str) -> &str;
    /// The length of the array at `path`.
    fn len(&self, path: &str) -> usize;
}

impl At for Value {
    fn at(&self, path: &str) -> &Value {
        let pointer: String = path.split('.').map(|key| format!("/{key}")).collect();
        self.pointer(&pointer)
            .unwrap_or_else(|| panic!("no {path} in the JSON"))
    }

    fn int(&self, path: &str) -> u64 {
        read(self, path, "a count", Value::as_u64)
    }

    fn text(&self, path: &str) -> &str {
        read(self, path, "a string", Value::as_str)
    }

    fn len(&self, path: &str) -> usize {
        read(self, path, "an array", Value::as_array).len()
    }
}

/// The value at `path` in `json`, read as `kind` by `as_kind`; the test
/// fails if it is not one.
fn read<'a, T>(json: &'a Value, path: &str, kind: &str, as_kind: fn(&'a Value) -> Option<T>) -> T {
    let value = json.at(path);
    as_kind(value).unwrap_or_else(|| panic!("{path}: not {kind}: {value}"))
}
