//! What the `sed` and `awk` edits of `files.replace`, `files.block` and
//! `crontab.crontab` will do to a file, worked out on the controller from the file's
//! current lines, for `--diff`. Nothing here builds commands; the commands are built
//! beside their operations, and each function here follows one of them.
//!
//! POSIX regular expressions (basic for `sed`, extended for `sed -E` and `awk`) are
//! translated into the `regex` crate's syntax. What cannot be translated faithfully
//! (back-references, case conversion in replacements, collating elements) gives `None`,
//! and the operation then shows no diff rather than a wrong one. One difference is
//! accepted: POSIX alternation takes the longest match, `regex` the first alternative
//! that matches.

use regex::{Captures, Regex};

/// A POSIX regular expression as a `regex`, matched against one line at a time.
pub(crate) fn posix_regex(pattern: &str, extended: bool, ignore_case: bool) -> Option<Regex> {
    let translated = translate(pattern, extended)?;
    let prefix = if ignore_case { "(?i)" } else { "" };
    Regex::new(&format!("{prefix}{translated}")).ok()
}

/// An `awk` `/pattern/` (an extended expression).
pub(crate) fn awk_regex(pattern: &str) -> Option<Regex> {
    posix_regex(pattern, true, false)
}

/// The `regex` syntax for a POSIX expression, as it stands between the slashes of a
/// `sed` or `awk` command (so an unescaped `/` ends it, and gives `None`).
fn translate(pattern: &str, extended: bool) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut translated = String::with_capacity(pattern.len() + 8);
    // Where a basic expression reads `*` as a literal and `^` as an anchor: at its start
    // and right after `\(`, `\|` or an anchoring `^`.
    let mut at_start = true;
    let mut index = 0;
    while index < chars.len() {
        let character = chars[index];
        let starting = std::mem::replace(&mut at_start, false);
        index += 1;
        match character {
            '\\' => {
                let escaped = *chars.get(index)?;
                index += 1;
                match escaped {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => {
                        translated.push(escaped);
                        at_start = matches!(escaped, '(' | '|');
                    }
                    'n' => translated.push_str("\\n"),
                    't' => translated.push_str("\\t"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        translated.push('\\');
                        translated.push(escaped);
                    }
                    '<' => translated.push_str(r"\b{start}"),
                    '>' => translated.push_str(r"\b{end}"),
                    '`' => translated.push_str(r"\A"),
                    '\'' => translated.push_str(r"\z"),
                    // Back-references and escapes `regex` reads differently.
                    other if other.is_alphanumeric() => return None,
                    other => translated.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
                }
            }
            '[' => {
                let (class, end) = bracket(&chars, index)?;
                translated.push_str(&class);
                index = end;
            }
            '*' if starting => translated.push_str(r"\*"),
            '^' if extended || starting => {
                translated.push('^');
                at_start = true;
            }
            '$' if extended || ends_expression(&chars[index..]) => translated.push('$'),
            '^' | '$' => {
                translated.push('\\');
                translated.push(character);
            }
            '(' | ')' | '{' | '}' | '|' | '+' | '?' if !extended => {
                translated.push('\\');
                translated.push(character);
            }
            '(' | '|' => {
                translated.push(character);
                at_start = true;
            }
            '/' => return None,
            other => translated.push(other),
        }
    }
    Some(translated)
}

/// Whether a basic expression's `$` followed by `rest` is an anchor: at the end, or
/// before `\)` or `\|`.
fn ends_expression(rest: &[char]) -> bool {
    matches!(rest, [] | ['\\', ')' | '|', ..])
}

/// A bracket expression whose members start at `start` (after the `[`): its `regex`
/// form and the index after its closing `]`.
fn bracket(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut class = String::from("[");
    let mut index = start;
    if chars.get(index) == Some(&'^') {
        class.push('^');
        index += 1;
    }
    let first = index;
    loop {
        let character = *chars.get(index)?;
        match character {
            ']' if index > first => return Some((class + "]", index + 1)),
            '[' if chars.get(index + 1) == Some(&':') => {
                let rest: String = chars[index + 2..].iter().collect();
                let name = &rest[..rest.find(":]")?];
                class.push_str("[:");
                class.push_str(name);
                class.push_str(":]");
                index += name.chars().count() + 4;
                continue;
            }
            '[' if matches!(chars.get(index + 1), Some('=' | '.')) => return None,
            '\\' => {
                // GNU reads these escapes inside brackets; POSIX reads a backslash
                // literally. Only the readings both agree on are translated.
                match chars.get(index + 1)? {
                    'n' => class.push_str("\\n"),
                    't' => class.push_str("\\t"),
                    '\\' => class.push_str("\\\\"),
                    _ => return None,
                }
                index += 2;
                continue;
            }
            '-' if index > first && chars.get(index + 1) != Some(&']') => class.push('-'),
            other if other.is_ascii_punctuation() && !matches!(other, '<' | '>') => {
                class.push('\\');
                class.push(other);
            }
            other => class.push(other),
        }
        index += 1;
    }
}

/// One piece of a `sed` replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text written as is.
    Text(String),
    /// What a group matched (`&` and `\0` are the whole match).
    Group(usize),
}

/// A `sed` `s/pattern/replacement/flags` command.
#[derive(Debug, Clone)]
pub(crate) struct Substitution {
    regex: Regex,
    replacement: Vec<Piece>,
    /// Which match to replace (the `N` flag), counting from 1.
    occurrence: usize,
    /// Whether every match from `occurrence` on is replaced (the `g` flag).
    global: bool,
}

impl Substitution {
    /// The substitution an operation writes into its `sed` script from `pattern` and
    /// `replacement` (escaping `/` in both and `&` in the replacement, as the command
    /// builders do), with `sed` flags (`g`, `i`/`I`, a number).
    pub(crate) fn new(pattern: &str, replacement: &str, flags: &str, extended: bool) -> Option<Self> {
        let mut global = false;
        let mut ignore_case = false;
        let mut number = String::new();
        for flag in flags.chars() {
            match flag {
                'g' => global = true,
                'i' | 'I' => ignore_case = true,
                digit if digit.is_ascii_digit() => number.push(digit),
                _ => return None,
            }
        }
        let occurrence = if number.is_empty() {
            1
        } else {
            number.parse().ok().filter(|number| *number > 0)?
        };
        let regex = posix_regex(&pattern.replace('/', "\\/"), extended, ignore_case)?;
        let replacement = replacement_pieces(&replacement.replace('/', "\\/").replace('&', "\\&"))?;
        let groups = regex.captures_len();
        if replacement.iter().any(|piece| matches!(piece, Piece::Group(group) if *group >= groups)) {
            return None;
        }
        Some(Self {
            regex,
            replacement,
            occurrence,
            global,
        })
    }

    /// `line` after the substitution; a `\n` in the replacement starts a new line.
    pub(crate) fn apply(&self, line: &str) -> String {
        let mut result = String::with_capacity(line.len());
        let mut copied = 0;
        for (count, captures) in self.regex.captures_iter(line).enumerate().map(|(index, captures)| (index + 1, captures)) {
            if count < self.occurrence {
                continue;
            }
            let Some(whole) = captures.get(0) else { continue };
            result.push_str(&line[copied..whole.start()]);
            self.expand(&captures, &mut result);
            copied = whole.end();
            if !self.global {
                break;
            }
        }
        result.push_str(&line[copied..]);
        result
    }

    fn expand(&self, captures: &Captures<'_>, into: &mut String) {
        for piece in &self.replacement {
            match piece {
                Piece::Text(text) => into.push_str(text),
                Piece::Group(group) => into.push_str(captures.get(*group).map_or("", |found| found.as_str())),
            }
        }
    }
}

/// A replacement as `sed` reads it: `&` and `\N` name what was matched, `\n` and `\t`
/// are a newline and a tab, any other escaped sign is itself.
fn replacement_pieces(replacement: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut characters = replacement.chars();
    while let Some(character) = characters.next() {
        let group = match character {
            '&' => Some(0),
            '/' => return None,
            '\\' => match characters.next()? {
                digit @ '0'..='9' => digit.to_digit(10).and_then(|digit| usize::try_from(digit).ok()),
                'n' => {
                    text.push('\n');
                    None
                }
                't' => {
                    text.push('\t');
                    None
                }
                // Case conversion (`\U`, `\l`, ...) and GNU's other escapes.
                other if other.is_alphanumeric() => return None,
                other => {
                    text.push(other);
                    None
                }
            },
            other => {
                text.push(other);
                None
            }
        };
        if let Some(group) = group {
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Group(group));
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

/// The lines as one text, each ending with a newline.
pub(crate) fn joined(lines: &[String]) -> String {
    lines.iter().flat_map(|line| [line.as_str(), "\n"]).collect()
}

/// `sed 's/.../.../'` over every line.
pub(crate) fn substituted(lines: &[String], substitution: &Substitution) -> Vec<String> {
    lines.iter().map(|line| substitution.apply(line)).collect()
}

/// `sed '/.../d'`: the lines that do not match.
pub(crate) fn deleted(lines: &[String], regex: &Regex) -> Vec<String> {
    lines.iter().filter(|line| !regex.is_match(line)).cloned().collect()
}

/// Lines of text `awk` prints with `print x`.
fn printed(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('\n').map(str::to_owned)
}

/// `awk '{print}' FILE -` (or `- FILE` when `before`): the block before or after
/// every line of the file.
pub(crate) fn block_at_edge(lines: &[String], with_markers: &str, before: bool) -> Vec<String> {
    let block = printed(with_markers);
    if before {
        block.chain(lines.iter().cloned()).collect()
    } else {
        lines.iter().cloned().chain(block).collect()
    }
}

/// The `awk` program that puts the block before or after the first line matching
/// `line` (at the end when none matches).
pub(crate) fn block_at_line(lines: &[String], line: &Regex, with_markers: &str, before: bool) -> Vec<String> {
    let mut result = Vec::with_capacity(lines.len() + 3);
    let mut placed = false;
    for current in lines {
        if !before {
            result.push(current.clone());
        }
        if !placed && line.is_match(current) {
            result.extend(printed(with_markers));
            placed = true;
        }
        if before {
            result.push(current.clone());
        }
    }
    if !placed {
        result.extend(printed(with_markers));
    }
    result
}

/// The `awk` program that keeps each marker line, writes `content` after the opening
/// one and drops what was between them.
pub(crate) fn block_replaced(lines: &[String], begin: &Regex, end: &Regex, content: &str) -> Vec<String> {
    let mut result = Vec::with_capacity(lines.len());
    let mut keep = true;
    for current in lines {
        if begin.is_match(current) {
            result.push(current.clone());
            result.extend(printed(content));
            keep = false;
        }
        if end.is_match(current) {
            result.push(current.clone());
            keep = true;
            continue;
        }
        if keep {
            result.push(current.clone());
        }
    }
    result
}

/// `awk '/begin/,/end/ {next} 1'`: the lines outside each range from a line matching
/// `begin` to the next matching `end` (which may be the same line).
pub(crate) fn block_removed(lines: &[String], begin: &Regex, end: &Regex) -> Vec<String> {
    let mut result = Vec::with_capacity(lines.len());
    let mut inside = false;
    for current in lines {
        if !inside && begin.is_match(current) {
            inside = true;
        }
        if inside {
            if end.is_match(current) {
                inside = false;
            }
            continue;
        }
        result.push(current.clone());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| (*line).to_owned()).collect()
    }

    fn substitute(pattern: &str, replacement: &str, flags: &str, extended: bool, line: &str) -> Option<String> {
        Substitution::new(pattern, replacement, flags, extended).map(|substitution| substitution.apply(line))
    }

    #[test]
    fn basic_expressions_read_groups_and_intervals_escaped() {
        assert_eq!(translate(r"\(ab\)\{2\}x+y?", false).as_deref(), Some(r"(ab){2}x\+y\?"));
        assert_eq!(translate("(ab){2}x+", true).as_deref(), Some("(ab){2}x+"));
    }

    #[test]
    fn basic_anchors_and_stars_are_literal_in_the_middle() {
        assert_eq!(translate("*a^b$c$", false).as_deref(), Some(r"\*a\^b\$c$"));
        assert_eq!(translate(r"^*\(^a$\)", false).as_deref(), Some(r"^\*(^a$)"));
    }

    #[test]
    fn brackets_keep_ranges_and_classes_and_escape_the_rest() {
        assert_eq!(translate("[^]a-z[:digit:]&-]", false).as_deref(), Some(r"[^\]a-z[:digit:]\&\-]"));
        assert_eq!(translate("[[.a.]]", false), None);
    }

    #[test]
    fn back_references_and_bare_slashes_are_not_translated() {
        assert_eq!(translate(r"\(a\)\1", false), None);
        assert_eq!(translate("a/b", false), None);
        assert_eq!(translate(r"a\/b\.", false).as_deref(), Some(r"a/b\."));
    }

    #[test]
    fn substitution_replaces_the_first_match_unless_global() {
        assert_eq!(substitute("o", "0", "", false, "foo boo").as_deref(), Some("f0o boo"));
        assert_eq!(substitute("o", "0", "g", false, "foo boo").as_deref(), Some("f00 b00"));
        assert_eq!(substitute("o", "0", "3g", false, "foo boo").as_deref(), Some("foo b00"));
        assert_eq!(substitute("O", "0", "I", false, "foo").as_deref(), Some("f0o"));
        assert_eq!(substitute("o", "0", "e", false, "foo"), None);
    }

    #[test]
    fn substitution_writes_ampersands_and_slashes_literally_and_groups_by_number() {
        assert_eq!(substitute("a/b", "x&y/z", "", false, "1a/b2").as_deref(), Some("1x&y/z2"));
        assert_eq!(substitute(r"\([a-z]*\)=\(.*\)", r"\2=\1", "", false, "key=1").as_deref(), Some("1=key"));
        assert_eq!(substitute("(k)", r"[\1]\n", "", true, "k").as_deref(), Some("[k]\n"));
        assert_eq!(substitute("k", r"\1", "", false, "k"), None);
        assert_eq!(substitute("k", r"\U&", "", false, "k"), None);
    }

    #[test]
    fn block_goes_after_the_first_matching_line_or_at_the_end() -> Result<(), regex::Error> {
        let file = lines(&["a", "b", "b"]);
        let line = Regex::new("^b$")?;
        assert_eq!(block_at_line(&file, &line, "B\nE", false), lines(&["a", "b", "B", "E", "b"]));
        assert_eq!(block_at_line(&file, &line, "B\nE", true), lines(&["a", "B", "E", "b", "b"]));
        assert_eq!(block_at_line(&file, &Regex::new("z")?, "B\nE", true), lines(&["a", "b", "b", "B", "E"]));
        assert_eq!(block_at_edge(&file, "B\nE", true), lines(&["B", "E", "a", "b", "b"]));
        Ok(())
    }

    #[test]
    fn block_content_is_replaced_between_its_markers_and_removed_with_them() -> Result<(), regex::Error> {
        let file = lines(&["a", "# BEGIN", "old", "# END", "z"]);
        let (begin, end) = (Regex::new("# BEGIN")?, Regex::new("# END")?);
        assert_eq!(
            block_replaced(&file, &begin, &end, "new\nnewer"),
            lines(&["a", "# BEGIN", "new", "newer", "# END", "z"])
        );
        assert_eq!(block_removed(&file, &begin, &end), lines(&["a", "z"]));
        Ok(())
    }
}
