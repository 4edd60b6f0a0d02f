//! Uploads as shell commands: a small file travels inside the operation's one remote
//! command instead of through a file transfer of its own, which saves the round trips of
//! the transfer and of the rename after it.
//!
//! The file is written atomically as every upload is: printed into a temporary file
//! beside the target (readable only by its owner while it is written), given the
//! target's mode and owner (or the mode the umask gives a new file), then renamed over
//! it; a failure removes the temporary file and leaves the target as it was. The content
//! is a [`CommandPart::Secret`](crate::command::CommandPart): shown masked, and kept off
//! the host's process list like every secret.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::command::StringCommand;

/// The largest file sent inside a command; bigger files go through the connector's
/// file transfer.
pub const INLINE_LIMIT: usize = 64 * 1024;

/// How many bytes one `printf` writes, so that no line of the script is very long.
const CHUNK: usize = 4096;

/// The command that writes `content` to `dest` on the host, atomically.
pub fn inline_upload(content: &[u8], dest: &str) -> StringCommand {
    let temporary = format!("{dest}.oxinfra-tmp-{}", unique_suffix());
    let mut script = String::from("{ ");
    for chunk in content.chunks(CHUNK) {
        script.push_str("printf '");
        script.push_str(&printf_format(chunk));
        script.push_str("'; ");
    }
    script.push_str(":; }");
    write_and_install(StringCommand::new().secret(script), &temporary, dest)
}

/// Runs `writer` with its standard output into `temporary` (created readable by its
/// owner only), then [`install`]s it over `dest`; on failure the temporary file goes.
pub fn write_and_install(writer: StringCommand, temporary: &str, dest: &str) -> StringCommand {
    StringCommand::raw("(umask 077 &&")
        .nested(writer)
        .text(">")
        .quoted(temporary.to_owned())
        .text(") || { rm -f")
        .quoted(temporary.to_owned())
        .text("; exit 1; };")
        .nested(install(temporary, dest))
}

/// Gives `temporary` the mode and owner of `dest` (or the umask's mode when there is no
/// `dest` yet), then renames it over `dest`; on failure the temporary file is removed.
pub fn install(temporary: &str, dest: &str) -> StringCommand {
    let temporary = temporary.to_owned();
    let dest = dest.to_owned();
    StringCommand::raw("if [ -e")
        .quoted(dest.clone())
        .text("]; then chmod")
        .quoted(format!("--reference={dest}"))
        .quoted(temporary.clone())
        .text("2>/dev/null || chmod \"$(stat -c %a")
        .quoted(dest.clone())
        .text(")\"")
        .quoted(temporary.clone())
        .text("2>/dev/null; chown")
        .quoted(format!("--reference={dest}"))
        .quoted(temporary.clone())
        .text("2>/dev/null; else chmod \"$(printf %o $((0666 & ~0$(umask))))\"")
        .quoted(temporary.clone())
        .text("; fi; mv -f")
        .quoted(temporary.clone())
        .quoted(dest)
        .text("|| { rm -f")
        .quoted(temporary)
        .text("; exit 1; }")
}

/// `bytes` as a single-quoted `printf` format that prints exactly them: printable ASCII
/// as itself, `%` and `\` escaped, everything else (the quote included) as `\ooo`, and
/// a leading `-` too (`printf` would take the format for an option).
fn printf_format(bytes: &[u8]) -> String {
    let mut format = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b'-' if index == 0 => format.push_str("\\055"),
            b'%' => format.push_str("%%"),
            b'\\' => format.push_str("\\\\"),
            b'\'' => format.push_str("\\047"),
            b' '..=b'~' => format.push(char::from(byte)),
            other => {
                let _ = write!(format, "\\{other:03o}");
            }
        }
    }
    format
}

/// A suffix no other upload of this run uses, and unlikely to be used by another run.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{count}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> std::process::Output {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap_or_else(|error| unreachable!("sh: {error}"))
    }

    #[test]
    fn every_byte_arrives_as_sent() {
        let folder = std::env::temp_dir().join(format!("oxinfra-inline-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap_or_else(|error| unreachable!("{error}"));
        let dest = folder.join("target").to_string_lossy().into_owned();
        let mut content: Vec<u8> = (0..=255u8).cycle().take(3 * CHUNK + 17).collect();
        content.extend_from_slice(b"100% it's \\n not a newline\n");
        // A chunk starting with `-` (an armored key does), where printf looks for options.
        content.splice(0..0, b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n".iter().copied());
        content.splice(CHUNK..CHUNK, b"-x".iter().copied());
        let output = sh(&inline_upload(&content, &dest).raw_value());
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), content);
        let leftovers = std::fs::read_dir(&folder).map(Iterator::count).unwrap_or_default();
        assert_eq!(leftovers, 1, "only the target is left");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[test]
    fn empty_content_makes_an_empty_file_and_the_content_is_masked() {
        let dest = std::env::temp_dir().join(format!("oxinfra-inline-empty-{}", std::process::id()));
        let command = inline_upload(b"", &dest.to_string_lossy());
        assert!(sh(&command.raw_value()).status.success());
        assert_eq!(std::fs::metadata(&dest).map(|metadata| metadata.len()).ok(), Some(0));
        let _ = std::fs::remove_file(&dest);
        assert!(inline_upload(b"password=hunter2", "/etc/app.conf").masked_value().contains("*MASKED*"));
        assert!(!inline_upload(b"password=hunter2", "/etc/app.conf").masked_value().contains("hunter2"));
    }

    #[test]
    fn an_existing_target_keeps_its_mode() {
        let dest = std::env::temp_dir().join(format!("oxinfra-inline-mode-{}", std::process::id()));
        let path = dest.to_string_lossy().into_owned();
        assert!(sh(&format!("printf old > '{path}' && chmod 640 '{path}'")).status.success());
        assert!(sh(&inline_upload(b"new", &path).raw_value()).status.success());
        let mode = sh(&format!("stat -c %a '{path}'"));
        assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "640");
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"new");
        let _ = std::fs::remove_file(&dest);
    }
}
