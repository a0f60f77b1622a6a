//! The progress of a long command (`import`, `export`, `run --all-pages`) on stderr: one line
//! redrawn in place on a terminal, and a plain line every [`LOG_EVERY`] otherwise, so a log
//! shows the job moving without a line per row. The counts, the rate and, when the total is
//! known, the time left.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// How often the terminal line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
/// How often a plain line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// One command's progress line.
pub(crate) struct Meter {
    verb: &'static str,
    unit: &'static str,
    total: Option<u64>,
    started: Instant,
    last: Instant,
    terminal: bool,
    drawn: bool,
}

impl Meter {
    /// A meter for `total` `unit`s (when known) of work called `verb` (`import`, `export`).
    pub(crate) fn new(verb: &'static str, unit: &'static str, total: Option<u64>) -> Meter {
        let now = Instant::now();
        Meter {
            verb,
            unit,
            total,
            started: now,
            last: now,
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// `done` units are finished: redraws the line if it is time to.
    pub(crate) fn update(&mut self, done: u64) {
        let now = Instant::now();
        let every = if self.terminal { REDRAW } else { LOG_EVERY };
        if now.duration_since(self.last) < every {
            return;
        }
        self.last = now;
        let line = self.line(done, now.duration_since(self.started));
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Writes `text` as a line of its own on stderr, above the progress line on a terminal
    /// (which the next update draws again).
    pub(crate) fn note(&mut self, text: &str) {
        if self.terminal && self.drawn {
            eprintln!("\r\x1b[2K{text}");
            self.drawn = false;
        } else {
            eprintln!("{text}");
        }
    }

    /// The work ended at `done`: the terminal line is drawn a last time and ended, so what
    /// follows starts on a line of its own.
    pub(crate) fn finish(&mut self, done: u64) {
        if self.terminal && self.drawn {
            let line = self.line(done, self.started.elapsed());
            eprintln!("\r\x1b[2K{line}");
            self.drawn = false;
        }
    }

    /// `import: 1200/10000 rows, 240/s, about 36 s left`.
    fn line(&self, done: u64, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        let mut line = match self.total {
            Some(total) => format!("{}: {done}/{total} {}", self.verb, self.unit),
            None => format!("{}: {done} {}", self.verb, self.unit),
        };
        line.push_str(&format!(", {rate:.0}/s"));
        if let Some(total) = self.total
            && rate > 0.0
            && done < total
        {
            let left = (total - done) as f64 / rate;
            line.push_str(&format!(", about {} left", short(left)));
        }
        line
    }
}

/// `42 s`, `3 min 5 s`, `2 h 10 min`.
fn short(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(total: Option<u64>) -> Meter {
        let mut m = Meter::new("import", "rows", total);
        m.terminal = false;
        m
    }

    #[test]
    fn the_line_says_counts_rate_and_time_left() {
        let m = meter(Some(10_000));
        assert_eq!(
            m.line(1_200, Duration::from_secs(5)),
            "import: 1200/10000 rows, 240/s, about 37 s left"
        );
        assert_eq!(
            m.line(10_000, Duration::from_secs(40)),
            "import: 10000/10000 rows, 250/s"
        );
        assert_eq!(m.line(0, Duration::ZERO), "import: 0/10000 rows, 0/s");
    }

    #[test]
    fn without_a_total_there_is_no_time_left() {
        let m = Meter::new("export", "nodes", None);
        assert_eq!(
            m.line(500, Duration::from_secs(2)),
            "export: 500 nodes, 250/s"
        );
    }

    #[test]
    fn time_left_reads_in_the_largest_units() {
        assert_eq!(short(0.2), "1 s");
        assert_eq!(short(185.0), "3 min 5 s");
        assert_eq!(short(7_800.0), "2 h 10 min");
    }
}
