//! What people read, in pyinfra's layout, on stderr: `-->` headers flush left, other
//! lines indented by four spaces, `[host]` prefixes padded to the longest host name, a
//! blank line before a header unless the previous line was one, and the tables.
//! Colour follows pyinfra's choices and is off when stderr is not a terminal or
//! `NO_COLOR` is set. On a terminal a [`Progress`] line (operation, hosts done of
//! total, elapsed time) stays below the output while an operation runs; it is never
//! drawn when stderr or stdout is not a terminal, or with `PYINFRA_PROGRESS=off`.
//!
//! A quiet printer (embedding programs, see [`Printer::set_quiet`]) shows only warnings
//! and errors, as pyinfra's API shows only what its logger reports at those levels.
//!
//! Every line written here first has the run's known secrets ([`crate::secrets`])
//! replaced by `*MASKED*`: whatever path a password takes into a message, it does not
//! reach the screen or a log.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use console::Style;

/// How a host status line is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Plain text.
    Plain,
    /// Success, connected, ready.
    Good,
    /// No changes.
    Unchanged,
    /// Skipped.
    Skipped,
    /// An ignored error, a warning.
    Warning,
    /// An error.
    Bad,
}

impl Tone {
    fn style(self) -> Style {
        match self {
            Self::Plain => Style::new(),
            Self::Good => Style::new().green(),
            Self::Unchanged => Style::new().cyan(),
            Self::Skipped => Style::new().blue(),
            Self::Warning => Style::new().yellow(),
            Self::Bad => Style::new().red(),
        }
    }
}

/// The printer of the human output. The blank-line rule spans every printer of the
/// process, so the state lives in one place.
#[derive(Debug)]
pub struct Printer {
    colour: bool,
    host_width: usize,
    quiet: AtomicBool,
}

static STATE: Mutex<PrinterState> = Mutex::new(PrinterState {
    last_was_header: false,
    started: false,
});

#[derive(Debug)]
struct PrinterState {
    last_was_header: bool,
    started: bool,
}

impl Printer {
    /// A printer for hosts whose longest name is `host_width` characters.
    pub fn new(host_width: usize) -> Self {
        let colour = console::Term::stderr().features().colors_supported() && std::env::var_os("NO_COLOR").is_none();
        Self {
            colour,
            host_width,
            quiet: AtomicBool::new(false),
        }
    }

    /// Quiet: from now on only warnings and errors ([`Tone::Warning`], [`Tone::Bad`])
    /// are written; headers, tables, diffs and progress lines are not.
    pub fn set_quiet(&self, quiet: bool) {
        self.quiet.store(quiet, Ordering::Relaxed);
    }

    fn shows(&self, tone: Tone) -> bool {
        !self.quiet.load(Ordering::Relaxed) || matches!(tone, Tone::Warning | Tone::Bad)
    }

    fn lock(&self) -> std::sync::MutexGuard<'static, PrinterState> {
        STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn paint(&self, style: &Style, text: &str) -> String {
        if self.colour { style.apply_to(text).to_string() } else { text.to_owned() }
    }

    fn write(&self, line: &str) {
        let line = mask_secrets(line);
        let mut progress = lock_progress();
        let mut stderr = std::io::stderr().lock();
        // Nothing sensible can be done when stderr is gone.
        if let Some(shown) = progress.as_mut().filter(|shown| shown.drawn) {
            let _ = write!(stderr, "\r\x1b[K");
            shown.drawn = false;
        }
        let _ = writeln!(stderr, "{line}");
    }

    /// A `--> text` header, with a blank line before it unless the last line was one.
    pub fn header(&self, text: &str) {
        if !self.shows(Tone::Plain) {
            return;
        }
        let mut state = self.lock();
        if state.started && !state.last_was_header {
            self.write("");
        }
        state.started = true;
        state.last_was_header = true;
        drop(state);
        self.write(&format!("{} {text}", self.paint(&Style::new(), "-->")));
    }

    /// A `--> Starting operation: NAME ARGS` header.
    pub fn operation_header(&self, prefix: &str, name: &str, arguments: &str) {
        if !self.shows(Tone::Plain) {
            return;
        }
        let mut state = self.lock();
        if state.started && !state.last_was_header {
            self.write("");
        }
        state.started = true;
        state.last_was_header = true;
        drop(state);
        let start = self.paint(&Style::new().blue(), &format!("--> {prefix}:"));
        self.write(&format!("{start} {} {arguments}", self.paint(&Style::new().bold(), name)));
    }

    /// An indented line.
    pub fn line(&self, text: &str) {
        self.line_toned(text, Tone::Plain);
    }

    /// An indented, coloured line.
    pub fn line_toned(&self, text: &str, tone: Tone) {
        if !self.shows(tone) {
            return;
        }
        let mut state = self.lock();
        state.started = true;
        state.last_was_header = false;
        drop(state);
        self.write(&format!("    {}", self.paint(&tone.style(), text)));
    }

    /// The `[host] ` prefix, padded to the longest host name.
    pub fn host_prefix(&self, host: &str) -> String {
        let padding = " ".repeat(self.host_width.saturating_sub(host.chars().count()));
        format!("[{}]{padding} ", self.paint(&Style::new().bold(), host))
    }

    /// An indented `[host] text` line.
    pub fn host_line(&self, host: &str, text: &str, tone: Tone) {
        if !self.shows(tone) {
            return;
        }
        let prefix = self.host_prefix(host);
        let mut state = self.lock();
        state.started = true;
        state.last_was_header = false;
        drop(state);
        // Lines after the first (a `hint:`) stay indented under the message.
        let text = text.replace('\n', "\n    ");
        self.write(&format!("    {prefix}{}", self.paint(&tone.style(), &text)));
    }

    /// A line of remote output, `[host] text`, stderr lines in red.
    pub fn host_output(&self, host: &str, text: &str, is_stderr: bool) {
        self.host_echo(host, text, is_stderr);
    }

    /// A `[host] text` line flush left, as pyinfra echoes commands (`-vv`) and their
    /// output (`-vvv`, `exec`); red for standard error.
    pub fn host_echo(&self, host: &str, text: &str, is_stderr: bool) {
        let prefix = self.host_prefix(host);
        let tone = if is_stderr { Tone::Bad } else { Tone::Plain };
        if !self.shows(tone) {
            return;
        }
        let mut state = self.lock();
        state.started = true;
        state.last_was_header = false;
        drop(state);
        self.write(&format!("{prefix}{}", self.paint(&tone.style(), text)));
    }

    /// A unified diff of a file's content, as pyinfra prints it with `--diff`.
    pub fn diff(&self, before: &str, after: &str) {
        let diff = similar::TextDiff::from_lines(before, after);
        for group in diff.grouped_ops(2) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
            let old = first.old_range().start..last.old_range().end;
            let new = first.new_range().start..last.new_range().end;
            self.line(&format!("  @@ -{},{} +{},{} @@", old.start + 1, old.len(), new.start + 1, new.len()));
            for operation in &group {
                for change in diff.iter_changes(operation) {
                    let text = change.value().trim_end_matches('\n');
                    match change.tag() {
                        similar::ChangeTag::Equal => self.line(&format!("    {text}")),
                        similar::ChangeTag::Delete => self.line(&format!("  {}", self.paint(&Style::new().red(), &format!("- {text}")))),
                        similar::ChangeTag::Insert => self.line(&format!("  {}", self.paint(&Style::new().green(), &format!("+ {text}")))),
                    }
                }
            }
        }
        self.line("");
    }

    /// A table in pyinfra's layout: every column padded to its widest cell plus three.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
        for row in rows {
            for (index, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(index) {
                    *width = (*width).max(console::measure_text_width(cell));
                }
            }
        }
        let render = |cells: Vec<String>| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell}{}", " ".repeat(width + 3 - console::measure_text_width(cell))))
                .collect()
        };
        self.line(&render(header.iter().map(|cell| (*cell).to_owned()).collect()));
        for row in rows {
            self.line(&render(row.clone()));
        }
    }
}

/// Routes the `log` records of the connectors (host keys accepted or added, connection
/// retries) to the human output: warnings always, information with `-v`, debugging with
/// `--debug`.
struct OutputLogger {
    level: log::LevelFilter,
}

impl log::Log for OutputLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let tone = match record.level() {
            log::Level::Error => Tone::Bad,
            log::Level::Warn => Tone::Warning,
            _ => Tone::Plain,
        };
        Printer::new(0).line_toned(&record.args().to_string(), tone);
    }

    fn flush(&self) {}
}

/// Installs the logger once per process; later calls only change the level.
pub fn install_logger(verbosity: u8, debug: bool) {
    let level = match (debug, verbosity) {
        (true, _) => log::LevelFilter::Debug,
        (false, 0) => log::LevelFilter::Warn,
        (false, _) => log::LevelFilter::Info,
    };
    // A logger set earlier in this process stays; only the level changes.
    let _ = log::set_boxed_logger(Box::new(OutputLogger {
        level: log::LevelFilter::Trace,
    }));
    log::set_max_level(level);
}

/// Remembers `secret` for the rest of the process (the registry of
/// [`crate::secrets`]): every line the printer, the logger or the JSON stream writes
/// has it replaced by `*MASKED*`.
pub fn add_secret(secret: &str) {
    crate::secrets::register(secret);
}

/// `text` with every known secret replaced by `*MASKED*`.
pub fn mask_secrets(text: &str) -> String {
    crate::secrets::redact(text).into_owned()
}

/// What the progress line shows.
#[derive(Debug)]
struct ProgressLine {
    label: String,
    done: usize,
    total: usize,
    started: Instant,
    frame: usize,
    /// Whether it is on the screen now (and must be cleared before the next line).
    drawn: bool,
}

static PROGRESS: Mutex<Option<ProgressLine>> = Mutex::new(None);

fn lock_progress() -> MutexGuard<'static, Option<ProgressLine>> {
    PROGRESS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The live progress line of a terminal: `    / NAME  2/5 hosts  3.1s`, redrawn every
/// 150 ms by one background thread and cleared before any other line is written.
#[derive(Debug)]
pub struct Progress {
    width: usize,
}

impl Progress {
    /// A progress line when both stderr and stdout are terminals and progress is not
    /// turned off (`PYINFRA_PROGRESS=off`, pyinfra's switch); `None` otherwise.
    pub fn for_terminal() -> Option<Self> {
        let off = std::env::var("PYINFRA_PROGRESS").is_ok_and(|value| value.eq_ignore_ascii_case("off"));
        if off || !std::io::stderr().is_terminal() || !std::io::stdout().is_terminal() {
            return None;
        }
        let width = console::Term::stderr().size_checked().map_or(80, |(_, columns)| usize::from(columns));
        Some(Self { width })
    }

    /// Shows `label` with `total` hosts to go.
    pub fn start(&self, label: &str, total: usize) {
        static TICKER: OnceLock<()> = OnceLock::new();
        *lock_progress() = Some(ProgressLine {
            label: label.to_owned(),
            done: 0,
            total,
            started: Instant::now(),
            frame: 0,
            drawn: false,
        });
        let width = self.width;
        TICKER.get_or_init(|| {
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(150));
                    draw_progress(width);
                }
            });
        });
    }

    /// One more host finished; the line goes away when all have.
    pub fn advance(&self) {
        let mut progress = lock_progress();
        let complete = progress.as_mut().is_some_and(|line| {
            line.done += 1;
            line.done >= line.total
        });
        if complete {
            clear_progress(&mut progress);
        }
    }

    /// Takes the line off the screen.
    pub fn finish(&self) {
        clear_progress(&mut lock_progress());
    }
}

fn clear_progress(progress: &mut MutexGuard<'static, Option<ProgressLine>>) {
    if progress.as_ref().is_some_and(|line| line.drawn) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[K");
        let _ = stderr.flush();
    }
    **progress = None;
}

/// The text of the progress line, cut to `width` columns.
fn progress_text(line: &ProgressLine, width: usize) -> String {
    const FRAMES: [char; 4] = ['-', '/', '|', '\\'];
    let spinner = FRAMES[line.frame % FRAMES.len()];
    let elapsed = line.started.elapsed().as_secs_f64();
    let text = format!("    {spinner} {}  {}/{} hosts  {elapsed:.1}s", line.label, line.done, line.total);
    console::truncate_str(&mask_secrets(&text), width.saturating_sub(1), "...").into_owned()
}

fn draw_progress(width: usize) {
    let mut progress = lock_progress();
    let Some(line) = progress.as_mut() else { return };
    line.frame += 1;
    let text = progress_text(line, width);
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[K{text}");
    let _ = stderr.flush();
    line.drawn = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_lines_have_secrets_masked() {
        add_secret("output-test-password");
        assert_eq!(mask_secrets("use output-test-password now"), "use *MASKED* now");
    }

    #[test]
    fn progress_text_counts_hosts_and_fits_the_width() {
        let line = ProgressLine {
            label: "files.line (path=/etc/motd, line=hello)".to_owned(),
            done: 2,
            total: 5,
            started: Instant::now(),
            frame: 1,
            drawn: false,
        };
        assert!(progress_text(&line, 120).contains("2/5 hosts"));
        assert!(console::measure_text_width(&progress_text(&line, 20)) <= 19);
    }
}
