//! Facts of `pyinfra/facts/apk.py`: the installed apk packages (Alpine Linux).

use std::sync::LazyLock;

use oxinfra_core::StringCommand;
use regex::Regex;

use crate::registry::{FactDef, default_dict};
use crate::rpm::parse_packages;

/// `name-version-rREL arch {origin} (licence) [installed]`: the name is everything
/// before the last `-version-rN`.
static APK_LINE: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| Regex::new(r"^(.+)-([^-]+-r[^-]+) \S+ \{\S+\} \(.+?\)"));

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "apk.ApkPackages",
    params: &[],
    command: |_| StringCommand::raw("apk list --installed"),
    requires_command: Some(|_| "apk".to_owned()),
    process: |_, output| parse_packages(&APK_LINE, output),
    default: default_dict,
    shell_executable: None,
}];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn name_keeps_its_own_dashes() {
        let output = vec![
            "py3-cached-property-1.5.2-r5 x86_64 {py3-cached-property} (BSD-3-Clause) [installed]".to_owned(),
            "WARNING: no index".to_owned(),
        ];
        assert_eq!(parse_packages(&APK_LINE, &output).ok(), Some(json!({"py3-cached-property": ["1.5.2-r5"]})));
    }
}
