//! Bulk work: one operation over many inputs, inside ION's rate limits, with an outcome per
//! input that can be trusted.
//!
//! A [`Job`] sends one operation once per input (a stream or iterator of variables) with a
//! bounded number of requests in flight, and its [`Results`] stream yields one [`Item`] per
//! input, carrying the input's index, in input order or as they complete ([`Order`]).
//!
//! # The rules
//!
//! - **Nothing runs twice.** Retries are the [client's](crate::retry): a query is retried on
//!   transient failures; a mutation is sent again only when it certainly did not execute (a
//!   connect failure, a 429). An input still refused with 429 when the client's retries run
//!   out did not execute either: the job sends it again after the wait, up to
//!   [`MAX_RESENDS`] times. A mutation whose outcome is unknown comes back as
//!   [`Outcome::Unknown`] and is never re-sent by the job: whoever knows how to check the
//!   server decides.
//! - **Adaptive to ION.** Every 429 any request of the client meets slows the whole job: no
//!   request starts before the `Retry-After` it asked for has passed; the number of requests
//!   in flight is halved (at most once per round of requests) and grows back by one per round
//!   of answers without a 429, up to [`Job::concurrency`] (additive increase, multiplicative
//!   decrease, as TCP does); and from the first 429 on, starts are paced. The first 429 comes
//!   within ION's burst and only says there is a limit, so the pace ramps up from the burst
//!   per second until the next one; that one measures the limit from what ION let through
//!   since its bucket was last full (a token bucket lets through its burst plus its rate),
//!   and the job paces just under it, climbing slowly (then faster, so a raised limit is
//!   found within a minute or so) until a 429 measures it again. Each 429 costs the whole job
//!   its wait, so a job that learns the limit this way pays two waits at the start and then
//!   about one every half minute. An optional fixed rate ([`Job::rate`]) spaces the starts
//!   evenly for a known quota from the first request and pays none.
//! - **Cancel-safe.** Results are held by the [`Results`] stream, so a `next()` future dropped
//!   before it completes loses nothing. [`Results::stop`] starts no new request and yields
//!   the results of those in flight, then ends; dropping the stream starts no new request and
//!   drops those in flight (a mutation among them may or may not have run, and nobody is
//!   told: stop and drain when each outcome must be recorded).
//!
//! Invariant: the job holds at most [`Job::concurrency`] requests in flight plus, in input
//! order, the results waiting for an earlier one; inputs are read only as requests start.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use futures_util::StreamExt as _;
//! use ion_client::bulk::{Job, Outcome};
//! use ion_client::testing::TestIon;
//! use serde_json::json;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let ion = TestIon::start().await?;
//! let create = "mutation Create($title: String!) { createRun(input: { title: $title }) { run { id } } }";
//! let rows = (0..20).map(|i| json!({ "title": format!("run {i}") }));
//! let mut results = Job::new(ion.client()).concurrency(4).run_document(create, rows);
//! let mut ok = 0;
//! while let Some(item) = results.next().await {
//!     assert_eq!(item.outcome(), Outcome::Ok, "row {}: {:?}", item.index, item.result);
//!     ok += 1;
//! }
//! assert_eq!(ok, 20);
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
//! # }
//! ```

pub mod conflict;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::stream::{FuturesUnordered, StreamExt as _};

use crate::clock::{Clock, Sleep};
use crate::response::Envelope;
use crate::secret::Redactor;
use crate::transport::Outgoing;
use crate::{Client, Error, ErrorKind, Operation, OperationKind, RawRequest};

/// Requests in flight by default: enough to hide a round trip of latency, few enough that a
/// job never looks like a flood to ION's fair-use limits before it has heard a 429.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The most requests in flight a job allows, whatever it is asked for.
pub const MAX_CONCURRENCY: usize = 1024;

/// How many times the job sends an input again after the rate limiter refused it through all
/// of the client's own retries (each time after the wait the last 429 asked for).
pub const MAX_RESENDS: u32 = 8;

/// In which order [`Results`] yields its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// In the order of the inputs (a result waits for the earlier ones).
    #[default]
    Input,
    /// As the requests complete.
    Completion,
}

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The operation ran and answered without errors.
    Ok,
    /// It failed, and a mutation among such failures certainly did not apply: ION answered
    /// with errors (a mutation's writes are all or nothing), refused it, or never received it.
    Error,
    /// A mutation that may or may not have executed
    /// ([`ErrorKind::OutcomeUnknown`]): check before sending it again.
    Unknown,
}

impl Outcome {
    /// The outcome of a result.
    pub fn of<T>(result: &Result<T, Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(e) if matches!(e.kind(), ErrorKind::OutcomeUnknown { .. }) => Outcome::Unknown,
            Err(_) => Outcome::Error,
        }
    }

    /// `ok`, `error` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result for one input.
#[derive(Debug)]
pub struct Item<T> {
    /// The input's position, from 0.
    pub index: u64,
    /// What the operation answered.
    pub result: Result<T, Error>,
}

impl<T> Item<T> {
    /// Ok, error or unknown.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.result)
    }
}

/// Counts of what a job did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct JobStats {
    /// Requests started (one per input read).
    pub started: u64,
    /// Results received.
    pub finished: u64,
    /// 429s the client met while the job ran (its retries included).
    pub rate_limited: u64,
    /// Times the job halved its concurrency.
    pub decreases: u64,
    /// The concurrency the job allows now.
    pub concurrency: usize,
}

/// A bulk job's settings: how many requests in flight, at what rate, in which order.
///
/// # Example
///
/// ```
/// use ion_client::bulk::{Job, Order};
/// # fn job(client: &ion_client::Client) {
/// let job = Job::new(client).concurrency(16).rate(50.0).order(Order::Completion);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Job {
    client: Client,
    concurrency: usize,
    rate: Option<f64>,
    order: Order,
}

impl Job {
    /// A job on `client` (a clone shares its connections, tokens and retry budget), with
    /// [`DEFAULT_CONCURRENCY`], no fixed rate and results in input order.
    pub fn new(client: &Client) -> Job {
        Job {
            client: client.clone(),
            concurrency: DEFAULT_CONCURRENCY,
            rate: None,
            order: Order::Input,
        }
    }

    /// The most requests in flight (1 to [`MAX_CONCURRENCY`]); the job starts there and
    /// halves it on 429s.
    pub fn concurrency(mut self, n: usize) -> Job {
        self.concurrency = n.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// At most `per_second` requests started per second, evenly spaced (a rate that is not a
    /// positive number means no fixed rate).
    pub fn rate(self, per_second: f64) -> Job {
        self.set_rate(Some(per_second))
    }

    /// [`rate`](Self::rate) from an `Option` (`None`: no fixed rate).
    pub fn set_rate(mut self, per_second: Option<f64>) -> Job {
        self.rate = per_second.filter(|r| r.is_finite() && *r > 0.0);
        self
    }

    /// Whether results come in input order (the default) or as they complete.
    pub fn order(mut self, order: Order) -> Job {
        self.order = order;
        self
    }

    /// Runs the generated operation `Q` once per input.
    pub fn run<Q, I>(self, inputs: I) -> Results<Q::ResponseData>
    where
        Q: Operation,
        I: IntoIterator<Item = Q::Variables>,
        I::IntoIter: Send + 'static,
    {
        self.run_stream::<Q, _>(futures_util::stream::iter(inputs))
    }

    /// [`run`](Self::run) over a stream of inputs, read only as requests start.
    pub fn run_stream<Q, S>(self, inputs: S) -> Results<Q::ResponseData>
    where
        Q: Operation,
        S: Stream<Item = Q::Variables> + Send + 'static,
    {
        let client = self.client.clone();
        let requests = inputs.map(move |variables| {
            let client = client.clone();
            let variables = Arc::new(variables);
            let request: Request<Q::ResponseData> = Arc::new(move || {
                let client = client.clone();
                let variables = Arc::clone(&variables);
                Box::pin(async move { client.execute_ref::<Q>(&variables).await })
            });
            request
        });
        self.results(Box::pin(requests))
    }

    /// Runs an untyped document once per input (each a JSON object of variables): the data
    /// of each response as JSON, with the access token and the client secret removed. A
    /// response with GraphQL `errors[]` is an error ([`ErrorKind::Graphql`], or
    /// [`ErrorKind::EtagConflict`] for a stale `etag` in a mutation). The kind, which decides
    /// the retry policy, is read from the document as [`RawRequest::kind`] reads it.
    pub fn run_document<I>(self, document: &str, inputs: I) -> Results<serde_json::Value>
    where
        I: IntoIterator<Item = serde_json::Value>,
        I::IntoIter: Send + 'static,
    {
        self.run_document_stream(Document::new(document), futures_util::stream::iter(inputs))
    }

    /// [`run_document`](Self::run_document) for a chosen operation of a document, over a
    /// stream of inputs.
    pub fn run_document_stream<S>(self, document: Document, inputs: S) -> Results<serde_json::Value>
    where
        S: Stream<Item = serde_json::Value> + Send + 'static,
    {
        let client = self.client.clone();
        let document = Arc::new(document);
        let requests = inputs.map(move |variables| {
            let client = client.clone();
            let document = Arc::clone(&document);
            let variables = Arc::new(variables);
            let request: Request<serde_json::Value> = Arc::new(move || {
                let client = client.clone();
                let document = Arc::clone(&document);
                let variables = Arc::clone(&variables);
                Box::pin(async move { document.send(&client, &variables).await })
            });
            request
        });
        self.results(Box::pin(requests))
    }

    fn results<T: 'static>(self, requests: Requests<T>) -> Results<T> {
        let clock = Arc::clone(&self.client.config().clock);
        let signal_seen = self.client.transport().rate_signal.refusals();
        Results {
            inner: Box::new(Inner {
                requests: Some(requests),
                in_flight: FuturesUnordered::new(),
                refused: std::collections::VecDeque::new(),
                max_retry_after: self.client.config().retry_policy().max_retry_after(),
                waiting: BTreeMap::new(),
                next_index: 0,
                next_out: 0,
                order: self.order,
                limiter: Limiter::new(self.concurrency, self.rate, signal_seen, clock.now()),
                clock,
                client: self.client,
                wait: None,
                stopped: false,
                stopped_refused: Vec::new(),
            }),
        }
    }
}

/// A document and which of its operations to run, for [`Job::run_document_stream`].
#[derive(Debug, Clone)]
pub struct Document {
    text: String,
    operation_name: Option<String>,
    kind: OperationKind,
}

impl Document {
    /// A document with one operation (or the one a later
    /// [`operation_name`](Self::operation_name) selects).
    pub fn new(text: &str) -> Document {
        Document::with_kind(text, OperationKind::Query)
    }

    /// A document whose kind the caller knows to be at least `kind` (a mutation stays a
    /// mutation whatever the document reads as; see [`RawRequest::kind`]).
    pub fn with_kind(text: &str, kind: OperationKind) -> Document {
        let read = RawRequest::new(text, kind).kind();
        Document {
            text: text.to_owned(),
            operation_name: None,
            kind: read,
        }
    }

    /// Which operation of the document to run.
    pub fn operation_name(mut self, name: &str) -> Document {
        self.operation_name = Some(name.to_owned());
        self.kind = RawRequest::new(&self.text, self.kind)
            .operation_name(name)
            .kind();
        self
    }

    /// Query or mutation, as the retry policy sees it.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    async fn send(
        &self,
        client: &Client,
        variables: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let name = self.operation_name.as_deref().unwrap_or("anonymous");
        let body =
            crate::response::encode(&self.text, self.operation_name.as_deref(), &variables, name)?;
        let delivered = client
            .transport()
            .send(Outgoing {
                name,
                kind: self.kind,
                body,
                check: None,
            })
            .await?;
        let envelope = Envelope::parse(&delivered.body, name, &delivered)?;
        let mut data: serde_json::Value = envelope.into_data(name, self.kind, &delivered)?;
        Redactor::new(&delivered.secrets()).json(&mut data);
        Ok(data)
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// Sends one input's request; called again to re-send an input the rate limiter refused.
type Request<T> = Arc<dyn Fn() -> BoxFuture<Result<T, Error>> + Send + Sync>;
/// One request per input, made (not sent) as the input is read.
type Requests<T> = Pin<Box<dyn Stream<Item = Request<T>> + Send>>;

/// A request that finished.
struct Finished<T> {
    index: u64,
    /// Its start sequence (which round it belongs to).
    seq: u64,
    /// Times the job re-sent it after the rate limiter refused it.
    resends: u32,
    request: Request<T>,
    result: Result<T, Error>,
}

/// The stream of a job's results: one [`Item`] per input. See the [module docs](self).
pub struct Results<T> {
    inner: Box<Inner<T>>,
}

impl<T> fmt::Debug for Results<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Results")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct Inner<T> {
    /// `None` once the inputs are exhausted or the job was stopped.
    requests: Option<Requests<T>>,
    in_flight: FuturesUnordered<BoxFuture<Finished<T>>>,
    /// Inputs the rate limiter refused through all of the client's retries, to send again
    /// after the wait (they certainly did not execute): (index, resends so far, request).
    refused: std::collections::VecDeque<(u64, u32, Request<T>)>,
    max_retry_after: Duration,
    /// Results that arrived before an earlier one, in input order.
    waiting: BTreeMap<u64, Result<T, Error>>,
    next_index: u64,
    next_out: u64,
    order: Order,
    limiter: Limiter,
    clock: Arc<dyn Clock>,
    client: Client,
    /// The wait before the next start (a `Retry-After`, the fixed rate).
    wait: Option<Sleep>,
    stopped: bool,
    /// In completion order, the refused inputs [`Results::stop`] ended, to yield.
    stopped_refused: Vec<Item<T>>,
}

impl<T> Results<T> {
    /// Starts no new request: the stream yields the results of the requests in flight (and,
    /// in input order, those waiting for them), then ends. Inputs not yet read are never
    /// sent; an input waiting to be sent again after a 429 is yielded with its 429.
    pub fn stop(&mut self) {
        let inner = &mut *self.inner;
        inner.stopped = true;
        inner.requests = None;
        inner.wait = None;
        while let Some((index, _, _)) = inner.refused.pop_front() {
            let error = Error::from_kind(
                ErrorKind::rate_limited(None),
                "rate limited: the job was stopped before sending it again",
            );
            match inner.order {
                Order::Input => {
                    inner.waiting.insert(index, Err(error));
                }
                Order::Completion => inner.stopped_refused.push(Item {
                    index,
                    result: Err(error),
                }),
            }
        }
    }

    /// Counts of what the job did so far.
    pub fn stats(&self) -> JobStats {
        let l = &self.inner.limiter;
        JobStats {
            started: self.inner.next_index,
            finished: l.finished,
            rate_limited: self
                .inner
                .client
                .transport()
                .rate_signal
                .refusals()
                .saturating_sub(l.signal_at_start),
            decreases: l.decreases,
            concurrency: l.allowed(),
        }
    }
}

impl<T: Send + 'static> Stream for Results<T> {
    type Item = Item<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item<T>>> {
        let this = &mut *self.inner;
        loop {
            if let Some(item) = this.stopped_refused.pop() {
                return Poll::Ready(Some(item));
            }
            this.start_what_may_start(cx);
            // Yield in input order what is ready.
            if this.order == Order::Input
                && let Some(result) = this.waiting.remove(&this.next_out)
            {
                let index = this.next_out;
                this.next_out += 1;
                return Poll::Ready(Some(Item { index, result }));
            }
            match this.in_flight.poll_next_unpin(cx) {
                Poll::Ready(Some(finished)) => {
                    let signal = &this.client.transport().rate_signal;
                    let admitted = !matches!(
                        &finished.result,
                        Err(e) if matches!(e.kind(), ErrorKind::RateLimited { .. })
                    );
                    this.limiter.finished(
                        finished.seq,
                        admitted,
                        Refusals {
                            count: signal.refusals(),
                            last: signal.last_refused(),
                            resume: signal.resume_at(),
                        },
                        this.clock.now(),
                    );
                    if let Some(again) = this.resend(finished) {
                        let Finished { index, result, .. } = again;
                        match this.order {
                            Order::Completion => {
                                return Poll::Ready(Some(Item { index, result }));
                            }
                            Order::Input => {
                                this.waiting.insert(index, result);
                            }
                        }
                    }
                }
                Poll::Ready(None) | Poll::Pending => {
                    let done = this.requests.is_none()
                        && this.refused.is_empty()
                        && this.in_flight.is_empty()
                        && this.waiting.is_empty();
                    if done {
                        return Poll::Ready(None);
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T: Send + 'static> Inner<T> {
    /// Starts requests while the limiter allows, the gates (a `Retry-After`, the fixed rate)
    /// are open and inputs are ready. Every `Pending` it meets has registered `cx`.
    fn start_what_may_start(&mut self, cx: &mut Context<'_>) {
        while !self.stopped {
            // A refused input may be the one the waiting results wait for: it needs only
            // room in flight. A new input also counts the results waiting for an earlier one.
            let held = if self.refused.is_empty() {
                self.in_flight.len() + self.waiting.len()
            } else {
                self.in_flight.len()
            };
            if held >= self.limiter.allowed() {
                return;
            }
            if let Some(wait) = self.wait.as_mut() {
                if wait.as_mut().poll(cx).is_pending() {
                    return;
                }
                self.wait = None;
            }
            let now = self.clock.now();
            let resume = self.client.transport().rate_signal.resume_at();
            if let Some(gate) = self.limiter.gate(resume, now)
                && gate > now
            {
                self.wait = Some(self.clock.sleep(gate - now));
                continue;
            }
            if let Some((index, resends, request)) = self.refused.pop_front() {
                self.start(index, resends, request, now);
                continue;
            }
            let Some(requests) = self.requests.as_mut() else {
                return;
            };
            match requests.as_mut().poll_next(cx) {
                Poll::Ready(Some(request)) => {
                    let index = self.next_index;
                    self.next_index += 1;
                    self.start(index, 0, request, now);
                }
                Poll::Ready(None) => {
                    self.requests = None;
                    return;
                }
                Poll::Pending => return,
            }
        }
    }

    fn start(&mut self, index: u64, resends: u32, request: Request<T>, now: Instant) {
        let seq = self.limiter.started(now);
        let sending = request();
        self.in_flight.push(Box::pin(async move {
            let result = sending.await;
            Finished {
                index,
                seq,
                resends,
                request,
                result,
            }
        }));
    }

    /// Queues an input the rate limiter refused through all of the client's retries to be
    /// sent again after the wait (it certainly did not execute), up to
    /// [`MAX_RESENDS`] times and unless the wait asked for is longer than the client's
    /// policy waits; anything else is finished and handed back.
    fn resend(&mut self, finished: Finished<T>) -> Option<Finished<T>> {
        let refused = match &finished.result {
            Err(e) => match e.kind() {
                ErrorKind::RateLimited { retry_after, .. } => {
                    retry_after.is_none_or(|wait| wait <= self.max_retry_after)
                }
                _ => false,
            },
            Ok(_) => false,
        };
        if !refused || self.stopped || finished.resends >= MAX_RESENDS {
            return Some(finished);
        }
        self.refused
            .push_back((finished.index, finished.resends + 1, finished.request));
        None
    }
}

/// How far a paced job may fall behind its schedule and catch up at once, in intervals: a
/// timer that wakes a millisecond late does not cost the rate a millisecond per request.
const CATCH_UP_INTERVALS: u32 = 4;

/// How long the pace takes to double while it looks for a limit it could not measure yet.
const RAMP_DOUBLING: Duration = Duration::from_millis(150);

/// The share of the measured limit the job paces at when a wait ends: a token bucket paced
/// just under its rate stays full, so timers firing late or early cost no 429.
const MARGIN: f64 = 0.99;

/// How the pace climbs above the measured limit, so that a raised limit is found: by
/// `(t / PROBE_AFTER)³` of the limit, t seconds after the wait. Flat at first (2 % above the
/// margin after about 20 s, where the next 429 re-measures the limit over that whole stretch),
/// steep later (twice the limit after about 74 s).
const PROBE_AFTER: f64 = 73.7;

/// The most admissions kept to measure the limit with: a bucket's rate shows within the
/// last few of its bursts.
const MEASURE_KEEP: usize = 4096;

/// What the job knows of ION's rate limit, from its 429s.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pace {
    /// No 429 yet: starts are not paced.
    Free,
    /// A 429 that could not measure the limit (the first one meets it within the burst): the
    /// pace starts at `from` requests/s and doubles every [`RAMP_DOUBLING`] until the next
    /// 429, which measures it.
    Ramp { from: f64, since: Instant },
    /// The limit measured: paced at [`MARGIN`] of it, climbing as [`PROBE_AFTER`] says.
    Measured { limit: f64, since: Instant },
}

impl Pace {
    fn rate(self, now: Instant) -> Option<f64> {
        let secs = |since: Instant| now.saturating_duration_since(since).as_secs_f64();
        match self {
            Pace::Free => None,
            Pace::Ramp { from, since } => {
                let doublings = secs(since) / RAMP_DOUBLING.as_secs_f64();
                Some(from * doublings.min(30.0).exp2())
            }
            Pace::Measured { limit, since } => {
                Some(limit * (MARGIN + (secs(since) / PROBE_AFTER).powi(3)))
            }
        }
    }
}

/// The client's 429s as a finished request sees them.
#[derive(Debug, Clone, Copy, Default)]
struct Refusals {
    /// How many so far.
    count: u64,
    /// When the latest came.
    last: Option<Instant>,
    /// The end of the latest wait one asked for.
    resume: Option<Instant>,
}

/// The job's adaptive limits: requests in flight (AIMD) and, once ION has answered 429, a
/// sending rate measured from what ION let through; plus the fixed rate's pacing.
#[derive(Debug)]
struct Limiter {
    max: usize,
    /// The allowed concurrency, fractional so that it grows by one per round.
    window: f64,
    fixed: Option<f64>,
    pace: Pace,
    next_slot: Option<Instant>,
    /// Since when requests have been sent without a 429: the job's start, then the end of
    /// each `Retry-After` wait.
    sending_since: Instant,
    /// When the requests ION let through (answered with anything but 429) since
    /// `sending_since` were answered, the latest [`MEASURE_KEEP`].
    admitted: std::collections::VecDeque<Instant>,
    /// The most ION lets through at once: the fewest it let through between two 429s.
    burst: Option<u64>,
    /// What ION let through in the stretch the last 429 ended, counting the answers that
    /// came during its wait.
    ended: Option<u64>,
    /// Requests started so far: a request's sequence number says which round it belongs to.
    started: u64,
    /// Only requests started after the last decrease can cause the next one.
    decreased_at: u64,
    signal_at_start: u64,
    signal_seen: u64,
    finished: u64,
    decreases: u64,
}

impl Limiter {
    fn new(max: usize, rate: Option<f64>, signal: u64, now: Instant) -> Limiter {
        Limiter {
            max,
            window: max as f64,
            fixed: rate,
            pace: Pace::Free,
            next_slot: rate.map(|_| now),
            sending_since: now,
            admitted: std::collections::VecDeque::new(),
            burst: None,
            ended: None,
            started: 0,
            decreased_at: 0,
            signal_at_start: signal,
            signal_seen: signal,
            finished: 0,
            decreases: 0,
        }
    }

    /// Requests allowed in flight now.
    fn allowed(&self) -> usize {
        (self.window.floor() as usize).clamp(1, self.max)
    }

    /// The rate starts are paced at now: the fixed one, or the one learnt from 429s if lower.
    fn rate(&self, now: Instant) -> Option<f64> {
        match (self.fixed, self.pace.rate(now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest instant the next request may start: after the last `Retry-After` and
    /// the pacing's next slot.
    fn gate(&self, resume: Option<Instant>, now: Instant) -> Option<Instant> {
        let slot = self.rate(now).and(self.next_slot);
        match (resume, slot) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Records a start at `now`; returns its sequence number.
    fn started(&mut self, now: Instant) -> u64 {
        if let Some(rate) = self.rate(now) {
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let behind = now
                .checked_sub(interval * CATCH_UP_INTERVALS)
                .unwrap_or(now);
            let slot = self.next_slot.map_or(now, |s| s.max(behind));
            self.next_slot = Some(crate::clock::instant_after(slot, interval));
        }
        let seq = self.started;
        self.started += 1;
        seq
    }

    /// Records a request that started as `seq` and finished at `now`, `admitted` unless ION
    /// refused it with 429 through all of the client's retries, seeing the client's 429s.
    ///
    /// On new 429s (once per round) the window halves and the pace is learnt again; answers
    /// without a 429 grow the window by one per round. The first 429 comes within ION's burst
    /// and says only that there is a limit: the pace starts from what went through (the
    /// burst, about) per second and doubles every [`RAMP_DOUBLING`]. A later 429 measures it
    /// ([`measure`]); one that cannot ramps again from half the pace that met it.
    fn finished(&mut self, seq: u64, admitted: bool, refusals: Refusals, now: Instant) {
        self.finished += 1;
        // An answer that comes during a wait was let through before the 429 that asked for it.
        if admitted && now < self.sending_since {
            if let Some(ended) = &mut self.ended {
                *ended += 1;
            }
        } else if admitted {
            if self.admitted.len() == MEASURE_KEEP {
                self.admitted.pop_front();
            }
            self.admitted.push_back(now);
        }
        if refusals.count <= self.signal_seen {
            self.window = (self.window + 1.0 / self.window).min(self.max as f64);
            return;
        }
        self.signal_seen = refusals.count;
        if seq < self.decreased_at {
            return;
        }
        self.window = (self.window / 2.0).max(1.0);
        self.decreased_at = self.started;
        self.decreases += 1;
        // The 429 may be seen late: a request the client sends again after the wait
        // finishes only then.
        let refused_at = refusals.last.map_or(now, |last| last.min(now));
        let resumes = refusals.resume.filter(|r| *r > now).unwrap_or(now);
        let through = self.admitted.len() as u64;
        if let Some(ended) = self.ended {
            self.burst = Some(self.burst.map_or(ended, |b| b.min(ended)));
        }
        let measured = self
            .burst
            .and_then(|burst| measure(&self.admitted, self.sending_since, refused_at, burst));
        self.ended = Some(through);
        self.pace = match (measured, self.pace.rate(now)) {
            (Some(limit), _) => Pace::Measured {
                limit,
                since: resumes,
            },
            (None, None) => {
                let span = refused_at.saturating_duration_since(self.sending_since);
                Pace::Ramp {
                    from: (through as f64 / span.max(Duration::from_secs(1)).as_secs_f64())
                        .max(1.0),
                    since: resumes,
                }
            }
            (None, Some(met)) => Pace::Ramp {
                from: (met / 2.0).max(1.0),
                since: resumes,
            },
        };
        self.sending_since = resumes;
        self.admitted.clear();
    }
}

/// ION's rate, from the answers `admitted` it let through since `since` (when its bucket was
/// full, after a wait) up to a 429 at `refused_at` (when the bucket was empty), knowing its
/// bucket holds `burst`.
///
/// A token bucket of rate `r` that was full at some instant `s` and empty at `refused_at`
/// let through, from `s` on, its burst and `r` per second since: `r = (n(s) − burst) /
/// (refused_at − s)`, where `n(s)` counts the admissions from `s`. The bucket was last full
/// at the wait's end or at one of the admissions, so the largest such quotient is the rate (a
/// little low if the burst is overestimated, which is the safe side). `None` when no window
/// let through at least twice the burst: the burst would weigh too much in the quotient.
fn measure(
    admitted: &std::collections::VecDeque<Instant>,
    since: Instant,
    refused_at: Instant,
    burst: u64,
) -> Option<f64> {
    // Answers that came after the 429 (it may be seen late) are not in its windows.
    let before = admitted.iter().filter(|at| **at <= refused_at).count();
    let windows = admitted
        .iter()
        .take(before)
        .rev()
        .enumerate()
        .map(|(i, at)| (i as u64 + 1, *at))
        .chain(std::iter::once((before as u64, since)));
    let mut best: Option<f64> = None;
    for (n, from) in windows {
        let secs = refused_at.saturating_duration_since(from).as_secs_f64();
        if n < 2 * burst.max(1) || secs <= 0.0 {
            continue;
        }
        let rate = (n - burst) as f64 / secs;
        best = Some(best.map_or(rate, |b| b.max(rate)));
    }
    best.filter(|rate| *rate >= 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request started and answered at `at`, admitted, seeing `refusals` 429s so far.
    fn answer(l: &mut Limiter, at: Instant, refusals: u64) {
        let s = l.started(at);
        l.finished(
            s,
            true,
            Refusals {
                count: refusals,
                ..Refusals::default()
            },
            at,
        );
    }

    #[test]
    fn the_window_halves_once_per_round_and_grows_back_by_one_per_round() {
        let now = Instant::now();
        let mut l = Limiter::new(16, None, 0, now);
        let seqs: Vec<u64> = (0..16).map(|_| l.started(now)).collect();
        // The first 429 of the round halves it; the others of the same round do not.
        l.finished(
            seqs[0],
            false,
            Refusals {
                count: 1,
                ..Refusals::default()
            },
            now,
        );
        assert_eq!(l.allowed(), 8);
        l.finished(
            seqs[1],
            false,
            Refusals {
                count: 2,
                ..Refusals::default()
            },
            now,
        );
        l.finished(
            seqs[2],
            false,
            Refusals {
                count: 3,
                ..Refusals::default()
            },
            now,
        );
        assert_eq!(l.allowed(), 8);
        // A request started after the decrease meeting a 429 halves it again.
        answer(&mut l, now, 4);
        assert_eq!(l.allowed(), 4);
        assert_eq!(l.decreases, 2);
        // A round of answers without a 429 (a little more than four: the window grows by
        // 1/window per answer) grows it by one.
        for _ in 0..5 {
            answer(&mut l, now, 4);
        }
        assert_eq!(l.allowed(), 5);
        // Never below one, never above the maximum.
        for _ in 0..10 {
            let refusals = l.signal_seen + 1;
            answer(&mut l, now, refusals);
        }
        assert_eq!(l.allowed(), 1);
        for _ in 0..10_000 {
            let refusals = l.signal_seen;
            answer(&mut l, now, refusals);
        }
        assert_eq!(l.allowed(), 16);
    }

    #[test]
    fn a_fixed_rate_spaces_the_starts() {
        let now = Instant::now();
        let mut l = Limiter::new(4, Some(10.0), 0, now);
        assert_eq!(l.gate(None, now), Some(now));
        l.started(now);
        assert_eq!(l.gate(None, now), Some(now + Duration::from_millis(100)));
        let later = now + Duration::from_secs(1);
        assert_eq!(l.gate(Some(later), now), Some(later), "a Retry-After wins");
        assert_eq!(Limiter::new(4, None, 0, now).gate(None, now), None);
    }

    /// ION's side of the tests below: a bucket of `burst` refilled at `rate` a second.
    const RATE: f64 = 200.0;
    const BURST: u64 = 20;

    #[test]
    fn the_first_429_ramps_the_pace_and_the_second_measures_the_limit() {
        let t0 = Instant::now();
        let mut l = Limiter::new(16, None, 0, t0);
        assert_eq!(l.rate(t0), None, "no pacing before a 429");
        // The burst goes through at once, then a 429 asking for a second's wait.
        for _ in 0..BURST {
            answer(&mut l, t0, 0);
        }
        let resume = t0 + Duration::from_secs(1);
        let s = l.started(t0);
        l.finished(
            s,
            false,
            Refusals {
                count: 1,
                last: Some(t0),
                resume: Some(resume),
            },
            t0,
        );
        assert_eq!(l.ended, Some(BURST));
        // An answer that comes during the wait was let through before the 429.
        answer(&mut l, t0 + Duration::from_millis(1), 1);
        assert_eq!(l.ended, Some(BURST + 1));
        // Too short a stretch to measure anything: the pace starts from the burst per second
        // when the wait ends and doubles every `RAMP_DOUBLING`.
        assert_eq!(l.rate(resume), Some(20.0));
        let rate = l.rate(resume + RAMP_DOUBLING * 2).unwrap_or_default();
        assert!((rate - 80.0).abs() < 1e-6, "{rate}");
        // The bucket refilled during the wait; 1.2 s later ION has let through the burst and
        // its rate for 1.2 s, and answers 429 again: the limit is measured.
        let second = resume + Duration::from_millis(1200);
        let through = BURST + (RATE * 1.2) as u64;
        for i in 0..through {
            let at = resume + Duration::from_secs_f64(1.2 * i as f64 / through as f64);
            answer(&mut l, at, 1);
        }
        let again = second + Duration::from_secs(1);
        let s = l.started(second);
        l.finished(
            s,
            false,
            Refusals {
                count: 2,
                last: Some(second),
                resume: Some(again),
            },
            second,
        );
        match l.pace {
            Pace::Measured { limit, since } => {
                assert!((limit - RATE).abs() < 1.0, "{limit}");
                assert_eq!(since, again);
            }
            pace => panic!("{pace:?}"),
        }
        // Paced just under the limit when the wait ends, climbing slowly, then faster.
        let rate = |secs: u64| {
            l.rate(again + Duration::from_secs(secs))
                .unwrap_or_default()
        };
        assert!((rate(0) - MARGIN * RATE).abs() < 1.0, "{}", rate(0));
        assert!(
            (rate(20) / RATE - (MARGIN + 0.02)).abs() < 0.01,
            "{}",
            rate(20)
        );
        assert!((rate(74) / RATE - 2.0).abs() < 0.02, "{}", rate(74));
    }

    #[test]
    fn a_429_soon_after_the_wait_ramps_again_from_half_the_pace_that_met_it() {
        let t0 = Instant::now();
        let mut l = Limiter::new(16, None, 0, t0);
        l.burst = Some(BURST);
        l.pace = Pace::Measured {
            limit: 100.0,
            since: t0,
        };
        let at = t0 + Duration::from_millis(100);
        answer(&mut l, at, 0);
        let s = l.started(at);
        l.finished(
            s,
            false,
            Refusals {
                count: 1,
                ..Refusals::default()
            },
            at,
        );
        assert_eq!(l.burst, Some(BURST));
        assert_eq!(l.ended, Some(1), "what the next 429 takes the burst from");
        let met = 100.0 * (MARGIN + (0.1 / PROBE_AFTER).powi(3));
        match l.pace {
            Pace::Ramp { from, since } => {
                assert!((from - met / 2.0).abs() < 1e-6, "{from}");
                assert_eq!(since, at, "no Retry-After: the ramp starts at once");
            }
            pace => panic!("{pace:?}"),
        }
    }

    #[test]
    fn a_429_seen_only_after_its_wait_measures_up_to_when_it_came() {
        let t0 = Instant::now();
        let mut l = Limiter::new(16, None, 0, t0);
        l.ended = Some(BURST);
        let through = BURST + RATE as u64;
        for i in 0..through {
            answer(
                &mut l,
                t0 + Duration::from_secs_f64(i as f64 / through as f64),
                0,
            );
        }
        // The 429 came at 1 s; a request the client sent again after the wait tells of it
        // at 2 s.
        let refused = t0 + Duration::from_secs(1);
        let seen = t0 + Duration::from_secs(2);
        let s = l.started(t0);
        let refusals = Refusals {
            count: 1,
            last: Some(refused),
            resume: Some(seen),
        };
        l.finished(s, true, refusals, seen);
        match l.pace {
            Pace::Measured { limit, .. } => assert!((limit - RATE).abs() < 1.0, "{limit}"),
            pace => panic!("{pace:?}"),
        }
    }

    #[test]
    fn refused_requests_are_not_counted_as_let_through() {
        let t0 = Instant::now();
        let mut l = Limiter::new(16, None, 0, t0);
        for _ in 0..5 {
            let s = l.started(t0);
            l.finished(
                s,
                false,
                Refusals {
                    count: 0,
                    ..Refusals::default()
                },
                t0,
            );
        }
        answer(&mut l, t0, 0);
        assert_eq!(l.admitted.len(), 1);
    }

    #[test]
    fn outcomes_read_the_error_kind() {
        let unknown: Result<(), Error> = Err(Error::from_kind(
            ErrorKind::outcome_unknown(None, Some(502)),
            "x",
        ));
        assert_eq!(Outcome::of(&unknown), Outcome::Unknown);
        let refused: Result<(), Error> = Err(Error::from_kind(ErrorKind::rate_limited(None), "x"));
        assert_eq!(Outcome::of(&refused), Outcome::Error);
        assert_eq!(Outcome::of(&Ok::<_, Error>(())), Outcome::Ok);
        assert_eq!(Outcome::Unknown.to_string(), "unknown");
    }
}
