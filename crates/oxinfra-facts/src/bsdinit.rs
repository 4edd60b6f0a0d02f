//! Facts of `pyinfra/facts/bsdinit.py`: `RcdStatus`, the status of every script in
//! `/etc/rc.d` and `/usr/local/etc/rc.d`. As in pyinfra, it is `sysvinit.InitdStatus`
//! with another command: the output is read the same way.

use oxinfra_core::StringCommand;

use crate::registry::FactDef;
use crate::sysvinit;

/// Runs `status` (or OpenBSD's `check`) of every script and prints `name=exit code`.
/// The text, blank lines and indentation included, is pyinfra's.
const RCD_STATUS_SCRIPT: &str = r#"
            for SERVICE in `find /etc/rc.d /usr/local/etc/rc.d -type f`; do
                $SERVICE status 2> /dev/null || $SERVICE check 2> /dev/null
                echo "`basename $SERVICE`=$?"
            done
        "#;

/// `sysvinit.InitdStatus`, whose parser and default `RcdStatus` keeps.
const INITD_STATUS: FactDef = sysvinit::FACTS[0];

/// The facts of this module.
pub const FACTS: &[FactDef] = &[FactDef {
    name: "bsdinit.RcdStatus",
    command: |_| StringCommand::raw(RCD_STATUS_SCRIPT),
    ..INITD_STATUS
}];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    #[test]
    fn status_is_read_as_initd_status_is() {
        assert_eq!(INITD_STATUS.name, "sysvinit.InitdStatus");
        let output: Vec<String> = ["sshd=0", "ntpd=1", "x=9"].map(str::to_owned).into();
        assert_eq!((FACTS[0].process)(&Map::new(), &output), Ok(json!({"sshd": true, "ntpd": false, "x": null})));
    }
}
