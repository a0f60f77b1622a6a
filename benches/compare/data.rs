//! The bodies every client receives: `get_runs` responses in ION's shape, made here from a
//! fixed recipe so every run of the bench sees byte-identical input.
//!
//! The shape is the one `queries/get_runs.graphql` selects: `runs.edges[].node` with `id`,
//! `title` and `steps[] { id title }`. The titles are ION-like (a product, a serial, a lot) so
//! string lengths, escapes-free ASCII and number widths look like a real page.

/// Step titles of a typical build procedure, cycled through.
const STEP_TITLES: [&str; 8] = [
    "Kit parts from stores",
    "Install valve body and seat",
    "Attach nozzle assembly",
    "Torque fasteners to specification",
    "Leak check at proof pressure",
    "Record serial numbers of sub-assemblies",
    "Final inspection and sign-off",
    "Package and label for shipping",
];

/// One page: `{"data":{"runs":{"edges":[{"node":{...}}, ...]}}}` with `runs` runs of
/// `steps_per_run` steps each, compact JSON as a server sends it.
pub fn runs_page(runs: usize, steps_per_run: usize) -> Vec<u8> {
    let mut out = String::with_capacity(runs * (80 + steps_per_run * 60) + 64);
    out.push_str(r#"{"data":{"runs":{"edges":["#);
    let mut step_id = 1u64;
    for run in 0..runs {
        if run > 0 {
            out.push(',');
        }
        let id = run + 1;
        out.push_str(&format!(
            r#"{{"node":{{"id":{id},"title":"TA-100 thruster build SN-{id:05} (lot L-2026-{lot:02})","steps":["#,
            lot = run % 12 + 1
        ));
        for step in 0..steps_per_run {
            if step > 0 {
                out.push(',');
            }
            let title = STEP_TITLES[step % STEP_TITLES.len()];
            out.push_str(&format!(r#"{{"id":{step_id},"title":"{title}"}}"#));
            step_id += 1;
        }
        out.push_str("]}}");
    }
    out.push_str("]}}}");
    out.into_bytes()
}

/// A page of about `bytes` bytes with `runs` runs: as many steps per run as fit.
pub fn runs_page_of_size(runs: usize, bytes: usize) -> Vec<u8> {
    // One run with no steps, and the growth per step, measured rather than guessed.
    let bare = runs_page(1, 0).len();
    let per_step = runs_page(1, 1).len() - bare + 1;
    let per_run = bytes / runs;
    let steps = per_run.saturating_sub(bare) / per_step;
    runs_page(runs, steps.max(1))
}

/// The pages the per-request table uses: (label, runs, body).
pub fn pages() -> Vec<Page> {
    vec![
        Page::new("get_runs (10 runs)", "small", 10, runs_page(10, 6)),
        Page::new("1 MB page", "1mb", 1_000, runs_page_of_size(1_000, 1 << 20)),
        Page::new(
            "10 MB page",
            "10mb",
            10_000,
            runs_page_of_size(10_000, 10 << 20),
        ),
    ]
}

/// One canned response and what a client must find in it.
pub struct Page {
    /// How the tables name it.
    pub label: &'static str,
    /// The URL path segment the server answers it on.
    pub path: &'static str,
    /// Runs in the page: every client checks it decoded exactly this many.
    pub runs: usize,
    /// The response body.
    pub body: bytes::Bytes,
}

impl Page {
    fn new(label: &'static str, path: &'static str, runs: usize, body: Vec<u8>) -> Page {
        Page {
            label,
            path,
            runs,
            body: body.into(),
        }
    }
}

/// Run statuses as ION spells them, cycled through by [`list_runs_page`].
const RUN_STATUSES: [&str; 4] = ["TODO", "IN_PROGRESS", "COMPLETE", "HOLD"];

/// One `ListRuns` page (`queries/list_runs.graphql`: `pageInfo`, `edges[].cursor` and the
/// `RunSummary` fragment) of `runs` runs: the shape `ion export` and the `*_nodes` streams
/// decode, with an etag (32 hex digits, as ION's), an enum, a timestamp and nulls on every run.
pub fn list_runs_page(runs: usize) -> Vec<u8> {
    let mut out = String::with_capacity(runs * 330 + 128);
    out.push_str(
        r#"{"data":{"runs":{"pageInfo":{"hasNextPage":true,"endCursor":"YXJyYXljb25uZWN0aW9uOjk5"},"edges":["#,
    );
    for run in 0..runs {
        if run > 0 {
            out.push(',');
        }
        let id = run + 1;
        let status = RUN_STATUSES[run % RUN_STATUSES.len()];
        let (inventory, quantity) = if run % 3 == 0 {
            ("null".to_owned(), "null".to_owned())
        } else {
            ((id * 7).to_string(), (run % 5 + 1).to_string())
        };
        out.push_str(&format!(
            r#"{{"cursor":"YXJyYXljb25uZWN0aW9uOj{id:05}","node":{{"id":{id},"_etag":"{etag:016x}{etag2:016x}","title":"TA-100 thruster build SN-{id:05} (lot L-2026-{lot:02})","status":"{status}","procedureId":{procedure},"partId":{part},"partInventoryId":{inventory},"quantity":{quantity},"dueDate":"2026-{month:02}-{day:02}T08:30:00Z","percentComplete":{percent}}}}}"#,
            etag = (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            etag2 = (id as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f),
            lot = run % 12 + 1,
            procedure = run % 40 + 1,
            part = run % 200 + 1,
            month = run % 12 + 1,
            day = run % 28 + 1,
            percent = run % 101,
        ));
    }
    out.push_str("]}}}");
    out.into_bytes()
}

/// A `ListRuns` page of about `bytes` bytes: (runs, body).
pub fn list_runs_page_of_size(bytes: usize) -> (usize, Vec<u8>) {
    let per_run = list_runs_page(2).len() - list_runs_page(1).len();
    let runs = (bytes / per_run).max(1);
    (runs, list_runs_page(runs))
}
