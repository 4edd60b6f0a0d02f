//! Runs pyinfra's own fixtures (from `../shared/pyinfra-fixtures`, or `$OXINFRA_FIXTURES`)
//! through the registries; every implemented group must pass at least 95% of its cases.

use std::path::PathBuf;

use oxinfra_engine::fixtures::{Outcome, group_counts, run_directory};

fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("OXINFRA_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pyinfra-fixtures"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

#[test]
fn implemented_groups_pass_pyinfra_fixtures() {
    let Some(dir) = fixtures_dir() else {
        eprintln!("skipped: no pyinfra fixtures at ../shared/pyinfra-fixtures (set OXINFRA_FIXTURES)");
        return;
    };
    let results = run_directory(&dir).expect("fixtures are readable");
    for result in &results {
        if let Outcome::Failed(message) = &result.outcome {
            eprintln!("FAIL {}\n{message}\n", result.path.display());
        }
    }
    let mut below = Vec::new();
    for (group, passed, failed) in group_counts(&results) {
        eprintln!("{group}: {passed}/{}", passed + failed);
        if passed * 100 < 95 * (passed + failed) {
            below.push(format!("{group} {passed}/{}", passed + failed));
        }
    }
    assert!(below.is_empty(), "groups below 95%: {below:?}");
}
