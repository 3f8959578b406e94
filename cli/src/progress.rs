//! Progress bars that appear only when a command has run for about a second and both stdout
//! and stderr are terminals: a command whose output goes to a file or a pipe is being run by
//! a script, which wants no bar (indicatif's stderr target also hides itself when stderr is
//! not a terminal).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a command runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A byte-counting progress bar, hidden for its first second.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: bool,
}

impl Progress {
    /// A bar for `total` bytes (a spinner when `total` is 0), labelled `what`.
    pub fn new(what: &str, total: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let template = if total == 0 {
            "{spinner} {prefix} {msg} {elapsed}"
        } else {
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg} eta {eta}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_owned());
        Progress {
            bar,
            start: Instant::now(),
            shown: false,
        }
    }

    /// A bar counting `total` rows, labelled `what`.
    pub fn rows(what: &str, total: u64) -> Progress {
        let progress = Progress::new(what, total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} rows {msg} eta {eta}")
        {
            progress.bar.set_style(style.progress_chars("=> "));
        }
        progress
    }

    /// Shows the bar once the command has run long enough.
    fn maybe_show(&mut self) {
        if !self.shown && self.start.elapsed() >= SHOW_AFTER {
            self.shown = true;
            let target = ProgressDrawTarget::stderr();
            if !target.is_hidden() && std::io::stdout().is_terminal() {
                self.bar.set_draw_target(target);
                self.bar.enable_steady_tick(Duration::from_millis(200));
            }
        }
    }

    /// Counts `bytes` more done.
    pub fn inc(&mut self, bytes: u64) {
        self.bar.inc(bytes);
        self.maybe_show();
    }

    /// Says what is being done now.
    pub fn message(&mut self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
        self.maybe_show();
    }

    /// Shows the bar now if the step about to start is long and opaque (a single library
    /// call), so that a spinner runs during it.
    pub fn show_for_long_step(&mut self, expected_bytes: u64) {
        // About 1 GiB/s: a step over 1 GiB takes about a second.
        if expected_bytes >= 1 << 30 {
            self.start = Instant::now() - SHOW_AFTER;
        }
        self.maybe_show();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
