//! Reading Cargo's `--timings` report (`cargo-timing.html`) for `cargo xtask cold-build`: the
//! wall time, the units, the sum of the units' compile times and the crates that took longest,
//! as the Markdown of BENCHMARKS.md's "Cold build" section.
//!
//! The sum of unit times is reported beside the wall time because the wall time depends on what
//! else the machine runs (other builds on the same cores stretch it), while the sum says how
//! much compiling the build asks for.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Deserialize;

/// One compilation unit of the report (a library, a build script, a build script's run, a
/// binary).
#[derive(Debug, Clone, Deserialize)]
pub struct Unit {
    /// The crate's name.
    pub name: String,
    /// The crate's version.
    pub version: String,
    /// Seconds the unit took.
    pub duration: f64,
}

/// What a `--timings` report says about one build.
#[derive(Debug, Clone)]
pub struct Timings {
    /// Wall time of the whole build, in seconds (Cargo's "Total time").
    pub wall_seconds: f64,
    /// Every unit, in the report's order.
    pub units: Vec<Unit>,
}

/// Why a report could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError(String);

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a cargo --timings report: {}", self.0)
    }
}

impl std::error::Error for ReportError {}

/// A crate's share of a build: its units summed.
#[derive(Debug, Clone, PartialEq)]
pub struct CrateTime {
    /// `name version`.
    pub krate: String,
    /// How many units it had (a crate built for the host and for the target, or with a build
    /// script, has several).
    pub units: usize,
    /// Their seconds, summed.
    pub seconds: f64,
}

impl Timings {
    /// Reads `cargo-timing.html`: the `UNIT_DATA` array it embeds and its "Total time" row.
    ///
    /// # Errors
    /// When either is missing or does not parse.
    pub fn parse(html: &str) -> Result<Timings, ReportError> {
        const UNITS: &str = "const UNIT_DATA = ";
        let start = html
            .find(UNITS)
            .ok_or_else(|| ReportError("no UNIT_DATA".to_string()))?
            + UNITS.len();
        let end = html[start..]
            .find(";\n")
            .ok_or_else(|| ReportError("UNIT_DATA does not end".to_string()))?;
        let units: Vec<Unit> = serde_json::from_str(&html[start..start + end])
            .map_err(|e| ReportError(format!("UNIT_DATA: {e}")))?;
        const TOTAL: &str = "<td>Total time:</td><td>";
        let total = html
            .find(TOTAL)
            .ok_or_else(|| ReportError("no Total time row".to_string()))?
            + TOTAL.len();
        let wall_seconds = html[total..]
            .split('s')
            .next()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .ok_or_else(|| ReportError("Total time is not in seconds".to_string()))?;
        Ok(Timings {
            wall_seconds,
            units,
        })
    }

    /// Seconds of all units, summed.
    pub fn unit_seconds(&self) -> f64 {
        self.units.iter().map(|u| u.duration).sum()
    }

    /// Every crate with its units summed, longest first (ties by name).
    pub fn by_crate(&self) -> Vec<CrateTime> {
        let mut crates: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        for unit in &self.units {
            let entry = crates
                .entry(format!("{} {}", unit.name, unit.version))
                .or_default();
            entry.0 += 1;
            entry.1 += unit.duration;
        }
        let mut out: Vec<CrateTime> = crates
            .into_iter()
            .map(|(krate, (units, seconds))| CrateTime {
                krate,
                units,
                seconds,
            })
            .collect();
        out.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        out
    }

    /// Seconds of the units of crates named `name` (any version).
    pub fn crate_seconds(&self, name: &str) -> f64 {
        self.units
            .iter()
            .filter(|u| u.name == name)
            .map(|u| u.duration)
            .sum()
    }
}

/// `1087.4` as `18 min 7 s`.
pub fn minutes(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    format!("{} min {} s", whole / 60, whole % 60)
}

/// The Markdown tables for one build, or for a build before and after a change: the totals,
/// then the `top` longest crates of each.
pub fn markdown(builds: &[(&str, &Timings)], top: usize) -> String {
    let mut out = String::new();
    let header: Vec<&str> = builds.iter().map(|(label, _)| *label).collect();
    let _ = writeln!(out, "| | {} |", header.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(builds.len()));
    let row = |out: &mut String, label: &str, cell: &dyn Fn(&Timings) -> String| {
        let cells: Vec<String> = builds.iter().map(|(_, t)| cell(t)).collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    };
    row(&mut out, "wall time", &|t| minutes(t.wall_seconds));
    row(&mut out, "units", &|t| t.units.len().to_string());
    row(&mut out, "sum of unit times", &|t| {
        format!("{:.0} s", t.unit_seconds())
    });
    for (label, timings) in builds {
        let _ = writeln!(
            out,
            "\nLongest crates, {label} (all units of the crate summed):\n"
        );
        let _ = writeln!(out, "| crate | units | seconds |");
        let _ = writeln!(out, "|---|---:|---:|");
        for c in timings.by_crate().iter().take(top) {
            let _ = writeln!(out, "| {} | {} | {:.1} |", c.krate, c.units, c.seconds);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "<html><script>\nconst UNIT_DATA = [\
        {\"i\":0,\"name\":\"syn\",\"version\":\"2.0.1\",\"mode\":\"todo\",\"target\":\"\",\"duration\":10.5},\
        {\"i\":1,\"name\":\"syn\",\"version\":\"2.0.1\",\"mode\":\"todo\",\"target\":\"\",\"duration\":4.5},\
        {\"i\":2,\"name\":\"serde\",\"version\":\"1.0.0\",\"mode\":\"todo\",\"target\":\"\",\"duration\":3.0}\
        ];\nconst CONCURRENCY_DATA = [];\n</script><table><tr>\n\
        <td>Total time:</td><td>125.2s (2m 5.2s)</td>\n</tr></table></html>";

    #[test]
    fn reads_units_and_total_time() {
        let t = Timings::parse(REPORT).unwrap();
        assert_eq!(t.units.len(), 3);
        assert!((t.wall_seconds - 125.2).abs() < 1e-9);
        assert!((t.unit_seconds() - 18.0).abs() < 1e-9);
        assert!((t.crate_seconds("syn") - 15.0).abs() < 1e-9);
        assert_eq!(
            t.by_crate(),
            [
                CrateTime {
                    krate: "syn 2.0.1".to_string(),
                    units: 2,
                    seconds: 15.0
                },
                CrateTime {
                    krate: "serde 1.0.0".to_string(),
                    units: 1,
                    seconds: 3.0
                },
            ]
        );
        assert_eq!(minutes(t.wall_seconds), "2 min 5 s");
    }

    #[test]
    fn other_html_is_an_error() {
        assert!(Timings::parse("<html></html>").is_err());
        assert!(Timings::parse("const UNIT_DATA = [oops];\n").is_err());
    }

    #[test]
    fn tables_put_builds_side_by_side() {
        let t = Timings::parse(REPORT).unwrap();
        let md = markdown(&[("before", &t), ("after", &t)], 1);
        assert!(
            md.starts_with(
                "| | before | after |\n|---|---:|---:|\n| wall time | 2 min 5 s | 2 min 5 s |\n"
            ),
            "{md}"
        );
        assert!(md.contains("| syn 2.0.1 | 2 | 15.0 |"), "{md}");
        assert!(!md.contains("serde"), "{md}");
    }
}
