//! Operations of `pyinfra/operations/brew.py`: Homebrew updates and upgrades, formulae,
//! casks, taps, and `brew trust`. Formulae and casks go through the shared
//! [`ensure_packages`], with versions pinned as `name@version`.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use oxinfra_core::StringCommand;

use crate::packaging::{PackageCommands, PackageList, UrlParts, ensure_packages};
use crate::plan::{OperationError, Plan, parse_arguments};
use crate::registry::OperationDef;

/// The operations of this module, in pyinfra's order.
pub const OPERATIONS: &[OperationDef] = &[
    OperationDef {
        name: "brew.update",
        params: &[],
        plan: |_, plan| update(plan),
    },
    OperationDef {
        name: "brew.upgrade",
        params: &[],
        plan: |_, plan| upgrade(plan),
    },
    OperationDef {
        name: "brew.packages",
        params: &["packages", "present", "latest", "update", "upgrade"],
        plan: |arguments, plan| packages(&parse_arguments("brew.packages", arguments)?, plan),
    },
    OperationDef {
        name: "brew.cask_upgrade",
        params: &[],
        plan: |_, plan| cask_upgrade(plan),
    },
    OperationDef {
        name: "brew.casks",
        params: &["casks", "present", "latest", "upgrade"],
        plan: |arguments, plan| casks(&parse_arguments("brew.casks", arguments)?, plan),
    },
    OperationDef {
        name: "brew.tap",
        params: &["src", "present", "trusted", "url"],
        plan: |arguments, plan| tap(&parse_arguments("brew.tap", arguments)?, plan),
    },
    TRUST,
];

/// `brew.trust`.
pub const TRUST: OperationDef = OperationDef {
    name: "brew.trust",
    params: &["items", "kind", "trusted"],
    plan: |arguments, plan| trust(&parse_arguments("brew.trust", arguments)?, plan),
};

fn yes() -> bool {
    true
}

/// `brew.update`: refreshes Homebrew and its taps.
pub fn update(plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push_raw("brew update");
    Ok(())
}

/// `brew.upgrade`: upgrades every outdated formula.
pub fn upgrade(plan: &mut Plan<'_>) -> Result<(), OperationError> {
    plan.push_raw("brew upgrade");
    Ok(())
}

/// Arguments of `brew.packages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesArgs {
    /// The formulae: one or a list, each optionally pinned as `name@version`.
    #[serde(default)]
    pub packages: Option<PackageList>,
    /// Whether they should be installed (else uninstalled).
    #[serde(default = "yes")]
    pub present: bool,
    /// Also upgrade the installed ones that are not pinned to a version.
    #[serde(default)]
    pub latest: bool,
    /// Run `brew update` first.
    #[serde(default)]
    pub update: bool,
    /// Run `brew upgrade` first.
    #[serde(default)]
    pub upgrade: bool,
}

/// `brew.packages`: installs, uninstalls or upgrades formulae.
pub fn packages(args: &PackagesArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if args.update {
        update(plan)?;
    }
    if args.upgrade {
        upgrade(plan)?;
    }
    let installed = plan.fact("brew.BrewPackages", &[])?;
    let commands = PackageCommands {
        install: StringCommand::raw("brew install"),
        uninstall: StringCommand::raw("brew uninstall"),
        upgrade: Some(StringCommand::raw("brew upgrade")),
        latest: args.latest,
        version_join: Some("@"),
        ..PackageCommands::default()
    };
    ensure_packages(plan, args.packages.as_ref(), &installed, Some(args.present), &commands)
}

/// Whether Homebrew is 2.6 or later, whose casks are `brew install --cask` rather than
/// `brew cask install`.
fn new_cask_cli(plan: &mut Plan<'_>) -> Result<bool, OperationError> {
    let version = plan.fact("brew.BrewVersion", &[])?;
    let part = |index: usize| version.get(index).and_then(Value::as_i64).unwrap_or_default();
    Ok(part(0) >= 3 || (part(0) >= 2 && part(1) >= 6))
}

/// `brew <verb> --cask` or `brew cask <verb>`, as this Homebrew wants it.
fn cask_command(new_cli: bool, verb: &str) -> String {
    if new_cli {
        format!("brew {verb} --cask")
    } else {
        format!("brew cask {verb}")
    }
}

/// `brew.cask_upgrade`: upgrades every outdated cask.
pub fn cask_upgrade(plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let new_cli = new_cask_cli(plan)?;
    plan.push_raw(cask_command(new_cli, "upgrade"));
    Ok(())
}

/// Arguments of `brew.casks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasksArgs {
    /// The casks: one or a list, each optionally pinned as `name@version`.
    #[serde(default)]
    pub casks: Option<PackageList>,
    /// Whether they should be installed (else uninstalled).
    #[serde(default = "yes")]
    pub present: bool,
    /// Also upgrade the installed ones that are not pinned to a version.
    #[serde(default)]
    pub latest: bool,
    /// Upgrade every outdated cask first.
    #[serde(default)]
    pub upgrade: bool,
}

/// `brew.casks`: installs, uninstalls or upgrades casks.
pub fn casks(args: &CasksArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    if args.upgrade {
        cask_upgrade(plan)?;
    }
    let new_cli = new_cask_cli(plan)?;
    let installed = plan.fact("brew.BrewCasks", &[])?;
    let commands = PackageCommands {
        install: StringCommand::raw(cask_command(new_cli, "install")),
        uninstall: StringCommand::raw(cask_command(new_cli, "uninstall")),
        upgrade: Some(StringCommand::raw(cask_command(new_cli, "upgrade"))),
        latest: args.latest,
        version_join: Some("@"),
        ..PackageCommands::default()
    };
    ensure_packages(plan, args.casks.as_ref(), &installed, Some(args.present), &commands)
}

/// Arguments of `brew.tap`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TapArgs {
    /// The tap as `user/repository`; taken from `url`'s path when not given.
    #[serde(default)]
    pub src: Option<String>,
    /// Whether the tap should be there.
    #[serde(default = "yes")]
    pub present: bool,
    /// Whether the tap should be trusted (`None` counts as not trusted).
    #[serde(default)]
    pub trusted: Option<bool>,
    /// Where to clone the tap from, for taps outside GitHub's `homebrew-` naming.
    #[serde(default)]
    pub url: Option<String>,
}

/// `brew trust --tap` or `brew untrust --tap`.
fn trust_tap(tap: &str, trusted: bool) -> StringCommand {
    StringCommand::raw("brew")
        .text(if trusted { "trust" } else { "untrust" })
        .text("--tap")
        .quoted(tap)
}

/// `brew.tap`: adds or removes a tap, and trusts or distrusts it.
pub fn tap(args: &TapArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let trusted = args.trusted.unwrap_or(false);
    let src = match (
        args.src.as_deref().filter(|src| !src.is_empty()),
        args.url.as_deref().filter(|url| !url.is_empty()),
    ) {
        (Some(src), _) => src.to_owned(),
        (None, Some(url)) => UrlParts::parse(url).path.trim_matches('/').to_owned(),
        (None, None) => {
            plan.noop("no tap was specified");
            return Ok(());
        }
    };
    if src.split('/').count() != 2 {
        plan.noop(format!("src '{src}' doesn't have two components."));
        return Ok(());
    }
    let taps = plan.fact("brew.BrewTaps", &[])?;
    let tapped = taps.as_array().is_some_and(|taps| taps.iter().any(|tap| tap.as_str() == Some(src.as_str())));
    if args.present && tapped {
        plan.noop(format!("tap {src} already exists"));
        let trusted_taps = plan.fact("brew.BrewTrusted", &[])?;
        let is_trusted = trusted_taps
            .get("taps")
            .and_then(Value::as_array)
            .is_some_and(|taps| taps.iter().any(|tap| tap.as_str() == Some(src.as_str())));
        if trusted != is_trusted {
            plan.push(trust_tap(&src, trusted));
        }
        return Ok(());
    }
    if tapped {
        plan.push(StringCommand::raw("brew").text("untap").quoted(&src));
        return Ok(());
    }
    if !args.present {
        plan.noop(format!("tap {src} does not exist"));
        return Ok(());
    }
    let mut command = StringCommand::raw("brew").text("tap").quoted(&src);
    if let Some(url) = &args.url {
        command = command.quoted(url);
    }
    plan.push(command);
    // A tap added now cannot be trusted yet.
    if trusted {
        plan.push(trust_tap(&src, true));
    }
    Ok(())
}

/// What `brew trust` tracks (pyinfra's `BrewItemKind`, by value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustKind {
    /// Casks (`--cask`).
    Casks,
    /// External commands (`--command`).
    Commands,
    /// Formulae (`--formula`).
    Formulae,
    /// Taps (`--tap`).
    Taps,
}

impl TrustKind {
    /// The kind's name in `brew trust --json` and in messages.
    fn name(self) -> &'static str {
        match self {
            Self::Casks => "casks",
            Self::Commands => "commands",
            Self::Formulae => "formulae",
            Self::Taps => "taps",
        }
    }

    /// The `brew trust` option for one item of this kind.
    fn option(self) -> &'static str {
        match self {
            Self::Casks => "--cask",
            Self::Commands => "--command",
            Self::Formulae => "--formula",
            Self::Taps => "--tap",
        }
    }
}

/// Arguments of `brew.trust`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustArgs {
    /// The items: one name or a list.
    #[serde(deserialize_with = "names")]
    pub items: Vec<String>,
    /// Whether they are casks, commands, formulae or taps.
    pub kind: TrustKind,
    /// Whether they should be trusted (else untrusted); there is no default.
    pub trusted: bool,
}

/// `brew.trust`: trusts or untrusts the items that are not as wanted yet.
pub fn trust(args: &TrustArgs, plan: &mut Plan<'_>) -> Result<(), OperationError> {
    let items: BTreeSet<&str> = args.items.iter().map(String::as_str).collect();
    if items.contains("") {
        return Err(OperationError::Value("all items must have non-zero length names".to_owned()));
    }
    let verb = if args.trusted { "trust" } else { "untrust" };
    let trusted_items = plan.fact("brew.BrewTrusted", &[])?;
    let trusted: BTreeSet<&str> = trusted_items
        .get(args.kind.name())
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (change, already): (Vec<&str>, Vec<&str>) = items.iter().partition(|item| trusted.contains(*item) != args.trusted);
    for item in change {
        plan.push(StringCommand::raw("brew").text(verb).text(args.kind.option()).quoted(item));
    }
    if !already.is_empty() {
        plan.noop(format!("{} {} already {verb}ed", already.join(", "), args.kind.name()));
    }
    Ok(())
}

/// Reads one name or a list of names.
fn names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Names::deserialize(deserializer)? {
        Names::One(name) => vec![name],
        Names::Many(names) => names,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::files::lines::test_support::{TableFacts, run};

    fn plan_packages(arguments: &Value, installed: Value) -> Result<(Vec<String>, Option<String>), OperationError> {
        run(packages, arguments, &mut TableFacts::default().with("brew.BrewPackages", &[], installed))
    }

    #[test]
    fn pinned_version_is_installed_when_another_is_there() -> Result<(), OperationError> {
        let (commands, _) = plan_packages(&json!({"packages": ["node@20"]}), json!({"node": ["18"]}))?;
        assert_eq!(commands, ["brew install node@20"]);
        Ok(())
    }

    #[test]
    fn installed_package_is_a_noop_naming_its_versions() -> Result<(), OperationError> {
        let (commands, noop) = plan_packages(&json!({"packages": "node"}), json!({"node": ["20", "18"]}))?;
        assert!(commands.is_empty());
        assert_eq!(noop.as_deref(), Some("package node is installed (18,20)"));
        Ok(())
    }

    #[test]
    fn latest_upgrades_installed_unpinned_packages() -> Result<(), OperationError> {
        let (commands, _) = plan_packages(
            &json!({"packages": ["node", "jq@1.7", "git"], "latest": true}),
            json!({"node": ["20"], "jq": ["1.7"]}),
        )?;
        assert_eq!(commands, ["brew install git", "brew upgrade node"]);
        Ok(())
    }

    #[test]
    fn tap_from_url_takes_the_path() -> Result<(), OperationError> {
        let mut facts = TableFacts::default().with("brew.BrewTaps", &[], json!([]));
        let (commands, _) = run(tap, &json!({"url": "https://github.com/kptdev/kpt?x=1#top"}), &mut facts)?;
        assert_eq!(commands, ["brew tap kptdev/kpt 'https://github.com/kptdev/kpt?x=1#top'"]);
        Ok(())
    }

    #[test]
    fn trusted_tap_is_untrusted_when_not_wanted() -> Result<(), OperationError> {
        let mut facts = TableFacts::default()
            .with("brew.BrewTaps", &[], json!(["a/b"]))
            .with("brew.BrewTrusted", &[], json!({"taps": ["a/b"]}));
        let (commands, noop) = run(tap, &json!({"src": "a/b"}), &mut facts)?;
        assert_eq!(commands, ["brew untrust --tap a/b"]);
        assert_eq!(noop.as_deref(), Some("tap a/b already exists"));
        Ok(())
    }

    #[test]
    fn trust_of_an_empty_name_is_a_value_error() {
        let mut facts = TableFacts::default();
        let arguments = json!({"items": ["a", ""], "kind": "taps", "trusted": true});
        let result = run(trust, &arguments, &mut facts);
        assert_eq!(result, Err(OperationError::Value("all items must have non-zero length names".to_owned())));
    }

    #[test]
    fn trust_of_an_unknown_kind_is_a_type_error() {
        let mut facts = TableFacts::default();
        let result = run(trust, &json!({"items": "x", "kind": "bottles", "trusted": true}), &mut facts);
        assert!(matches!(result, Err(OperationError::Type(_))));
    }
}
