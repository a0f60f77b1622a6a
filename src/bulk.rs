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
//!   decrease, as TCP does); and from the first 429 on, starts are paced at a rate that falls
//!   to 0.7 of the one that met the 429 and climbs back along CUBIC's curve, flat near that
//!   rate (RFC 8312, as the AWS SDK's adaptive retry mode paces). An optional fixed rate
//!   ([`Job::rate`]) spaces the starts evenly for a known quota from the first request.
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
                    this.limiter
                        .finished(finished.seq, signal.refusals(), this.clock.now());
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
            if let Some(gate) = self.limiter.gate(resume)
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

/// CUBIC's constants (RFC 8312, as the AWS SDK's adaptive retry mode uses them): the rate
/// falls to `BETA` of what met the 429, then grows back along a cubic curve that flattens
/// near that rate (`C` in requests/s per s³).
const CUBIC_BETA: f64 = 0.7;
const CUBIC_C: f64 = 0.4;

/// The sending rate the job found after a 429.
#[derive(Debug, Clone, Copy)]
struct Cubic {
    /// The rate that met the 429.
    w_max: f64,
    since: Instant,
    rate: f64,
}

/// The job's adaptive limits: requests in flight (AIMD) and, once ION has answered 429, a
/// sending rate (CUBIC); plus the fixed rate's pacing.
#[derive(Debug)]
struct Limiter {
    max: usize,
    /// The allowed concurrency, fractional so that it grows by one per round.
    window: f64,
    fixed: Option<f64>,
    adaptive: Option<Cubic>,
    next_slot: Option<Instant>,
    /// Completions in the last second, to measure the rate that met a 429.
    recent: std::collections::VecDeque<Instant>,
    began: Instant,
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
            adaptive: None,
            next_slot: rate.map(|_| now),
            recent: std::collections::VecDeque::new(),
            began: now,
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

    /// The rate starts are paced at: the fixed one, or the one found after a 429 if lower.
    fn rate(&self) -> Option<f64> {
        match (self.fixed, self.adaptive.map(|c| c.rate)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest instant the next request may start: after the last `Retry-After` and
    /// the pacing's next slot.
    fn gate(&self, resume: Option<Instant>) -> Option<Instant> {
        let slot = self.rate().and(self.next_slot);
        match (resume, slot) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Records a start at `now`; returns its sequence number.
    fn started(&mut self, now: Instant) -> u64 {
        if let Some(rate) = self.rate() {
            let interval = Duration::from_secs_f64(1.0 / rate);
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

    /// Records a request that started as `seq` and finished at `now`, seeing the client's
    /// 429 count `refusals`: on new 429s (once per round) halve the window and lower the rate
    /// to `CUBIC_BETA` of what met them; else grow the window by one per round and the rate
    /// along the cubic curve.
    fn finished(&mut self, seq: u64, refusals: u64, now: Instant) {
        self.finished += 1;
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if refusals > self.signal_seen {
            self.signal_seen = refusals;
            if seq >= self.decreased_at {
                self.window = (self.window / 2.0).max(1.0);
                self.decreased_at = self.started;
                self.decreases += 1;
                let span = now
                    .saturating_duration_since(self.began)
                    .clamp(Duration::from_millis(10), Duration::from_secs(1));
                let measured = self.recent.len() as f64 / span.as_secs_f64();
                // The first 429 finds the rate by measuring it; later ones take the rate the
                // job paces at (a measure across a `Retry-After` wait would count the wait).
                let current = self.adaptive.map_or(measured, |c| c.rate);
                self.adaptive = Some(Cubic {
                    w_max: current,
                    since: now,
                    rate: (current * CUBIC_BETA).max(1.0),
                });
            }
        } else {
            self.window = (self.window + 1.0 / self.window).min(self.max as f64);
            if let Some(c) = &mut self.adaptive {
                let t = now.saturating_duration_since(c.since).as_secs_f64();
                let k = (c.w_max * (1.0 - CUBIC_BETA) / CUBIC_C).cbrt();
                c.rate = (CUBIC_C * (t - k).powi(3) + c.w_max).max(1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_halves_once_per_round_and_grows_back_by_one_per_round() {
        let now = Instant::now();
        let mut l = Limiter::new(16, None, 0, now);
        let seqs: Vec<u64> = (0..16).map(|_| l.started(now)).collect();
        // The first 429 of the round halves it; the others of the same round do not.
        l.finished(seqs[0], 1, now);
        assert_eq!(l.allowed(), 8);
        l.finished(seqs[1], 2, now);
        l.finished(seqs[2], 3, now);
        assert_eq!(l.allowed(), 8);
        // A request started after the decrease meeting a 429 halves it again.
        let later = l.started(now);
        l.finished(later, 4, now);
        assert_eq!(l.allowed(), 4);
        assert_eq!(l.decreases, 2);
        // A round of answers without a 429 (a little more than four: the window grows by
        // 1/window per answer) grows it by one.
        for _ in 0..5 {
            let s = l.started(now);
            l.finished(s, 4, now);
        }
        assert_eq!(l.allowed(), 5);
        // Never below one, never above the maximum.
        for _ in 0..10 {
            let s = l.started(now);
            l.finished(s, l.signal_seen + 1, now);
        }
        assert_eq!(l.allowed(), 1);
        for _ in 0..10_000 {
            let s = l.started(now);
            l.finished(s, l.signal_seen, now);
        }
        assert_eq!(l.allowed(), 16);
    }

    #[test]
    fn a_fixed_rate_spaces_the_starts() {
        let now = Instant::now();
        let mut l = Limiter::new(4, Some(10.0), 0, now);
        assert_eq!(l.gate(None), Some(now));
        l.started(now);
        assert_eq!(l.gate(None), Some(now + Duration::from_millis(100)));
        let later = now + Duration::from_secs(1);
        assert_eq!(l.gate(Some(later)), Some(later), "a Retry-After wins");
        assert_eq!(Limiter::new(4, None, 0, now).gate(None), None);
    }

    #[test]
    fn after_a_429_the_rate_falls_to_seven_tenths_and_climbs_back_along_a_cubic() {
        let t0 = Instant::now();
        let mut l = Limiter::new(8, None, 0, t0);
        assert_eq!(l.rate(), None, "no pacing before a 429");
        // 100 answers in a second, then one that met a 429: 101 a second.
        for i in 0..100 {
            let at = t0 + Duration::from_millis(10 * i);
            let s = l.started(at);
            l.finished(s, 0, at);
        }
        let at = t0 + Duration::from_secs(1);
        let s = l.started(at);
        l.finished(s, 1, at);
        let rate = l.rate().unwrap_or_default();
        assert!((rate - 70.7).abs() < 0.1, "{rate}");
        // K = cbrt(w_max × 0.3 / 0.4) seconds later the rate is back where it met the 429,
        // and it grows slowly there.
        let k = (101.0f64 * 0.3 / 0.4).cbrt();
        let back = at + Duration::from_secs_f64(k);
        let s = l.started(back);
        l.finished(s, 1, back);
        let rate = l.rate().unwrap_or_default();
        assert!((rate - 101.0).abs() < 0.1, "{rate}");
        let later = back + Duration::from_secs(1);
        let s = l.started(later);
        l.finished(s, 1, later);
        let rate = l.rate().unwrap_or_default();
        assert!((rate - 101.4).abs() < 0.1, "{rate}");
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
