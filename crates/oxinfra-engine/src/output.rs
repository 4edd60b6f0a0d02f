//! What people read, in pyinfra's layout, on stderr: `-->` headers flush left, other
//! lines indented by four spaces, `[host]` prefixes padded to the longest host name, a
//! blank line before a header unless the previous line was one, and the tables.
//! Colour follows pyinfra's choices and is off when stderr is not a terminal or
//! `NO_COLOR` is set.

use std::io::Write;
use std::sync::Mutex;

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
        Self { colour, host_width }
    }

    fn lock(&self) -> std::sync::MutexGuard<'static, PrinterState> {
        STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn paint(&self, style: &Style, text: &str) -> String {
        if self.colour { style.apply_to(text).to_string() } else { text.to_owned() }
    }

    fn write(&self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        // Nothing sensible can be done when stderr is gone.
        let _ = writeln!(stderr, "{line}");
    }

    /// A `--> text` header, with a blank line before it unless the last line was one.
    pub fn header(&self, text: &str) {
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
        let tone = if is_stderr { Tone::Bad } else { Tone::Plain };
        self.host_line(host, text, tone);
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
