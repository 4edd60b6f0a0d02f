//! The process-wide registry of secret plaintexts: every decrypted vault value (and any
//! other value the Python front knows to be secret) is registered here, and everything
//! that leaves the process for people (output lines, logs, diffs, error messages, JSON
//! events) goes through [`redact`] first. Commands go through [`mark_command`], which
//! turns each registered plaintext into a [`CommandPart::Secret`], so that it is shown
//! masked and sent the way secrets are sent.
//!
//! Masking is by text: a registered secret is replaced wherever it appears, whatever
//! produced the text. Besides the plaintext itself the registry holds the forms it takes
//! in output: without a trailing newline, each longer line of a multi-line secret (a
//! diff shows lines one at a time), JSON- and Python-escaped, and shell-quoted. Registered
//! secrets are never forgotten during a run.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use oxinfra_core::command::MASK;
use oxinfra_core::{CommandPart, StringCommand, shell_quote};
use serde_json::Value;

/// Lines of a multi-line secret shorter than this are not masked on their own: a lone
/// `}` or blank line is not secret, and masking it would garble every diff.
const MIN_LINE_LENGTH: usize = 6;

static ANY: AtomicBool = AtomicBool::new(false);
/// The registered texts, longest first so that a secret containing another is masked whole.
static TEXTS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret; from now on it is masked in everything [`redact`] sees.
/// Empty and whitespace-only texts are ignored.
pub fn register(secret: &str) {
    let forms = forms_of(secret);
    if forms.is_empty() {
        return;
    }
    let Ok(mut texts) = TEXTS.write() else {
        return;
    };
    for form in forms {
        if !texts.contains(&form) {
            texts.push(form);
        }
    }
    texts.sort_by_key(|text| std::cmp::Reverse(text.len()));
    ANY.store(true, Ordering::Release);
}

fn forms_of(secret: &str) -> Vec<String> {
    fn add(forms: &mut Vec<String>, form: &str) {
        if !form.trim().is_empty() && !forms.iter().any(|known| known == form) {
            forms.push(form.to_owned());
        }
    }
    let mut forms: Vec<String> = Vec::new();
    add(&mut forms, secret);
    add(&mut forms, secret.trim_end_matches(['\n', '\r']));
    add(&mut forms, secret.trim());
    if secret.trim().contains('\n') {
        for line in secret.lines() {
            if line.trim().chars().count() >= MIN_LINE_LENGTH {
                add(&mut forms, line);
                add(&mut forms, line.trim());
            }
        }
    }
    for form in forms.clone() {
        if let Ok(json) = serde_json::to_string(&form) {
            let json = json.trim_matches('"');
            add(&mut forms, json);
            add(&mut forms, &ascii_escape(json));
        }
        add(&mut forms, &python_escape(&form));
        add(&mut forms, &shell_quote(&form));
    }
    forms
}

/// Non-ASCII characters as `\uXXXX` escapes, as Python's `json.dumps` writes them.
fn ascii_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_ascii() {
            escaped.push(character);
        } else {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                let _ = write!(escaped, "\\u{unit:04x}");
            }
        }
    }
    escaped
}

/// The inside of Python's `repr` of a string in single quotes.
fn python_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' => escaped.push_str("\\\\"),
            '\'' => escaped.push_str("\\'"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Whether any secret was registered.
pub fn any() -> bool {
    ANY.load(Ordering::Acquire)
}

/// `text` with every registered secret replaced by `*MASKED*`; borrowed when there was
/// nothing to mask (the common case costs one atomic load).
pub fn redact(text: &str) -> Cow<'_, str> {
    if !any() {
        return Cow::Borrowed(text);
    }
    let Ok(texts) = TEXTS.read() else {
        return Cow::Borrowed(text);
    };
    let mut result = Cow::Borrowed(text);
    for secret in texts.iter() {
        if result.contains(secret.as_str()) {
            result = Cow::Owned(result.replace(secret.as_str(), MASK));
        }
    }
    result
}

/// Masks every string (and object key) of a JSON value in place.
pub fn redact_json(value: &mut Value) {
    if !any() {
        return;
    }
    match value {
        Value::String(text) => {
            if let Cow::Owned(masked) = redact(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                redact_json(&mut item);
                map.insert(redact(&key).into_owned(), item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `command` with every registered secret inside its text parts turned into a
/// [`CommandPart::Secret`]: the command sent is unchanged, the command shown is masked.
pub fn mark_command(command: &StringCommand) -> StringCommand {
    if !any() {
        return command.clone();
    }
    let Ok(texts) = TEXTS.read() else {
        return command.clone();
    };
    StringCommand {
        parts: command.parts.iter().map(|part| mark_part(part, &texts)).collect(),
        separator: command.separator.clone(),
    }
}

fn mark_part(part: &CommandPart, texts: &[String]) -> CommandPart {
    match part {
        CommandPart::Raw(text) => {
            let pieces = split_text(text, texts);
            if pieces.iter().all(|piece| matches!(piece, CommandPart::Raw(_))) {
                part.clone()
            } else {
                // Joined without a separator, so the text sent stays byte for byte the same.
                CommandPart::Nested(StringCommand {
                    parts: pieces,
                    separator: String::new(),
                })
            }
        }
        CommandPart::Quoted(parts) => CommandPart::Quoted(parts.iter().map(|part| mark_part(part, texts)).collect()),
        CommandPart::Nested(nested) => CommandPart::Nested(StringCommand {
            parts: nested.parts.iter().map(|part| mark_part(part, texts)).collect(),
            separator: nested.separator.clone(),
        }),
        CommandPart::Secret(_) => part.clone(),
    }
}

/// Splits `text` at the leftmost (then longest) registered secret, repeatedly.
fn split_text(text: &str, texts: &[String]) -> Vec<CommandPart> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        // `texts` is longest first, so the first text found at the leftmost position is the longest there.
        let found = texts
            .iter()
            .filter_map(|secret| rest.find(secret.as_str()).map(|position| (position, secret)))
            .min_by_key(|(position, _)| *position);
        let Some((position, secret)) = found else {
            break;
        };
        if position > 0 {
            pieces.push(CommandPart::Raw(rest[..position].to_owned()));
        }
        pieces.push(CommandPart::Secret(secret.clone()));
        rest = &rest[position + secret.len()..];
    }
    if !rest.is_empty() {
        pieces.push(CommandPart::Raw(rest.to_owned()));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    // The registry is process-wide: each test registers secrets of its own.

    #[test]
    fn registered_secrets_are_masked_in_text() {
        register("tiger-lily-42");
        assert_eq!(redact("password is tiger-lily-42, again tiger-lily-42"), "password is *MASKED*, again *MASKED*");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn multi_line_secrets_are_masked_line_by_line_and_escaped() {
        register("-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n}\n");
        assert_eq!(redact("+MIIEvQIBADANBgkq\n }"), "+*MASKED*\n }");
        assert_eq!(
            redact(r#"{"content": "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n}\n"}"#),
            r#"{"content": "*MASKED*"}"#
        );
    }

    #[test]
    fn non_ascii_secrets_are_masked_as_python_json_writes_them() {
        register("pässwörd-🔑");
        assert_eq!(redact(r#"{"pw": "p\u00e4ssw\u00f6rd-\ud83d\udd11"}"#), r#"{"pw": "*MASKED*"}"#);
    }

    #[test]
    fn json_values_are_masked_in_place() {
        register("quartz-owl-77");
        let mut value = serde_json::json!({"stdout": ["quartz-owl-77"], "quartz-owl-77": 1, "n": 2});
        redact_json(&mut value);
        assert_eq!(value, serde_json::json!({"stdout": ["*MASKED*"], "*MASKED*": 1, "n": 2}));
    }

    #[test]
    fn secrets_inside_commands_become_secret_parts() {
        register("marble-fox-19");
        let command = StringCommand::raw("echo marble-fox-19 > /tmp/x").quoted("a marble-fox-19 b").text("true");
        let marked = mark_command(&command);
        assert_eq!(marked.raw_value(), command.raw_value());
        assert_eq!(marked.masked_value(), "echo *MASKED* > /tmp/x 'a *MASKED* b' true");
        assert!(marked.has_secret());
    }

    #[test]
    fn a_marked_command_keeps_its_secret_off_the_command_line() {
        register("cobalt-heron-58");
        let command = StringCommand::raw("echo cobalt-heron-58 > /tmp/x");
        let arguments = oxinfra_core::ConnectorArguments::default();
        let wrapped = oxinfra_core::wrap::wrap_for_host(&mark_command(&command), &arguments, None);
        assert!(!wrapped.command.raw_value().contains("cobalt-heron-58"));
        assert!(wrapped.input.iter().any(|line| line.contains("cobalt-heron-58")));
        let unmarked = oxinfra_core::wrap::wrap_for_host(&command, &arguments, None);
        assert!(
            unmarked.command.raw_value().contains("cobalt-heron-58"),
            "without marking the secret is on the command line"
        );
    }

    #[test]
    fn blank_secrets_are_ignored() {
        register("  \n");
        assert_eq!(redact("a  \n b"), "a  \n b");
    }
}
