//! pyinfra's `PkgInfo.from_pep508`: a pip package argument (a PEP 508 requirement such
//! as `flask`, `Flask[async]>=2`, `name @ url`) read into a [`PackageSpec`].
//!
//! The grammar is the requirement's: name, extras, one version specifier list or a URL,
//! environment markers. Markers must be there when a `;` announces them but are not
//! checked further (pyinfra rejects malformed ones, keeping the whole text as the name).

use std::sync::LazyLock;

use regex::Regex;

use crate::packaging::PackageSpec;

type Lazy = LazyLock<Result<Regex, regex::Error>>;

// The name, optional extras, then whatever follows (a URL, specifiers, markers).
static HEAD: Lazy = LazyLock::new(|| Regex::new(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$"));
static SPECIFIER: Lazy = LazyLock::new(|| Regex::new(r"^\s*(===|~=|==|!=|<=|>=|<|>)\s*(\S+?)\s*$"));
// A PEP 440 version: group 1 is its release (`1.2.3`), group 2 its local part (`+ubuntu1`).
static VERSION: Lazy = LazyLock::new(|| {
    Regex::new(
        r"(?i)^v?(?:[0-9]+!)?([0-9]+(?:\.[0-9]+)*)(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?(?:[-_.]?dev[-_.]?[0-9]*)?(\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$",
    )
});

/// A requirement as pyinfra reads it: the name in lower case (PEP 426 compares names so),
/// its one version specifier and its URL. Text that is not a valid requirement, or that
/// has more than one specifier, is kept whole as the name (pyinfra logs a warning for
/// both, and will refuse them in 4.x).
pub fn from_pep508(text: &str) -> PackageSpec {
    let whole = || PackageSpec {
        name: text.to_owned(),
        ..PackageSpec::default()
    };
    let Some(requirement) = Requirement::parse(text) else {
        return whole();
    };
    if requirement.specifiers.len() > 1 {
        return whole();
    }
    let (operator, version) = requirement.specifiers.into_iter().next().unwrap_or_default();
    PackageSpec {
        name: requirement.name.to_lowercase(),
        version,
        operator,
        url: requirement.url,
    }
}

/// The parts of a requirement that pyinfra reads.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    name: String,
    /// `(operator, version)` pairs, distinct, in the order written.
    specifiers: Vec<(String, String)>,
    url: String,
}

impl Requirement {
    /// Parses `text`, `None` when it is not a requirement.
    fn parse(text: &str) -> Option<Self> {
        let head = HEAD.as_ref().ok()?.captures(text)?;
        let name = head.get(1)?.as_str().to_owned();
        let rest = head.get(2).map_or("", |rest| rest.as_str());
        if let Some(url) = rest.strip_prefix('@') {
            let url = url.trim_start();
            // A `;` glued to the URL is part of it: markers need blank space before them.
            let (url, markers) = match url.find(char::is_whitespace) {
                Some(end) => (&url[..end], Some(url[end..].trim_start().strip_prefix(';')?)),
                None => (url, None),
            };
            if url.is_empty() || markers.is_some_and(|markers| markers.trim().is_empty()) {
                return None;
            }
            return Some(Self {
                name,
                specifiers: Vec::new(),
                url: url.to_owned(),
            });
        }
        let (specifiers, markers) = match rest.split_once(';') {
            Some((specifiers, markers)) => (specifiers.trim(), Some(markers)),
            None => (rest, None),
        };
        if markers.is_some_and(|markers| markers.trim().is_empty()) {
            return None;
        }
        let specifiers = match specifiers.strip_prefix('(') {
            Some(inner) => inner.strip_suffix(')')?,
            None => specifiers,
        };
        let mut parsed: Vec<(String, String)> = Vec::new();
        if !specifiers.trim().is_empty() {
            for specifier in specifiers.split(',') {
                let pair = parse_specifier(specifier)?;
                if !parsed.contains(&pair) {
                    parsed.push(pair);
                }
            }
        }
        Some(Self {
            name,
            specifiers: parsed,
            url: String::new(),
        })
    }
}

/// `>=1.0` into `(">=", "1.0")`, checking the version as PEP 440 asks of each operator.
fn parse_specifier(text: &str) -> Option<(String, String)> {
    let captures = SPECIFIER.as_ref().ok()?.captures(text)?;
    let (operator, version) = (captures.get(1)?.as_str(), captures.get(2)?.as_str());
    let valid = match operator {
        // Arbitrary equality: any text.
        "===" => !version.contains([';', ')']),
        // Prefix matching (`1.*`) has no local part; exact matching may have one.
        "==" | "!=" => match version.strip_suffix(".*") {
            Some(prefix) => is_version(prefix, false),
            None => is_version(version, true),
        },
        // Compatible release needs at least two release numbers.
        "~=" => {
            let release = VERSION.as_ref().ok()?.captures(version).and_then(|found| found.get(1));
            is_version(version, false) && release.is_some_and(|release| release.as_str().contains('.'))
        }
        _ => is_version(version, false),
    };
    valid.then(|| (operator.to_owned(), version.to_owned()))
}

fn is_version(text: &str, local_allowed: bool) -> bool {
    let captures = VERSION.as_ref().ok().and_then(|regex| regex.captures(text));
    captures.is_some_and(|captures| local_allowed || captures.get(2).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> [String; 4] {
        let spec = from_pep508(text);
        [spec.name, spec.version, spec.operator, spec.url]
    }

    fn parts(name: &str, version: &str, operator: &str, url: &str) -> [String; 4] {
        [name, version, operator, url].map(str::to_owned)
    }

    // Each expectation was checked against pyinfra 3.10 with packaging 26.
    #[test]
    fn requirements_read_as_pyinfra_reads_them() {
        assert_eq!(read(" foo"), parts("foo", "", "", ""));
        assert_eq!(read("foo==1.0 ; python_version>\"3\""), parts("foo", "1.0", "==", ""));
        assert_eq!(read("Foo[bar,baz] (>=1)"), parts("foo", "1", ">=", ""));
        assert_eq!(read("foo==1.0+local"), parts("foo", "1.0+local", "==", ""));
        assert_eq!(read("foo==1.*"), parts("foo", "1.*", "==", ""));
        assert_eq!(read("foo== 1.0"), parts("foo", "1.0", "==", ""));
        assert_eq!(read("foo==v1.0"), parts("foo", "v1.0", "==", ""));
        assert_eq!(read("foo_bar-1.2==1.0rc1"), parts("foo_bar-1.2", "1.0rc1", "==", ""));
        assert_eq!(read("foo==1.0.post1.dev2"), parts("foo", "1.0.post1.dev2", "==", ""));
        assert_eq!(read("foo[]"), parts("foo", "", "", ""));
        assert_eq!(read("foo@1.0"), parts("foo", "", "", "1.0"));
        assert_eq!(read("foo @ x;y"), parts("foo", "", "", "x;y"));
        assert_eq!(
            read("copier @ git@github.com:copier-org/copier.git@v9.9.0"),
            parts("copier", "", "", "git@github.com:copier-org/copier.git@v9.9.0")
        );
    }

    #[test]
    fn invalid_text_or_several_specifiers_is_the_name() {
        for text in [
            "foo;",
            "foo~=1",
            "foo>=1+local",
            "foo==1.*+x",
            "foo>1.*",
            "foo>=1,>=1.0",
            "foo bar",
            "",
            "foo==",
            "a.",
            "foo===1 2",
            "/tmp/x.whl",
        ] {
            assert_eq!(read(text), parts(text, "", "", ""), "{text:?}");
        }
    }
}
