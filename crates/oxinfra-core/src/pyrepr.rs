//! Python's `str()` and `repr()` of plain data, for the places where pyinfra shows
//! values the way Python prints them: fact argument keys (`path=/x, system=False`)
//! and operation labels (`files.file (path=/x, present=True)`).

use serde_json::Value;

/// `str(value)` as Python prints it.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_repr(other),
    }
}

/// `repr(value)` as Python prints it.
pub fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => repr_string(text),
        Value::Array(items) => format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(key, item)| format!("{}: {}", repr_string(key), python_repr(item)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn repr_string(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_python() {
        assert_eq!(python_str(&json!("a")), "a");
        assert_eq!(python_str(&json!(["x.service"])), "['x.service']");
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(false)), "False");
        assert_eq!(python_repr(&json!("it's")), "\"it's\"");
        assert_eq!(python_repr(&json!({"a": 1})), "{'a': 1}");
    }
}
