//! The progress of a long command (`import`, `export`, `run --all-pages`, `attach`,
//! `download`) on stderr: one line redrawn in place on a terminal, and a plain line every
//! [`LOG_EVERY`] otherwise, so a log shows the job moving without a line per row. The counts
//! (rows or nodes, or bytes and files), the rate and, when the total is known, the time left.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// How often the terminal line is redrawn at most; a caller that updates from a timer ticks
/// this often.
pub(crate) const REDRAW: Duration = Duration::from_millis(100);
/// How often a plain line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What a meter counts.
enum Unit {
    /// Things counted one by one: `rows`, `nodes`.
    Items(&'static str),
    /// Bytes (shown in KiB, MiB, GiB), moved by `files` transfers of which `done` ended.
    Bytes { files: u64, done: u64 },
}

/// One command's progress line.
pub(crate) struct Meter {
    verb: &'static str,
    unit: Unit,
    total: Option<u64>,
    started: Instant,
    last: Instant,
    terminal: bool,
    drawn: bool,
}

impl Meter {
    /// A meter for `total` `unit`s (when known) of work called `verb` (`import`, `export`).
    pub(crate) fn new(verb: &'static str, unit: &'static str, total: Option<u64>) -> Meter {
        Meter::counting(verb, Unit::Items(unit), total)
    }

    /// A meter for `files` transfers of `total` bytes together (when known), called `verb`
    /// (`attaching`, `downloading`); [`Meter::file_done`] counts the transfers that ended.
    pub(crate) fn bytes(verb: &'static str, files: u64, total: Option<u64>) -> Meter {
        Meter::counting(verb, Unit::Bytes { files, done: 0 }, total)
    }

    fn counting(verb: &'static str, unit: Unit, total: Option<u64>) -> Meter {
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

    /// One transfer of a [`Meter::bytes`] meter ended, as `what` says (`attached a.pdf
    /// ...`): it counts in the line, and `what` is a line of its own in a log (on a terminal
    /// the redrawn line shows it).
    pub(crate) fn file_done(&mut self, what: &str) {
        if let Unit::Bytes { done, .. } = &mut self.unit {
            *done += 1;
        }
        if !self.terminal {
            eprintln!("{}", crate::output::escape_controls(what));
        }
    }

    /// Writes `text` as a line of its own on stderr, above the progress line on a terminal
    /// (which the next update draws again).
    pub(crate) fn note(&mut self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    /// Erases the line drawn on a terminal, so that a line written to stdout (the same
    /// terminal, usually) starts at its left edge; the next update draws it again.
    pub(crate) fn clear(&mut self) {
        if self.terminal && self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
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

    /// `import: 1200/10000 rows, 240/s, about 36 s left`, or for bytes `attaching: 1/3
    /// files, 12.0 MiB of 64.0 MiB, 8.0 MiB/s, about 7 s left`.
    fn line(&self, done: u64, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            done as f64 / seconds
        } else {
            0.0
        };
        let mut line = match (&self.unit, self.total) {
            (Unit::Items(unit), Some(total)) => format!("{}: {done}/{total} {unit}", self.verb),
            (Unit::Items(unit), None) => format!("{}: {done} {unit}", self.verb),
            (Unit::Bytes { files, done: ended }, total) => {
                let of = total.map_or(String::new(), |t| format!(" of {}", size(t)));
                format!("{}: {ended}/{files} files, {}{of}", self.verb, size(done))
            }
        };
        match self.unit {
            Unit::Items(_) => line.push_str(&format!(", {rate:.0}/s")),
            Unit::Bytes { .. } => line.push_str(&format!(", {}/s", size(rate as u64))),
        }
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

/// A byte count in the largest binary unit it fills: `512 bytes`, `1.5 KiB`, `12.0 MiB`,
/// `2.3 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    let scaled = |unit: u64| bytes as f64 / unit as f64;
    match bytes {
        0..KIB => format!("{bytes} bytes"),
        KIB..0x10_0000 => format!("{:.1} KiB", scaled(KIB)),
        0x10_0000..0x4000_0000 => format!("{:.1} MiB", scaled(KIB * KIB)),
        _ => format!("{:.1} GiB", scaled(KIB * KIB * KIB)),
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
    fn a_byte_meter_counts_files_and_sizes() {
        let mut m = Meter::bytes("attaching", 3, Some(64 * 1024 * 1024));
        m.terminal = false;
        assert_eq!(
            m.line(0, Duration::ZERO),
            "attaching: 0/3 files, 0 bytes of 64.0 MiB, 0 bytes/s"
        );
        m.file_done("attached a.pdf");
        assert_eq!(
            m.line(12 * 1024 * 1024, Duration::from_secs(2)),
            "attaching: 1/3 files, 12.0 MiB of 64.0 MiB, 6.0 MiB/s, about 9 s left"
        );
        let m = Meter::bytes("downloading", 2, None);
        assert_eq!(
            m.line(1536, Duration::from_secs(1)),
            "downloading: 0/2 files, 1.5 KiB, 1.5 KiB/s"
        );
    }

    #[test]
    fn sizes_read_in_the_largest_unit_they_fill() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1023), "1023 bytes");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(300_000), "293.0 KiB");
        assert_eq!(size(1024 * 1024), "1.0 MiB");
        assert_eq!(size(5 * 1024 * 1024 * 1024 / 2), "2.5 GiB");
    }

    #[test]
    fn time_left_reads_in_the_largest_units() {
        assert_eq!(short(0.2), "1 s");
        assert_eq!(short(185.0), "3 min 5 s");
        assert_eq!(short(7_800.0), "2 h 10 min");
    }
}
