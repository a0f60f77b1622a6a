//! Sends GraphQL request bodies to ION: builds the HTTP client, attaches the token, maps
//! statuses to errors and applies the [retry policy](crate::retry).
//!
//! # What it guarantees
//!
//! - **Time.** A connection is given 10 s (`DEFAULT_CONNECT_TIMEOUT`), an attempt 40 s
//!   (`DEFAULT_ATTEMPT_TIMEOUT`, so ION's own 30 s gateway 502 arrives), and the whole
//!   operation 120 s (`DEFAULT_TOTAL_TIMEOUT`), waiting for a token, retries and their waits
//!   included: an attempt gets at most what is left of the total, and no retry starts whose
//!   wait would pass it. Elapsed time saturates, so no clock value overflows.
//! - **Memory.** A `200` body is read up to 64 MiB (`DEFAULT_MAX_RESPONSE_BYTES`), then
//!   refused with [`ErrorKind::ResponseTooLarge`]. Any other answer is read only up to
//!   `ERROR_BODY_BYTES` (256 KiB: GraphQL `errors[]` of a 400/422 and error pages fit many
//!   times over); an error message quotes at most 200 characters, taken from the first 16 KiB
//!   of the body (`EXCERPT_CHARS`, `EXCERPT_INPUT_BYTES` in `wire`), so a 64 MiB error page
//!   costs the work of 16 KiB. The `errors[]` of any answer are read with bounded visitors:
//!   at most 100 errors kept (the rest counted), 64 path segments and locations each,
//!   messages of 1,000 characters read from their first 16 KiB, extensions up to 16 KiB of
//!   JSON; a decode error quotes at most 80 characters of the value it could not read.
//! - **Mutations.** A mutation is re-sent only after a connect failure, a 429 (refused by the
//!   rate limiter before it ran) or the one replay after a 401 (see [`retry`](crate::retry));
//!   a reset or timeout after sending, a `200` whose JSON ends early, or a 5xx is
//!   [`ErrorKind::OutcomeUnknown`], never a second execution.
//! - **Secrets.** The `Authorization` header is marked sensitive; the token in use and the
//!   client secret (as written, `Debug`-escaped or JSON-escaped) are redacted from every
//!   excerpt, ION's 401/403 messages, GraphQL `errors[]` (messages, path keys, extensions),
//!   partial data, decode errors, and the JSON [`Client::execute_raw`](crate::Client::execute_raw)
//!   returns, so no `Error`, log line or untyped response carries them.
//! - **Proxies and redirects.** reqwest's own reading of proxy variables is off; the proxy
//!   [`Config`] resolved (see [its docs](crate::config#proxies)) is asked per request, and
//!   loopback targets (the emulator, a local token URL) never go through one. `localhost`,
//!   which counts as loopback by its name, is not resolved through DNS or a hosts file: it is
//!   pinned to `127.0.0.1` and `::1`. Redirects are not followed: a 3xx is an error naming
//!   its `Location`.
//! - **TLS.** rustls with the platform's trust store for `https://` endpoints; the store is not
//!   loaded when both endpoints are loopback `http://`.
//! - **Tracing.** Each operation runs in a DEBUG span `ion_operation` (name, kind,
//!   environment, attempt, HTTP status, ION's trace id), each attempt in a DEBUG span
//!   `ion_attempt`; a filter such as `ion_client=debug` shows them. Token fetches get an INFO
//!   span `ion_token_fetch` (one per token, not per request).
//!
//! Invariant: no generated type is known here; requests arrive as encoded JSON bytes and
//! leave as the response body, so this module is the same for typed, batched and raw calls.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::Instrument;
use url::Url;

use crate::auth::cache::{AfterUnauthorized, CachedToken, TokenCache};
use crate::auth::keycloak::TokenSource;
use crate::clock::Clock;
use crate::error::human_duration;
use crate::retry::{Decision, Outcome, RateSignal, RetryBudget, decide};
use crate::secret::Secret;
use crate::wire::{
    ReadError, error_chain, excerpt, failure_of, parse_retry_after, read_limited, read_prefix,
};
use crate::{Config, Error, ErrorKind, OperationKind, RetryPolicy, TransportFailure};

/// The most read of an answer other than 200: GraphQL `errors[]` of a 400/422 and error
/// pages fit many times over; the rest of a larger body is never read.
pub(crate) const ERROR_BODY_BYTES: usize = 256 * 1024;

/// The header ION's gateway sets on every response; logged and kept in errors.
const TRACE_ID_HEADER: &str = "x-b3-trace-id";

/// What is being sent, for spans, messages and the retry decision.
#[derive(Clone)]
pub(crate) struct Outgoing<'a> {
    /// The operation name (or a label such as `batch[A, B]`).
    pub(crate) name: &'a str,
    /// Decides the retry policy.
    pub(crate) kind: OperationKind,
    /// The encoded JSON request body.
    pub(crate) body: Bytes,
    /// Reads a 200 body the way the caller will, in its one pass over it, and says whether it
    /// is complete (`false`: its JSON ends early, the attempt was cut short). `None`: the
    /// transport checks with a pass of its own.
    pub(crate) check: Option<BodyCheck<'a>>,
}

/// See [`Outgoing::check`].
pub(crate) type BodyCheck<'a> = &'a (dyn Fn(&[u8]) -> bool + Send + Sync);

/// Record/replay, injected into a client's transport (the `testing` module's fixtures): it is
/// consulted before the network and told what the network answered. It sees request and
/// response bodies only, never a header, token or secret.
pub(crate) trait Exchange: Send + Sync {
    /// A stored response and the fixture it came from, or `None` to use the network.
    fn replay(&self, operation: &str, request: &[u8]) -> Option<Result<(Bytes, String), Error>>;
    /// Stores a response that came from the network, without `secrets` (the token the
    /// request carried and the client secret).
    fn record(
        &self,
        operation: &str,
        request: &[u8],
        response: &[u8],
        secrets: &[&str],
    ) -> Result<(), Error>;
}

/// A response that carries a GraphQL envelope (status 200, or a 400/422 with `errors[]`).
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) body: Bytes,
    pub(crate) trace_id: Option<String>,
    pub(crate) attempts: u32,
    /// The fixture file a replayed response came from, so a decode error can name it
    /// (`testing` record/replay); `None` for responses from the network.
    pub(crate) fixture: Option<String>,
    /// The token the request carried and the client secret: every error built from this
    /// response (GraphQL `errors[]`, decode errors) is redacted of them.
    pub(crate) secrets: Vec<Secret>,
}

impl Delivered {
    /// The secrets to redact, as text.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        self.secrets.iter().map(Secret::expose).collect()
    }
}

/// The outcome of one HTTP attempt.
enum Attempt {
    Delivered(Delivered),
    /// ION answered 401: the token is invalidated and the request replayed once.
    Unauthorized {
        message: String,
        trace_id: Option<String>,
    },
    Failed {
        error: Error,
        retry: Option<RetryHint>,
        trace_id: Option<String>,
    },
}

/// A failure the policy allows to retry.
struct RetryHint {
    retry_after: Option<Duration>,
    after_timeout: bool,
}

/// `application/json`, built at compile time rather than parsed per request.
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The few response headers an answer's classification reads, taken from the response
/// instead of cloning its whole header map on every request.
struct AnswerHeaders {
    retry_after: Option<HeaderValue>,
    location: Option<HeaderValue>,
}

impl AnswerHeaders {
    fn of(headers: &HeaderMap) -> AnswerHeaders {
        AnswerHeaders {
            retry_after: headers.get(header::RETRY_AFTER).cloned(),
            location: headers.get(header::LOCATION).cloned(),
        }
    }
}

/// The HTTP side of a client.
pub(crate) struct Transport {
    http: reqwest::Client,
    graphql_url: Url,
    environment: String,
    attempt_timeout: Duration,
    total_timeout: Duration,
    retry: RetryPolicy,
    budget: RetryBudget,
    /// The 429s this client met, for the bulk jobs sharing it.
    pub(crate) rate_signal: RateSignal,
    max_response_bytes: u64,
    clock: Arc<dyn Clock>,
    client_secret: Secret,
    pub(crate) tokens: TokenCache,
    /// Record/replay, when one was injected: consulted before the network, told after it.
    exchange: Option<Arc<dyn Exchange>>,
}

impl Transport {
    pub(crate) fn new(
        config: &Config,
        exchange: Option<Arc<dyn Exchange>>,
    ) -> Result<Transport, Error> {
        let http = build_http(config)?;
        let env = &config.environment;
        let tokens = TokenCache::new(TokenSource {
            http: http.clone(),
            token_url: env.token_url().clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            audience: config.audience.clone(),
            attempt_timeout: config.attempt_timeout,
            clock: Arc::clone(&config.clock),
            auth_scheme: config.auth_scheme,
        });
        Ok(Transport {
            http,
            graphql_url: env.graphql_url(),
            environment: env.to_string(),
            attempt_timeout: config.attempt_timeout,
            total_timeout: config.total_timeout,
            retry: config.retry.clone(),
            budget: config.retry.new_budget(),
            rate_signal: RateSignal::default(),
            max_response_bytes: config.max_response_bytes,
            clock: Arc::clone(&config.clock),
            client_secret: config.client_secret.clone(),
            tokens,
            exchange,
        })
    }

    /// The HTTP client (its proxy rules, TLS and connection pool), for requests that are not
    /// ION's: it sets no header of ION's by default (the token is added per request), so what
    /// is sent with it to another host carries none.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one request body under the retry policy and returns the response that carries
    /// a GraphQL envelope.
    pub(crate) async fn send(&self, out: Outgoing<'_>) -> Result<Delivered, Error> {
        // DEBUG, like the AWS SDK's per-operation span and tower-http's default: the INFO
        // filter most applications run with then creates no span per request.
        let span = tracing::debug_span!(
            "ion_operation",
            operation = out.name,
            kind = %out.kind,
            environment = %self.environment,
            attempt = tracing::field::Empty,
            http.status = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        if let Some(exchange) = &self.exchange {
            // Replay answers without a token or a connection; record sees only the request
            // and response bodies, never headers, so no token reaches a fixture.
            if let Some(replayed) = exchange.replay(out.name, &out.body) {
                let (body, fixture) = replayed?;
                return Ok(Delivered {
                    body,
                    trace_id: None,
                    attempts: 0,
                    fixture: Some(fixture),
                    // Fixtures were redacted when recorded, and a replaying client's
                    // credentials are placeholders, not secrets: nothing to remove (its
                    // placeholder would remove ordinary words from replayed errors).
                    secrets: Vec::new(),
                });
            }
            let delivered = self.send_inner(&out).instrument(span).await?;
            exchange.record(out.name, &out.body, &delivered.body, &delivered.secrets())?;
            return Ok(delivered);
        }
        self.send_inner(&out).instrument(span).await
    }

    async fn send_inner(&self, out: &Outgoing<'_>) -> Result<Delivered, Error> {
        let started = self.clock.now();
        let mut attempts = 0u32;
        let mut replayed = false;
        let mut retries = 0u32;
        let mut last_trace: Option<String> = None;
        loop {
            let timed_out = |waiting: &str| {
                let error = Error::from_kind(
                    ErrorKind::Transport {
                        failure: TransportFailure::Timeout,
                    },
                    format!(
                        "{} {} timed out{waiting}: the total timeout of {} passed",
                        out.kind,
                        out.name,
                        human_duration(self.total_timeout)
                    ),
                );
                error.with_context(Some(out.name), last_trace.as_deref(), attempts)
            };
            let elapsed = self.clock.now().saturating_duration_since(started);
            let remaining = self.total_timeout.saturating_sub(elapsed);
            if remaining.is_zero() {
                return Err(timed_out(""));
            }
            // Waiting for a token counts against the total timeout; giving up drops only
            // this caller's share of the fetch, which goes on for the others. Token failures
            // are shared by every waiting caller as one `Error`; they are returned unchanged
            // so callers can see it is the same failure.
            let token = match tokio::time::timeout(remaining, self.tokens.get()).await {
                Ok(token) => token?,
                Err(_) => return Err(timed_out(" waiting for an access token")),
            };
            let elapsed = self.clock.now().saturating_duration_since(started);
            let remaining = self.total_timeout.saturating_sub(elapsed);
            if remaining.is_zero() {
                return Err(timed_out(""));
            }
            attempts += 1;
            let attempt_span = tracing::debug_span!(
                "ion_attempt",
                attempt = attempts,
                http.status = tracing::field::Empty,
                trace_id = tracing::field::Empty,
            );
            let op_span = tracing::Span::current();
            op_span.record("attempt", attempts);
            let outcome = self
                .attempt(out, &token, remaining, &op_span, &attempt_span)
                .instrument(attempt_span.clone())
                .await;
            match outcome {
                Attempt::Delivered(mut delivered) => {
                    self.budget.on_success();
                    self.tokens.accepted();
                    delivered.attempts = attempts;
                    return Ok(delivered);
                }
                Attempt::Unauthorized { message, trace_id } => {
                    last_trace = trace_id.or(last_trace);
                    let refused = |said: String| {
                        let error = Error::from_kind(
                            ErrorKind::Authentication {
                                status: Some(401),
                                error: None,
                                description: Some(message.clone()),
                            },
                            format!("authentication failed: ION answered 401 to {said}"),
                        );
                        error.with_context(Some(out.name), last_trace.as_deref(), attempts)
                    };
                    if replayed {
                        // A token fetched for this very request was refused: fetching more
                        // would not help, so the cache keeps it and holds off.
                        self.tokens.refused_fresh_token();
                        return Err(refused(format!(
                            "{} {} again after a token refresh: {message}",
                            out.kind, out.name
                        )));
                    }
                    match self.tokens.unauthorized(token.generation) {
                        AfterUnauthorized::Refetch => {
                            tracing::debug!(
                                "ION answered 401; replaying once with a new token (safe: the \
                                 auth layer rejects before executing)"
                            );
                            replayed = true;
                        }
                        AfterUnauthorized::Refused(wait) => {
                            return Err(refused(format!(
                                "{} {}: {message} (it refused a freshly fetched token too; no \
                                 new token is fetched for {})",
                                out.kind,
                                out.name,
                                human_duration(wait)
                            )));
                        }
                    }
                }
                Attempt::Failed {
                    error,
                    retry,
                    trace_id,
                } => {
                    last_trace = trace_id.or(last_trace);
                    let finish = |error: Error| {
                        error.with_context(Some(out.name), last_trace.as_deref(), attempts)
                    };
                    let Some(hint) = retry else {
                        return Err(finish(error));
                    };
                    let counted = attempts - u32::from(replayed);
                    if counted >= self.retry.max_attempts() {
                        return Err(finish(error));
                    }
                    let delay = match hint.retry_after {
                        Some(wait) if wait > self.retry.max_retry_after() => {
                            tracing::debug!(
                                retry_after = %human_duration(wait),
                                "Retry-After is longer than the policy waits; not retrying"
                            );
                            return Err(finish(error));
                        }
                        Some(wait) => self.retry.retry_after_wait(wait, fastrand::f64()),
                        None => self
                            .retry
                            .backoff(retries.saturating_add(1), fastrand::f64()),
                    };
                    let elapsed = self.clock.now().saturating_duration_since(started);
                    if elapsed.saturating_add(delay) >= self.total_timeout {
                        tracing::debug!(
                            "the next retry would pass the total timeout; not retrying"
                        );
                        return Err(finish(error));
                    }
                    if !self.budget.try_withdraw(hint.after_timeout) {
                        tracing::debug!("retry budget exhausted; not retrying");
                        return Err(finish(error));
                    }
                    retries = retries.saturating_add(1);
                    tracing::debug!(
                        delay = %human_duration(delay),
                        error = %error,
                        "retrying"
                    );
                    self.clock.sleep(delay).await;
                }
            }
        }
    }

    /// One HTTP exchange.
    async fn attempt(
        &self,
        out: &Outgoing<'_>,
        token: &CachedToken,
        remaining: Duration,
        op_span: &tracing::Span,
        attempt_span: &tracing::Span,
    ) -> Attempt {
        let request = self
            .http
            .post(self.graphql_url.clone())
            .header(header::CONTENT_TYPE, JSON)
            .header(header::ACCEPT, JSON)
            .header(header::AUTHORIZATION, token.header.clone())
            .body(out.body.clone());
        let limit = usize::try_from(self.max_response_bytes).unwrap_or(usize::MAX);
        let exchange = async {
            let response = request.send().await.map_err(Stage::Send)?;
            let status = response.status();
            let headers = AnswerHeaders::of(response.headers());
            let trace_id = response
                .headers()
                .get(TRACE_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // Recorded on both spans: the attempt's for its own story, the operation's so
            // that its close line says how the operation ended.
            for span in [attempt_span, op_span] {
                span.record("http.status", status.as_u16());
                if let Some(id) = &trace_id {
                    span.record("trace_id", id.as_str());
                }
            }
            // Only a 200 carries data worth the full limit; any other answer is read up to a
            // small cap (enough for GraphQL errors and an error page's excerpt), so a huge
            // error body costs its first bytes, not its size.
            let body = if status == StatusCode::OK {
                read_limited(response, limit).await
            } else {
                read_prefix(response, ERROR_BODY_BYTES.min(limit))
                    .await
                    .map_err(ReadError::Http)
            }
            .map_err(|e| Stage::Body(e, trace_id.clone()))?;
            Ok::<_, Stage>((status, headers, trace_id, body))
        };
        let timeout = self.attempt_timeout.min(remaining);
        let result = tokio::time::timeout(timeout, exchange).await;
        match result {
            Ok(Ok((status, headers, trace_id, body))) => {
                tracing::debug!(
                    http.status = status.as_u16(),
                    trace_id = trace_id.as_deref(),
                    "response"
                );
                self.classify(out, status, &headers, trace_id, body, token)
            }
            Ok(Err(Stage::Send(e))) => {
                let failure = failure_of(&e);
                self.transport_failure(out, failure, error_chain(&e), Some(e), None)
            }
            Ok(Err(Stage::Body(ReadError::Http(e), trace_id))) => {
                let failure = failure_of(&e);
                self.transport_failure(out, failure, error_chain(&e), Some(e), trace_id)
            }
            Ok(Err(Stage::Body(ReadError::TooLarge, trace_id))) => Attempt::Failed {
                error: Error::from_kind(
                    ErrorKind::ResponseTooLarge {
                        limit: self.max_response_bytes,
                    },
                    format!(
                        "the response to {} {} is larger than the limit of {}",
                        out.kind,
                        out.name,
                        human_bytes(self.max_response_bytes)
                    ),
                ),
                retry: None,
                trace_id,
            },
            Err(_) => self.transport_failure(
                out,
                TransportFailure::Timeout,
                format!("no response within {}", human_duration(timeout)),
                None,
                None,
            ),
        }
    }

    /// The attempt outcome for a failure below HTTP; `source` is reqwest's error, when there
    /// was one.
    fn transport_failure(
        &self,
        out: &Outgoing<'_>,
        failure: TransportFailure,
        detail: String,
        source: Option<reqwest::Error>,
        trace_id: Option<String>,
    ) -> Attempt {
        let with_source = |error: Error| match source {
            Some(source) => error.with_source(source, &[self.client_secret.expose()]),
            None => error,
        };
        let url = &self.graphql_url;
        if let Decision::Retry { after_timeout } = decide(out.kind, Outcome::Transport(failure)) {
            let what = match failure {
                TransportFailure::Connect => format!("could not connect to {url}"),
                TransportFailure::Timeout => format!("timed out waiting for {url}"),
                TransportFailure::Interrupted => {
                    format!("the connection to {url} was interrupted")
                }
            };
            return Attempt::Failed {
                error: with_source(Error::from_kind(
                    ErrorKind::Transport { failure },
                    format!("{} {} failed: {what}: {detail}", out.kind, out.name),
                )),
                retry: Some(RetryHint {
                    retry_after: None,
                    after_timeout,
                }),
                trace_id,
            };
        }
        // Otherwise a mutation that was sent: its outcome is unknown.
        let what = match failure {
            TransportFailure::Timeout => detail,
            _ => format!("the connection was interrupted ({detail})"),
        };
        Attempt::Failed {
            error: with_source(Error::from_kind(
                ErrorKind::OutcomeUnknown {
                    failure: Some(failure),
                    status: None,
                },
                format!(
                    "outcome unknown: mutation {} was sent to {url} but {what}; it may or may not \
                     have executed and was not replayed",
                    out.name
                ),
            )),
            retry: None,
            trace_id,
        }
    }

    /// The attempt outcome for an HTTP response.
    fn classify(
        &self,
        out: &Outgoing<'_>,
        status: StatusCode,
        headers: &AnswerHeaders,
        trace_id: Option<String>,
        body: Bytes,
        token: &CachedToken,
    ) -> Attempt {
        let code = status.as_u16();
        let decision = decide(out.kind, Outcome::Status(code));
        let retry_hint = |retry_after: Option<Duration>| match decision {
            Decision::Retry { after_timeout } => Some(RetryHint {
                retry_after,
                after_timeout,
            }),
            _ => None,
        };
        let secrets = [token.value.expose(), self.client_secret.expose()];
        let delivered_secrets = || vec![token.value.clone(), self.client_secret.clone()];
        let retry_after = headers
            .retry_after
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.clock.system_time()));
        let url = &self.graphql_url;
        // Formatted only on the failure paths that quote it.
        let op = || format!("{} {}", out.kind, out.name);
        let failed = |error: Error, retry: Option<RetryHint>| Attempt::Failed {
            error,
            retry,
            trace_id: trace_id.clone(),
        };
        match code {
            // A 200 whose JSON ends early was cut short on the way (a proxy, a dropped
            // connection with a complete-looking frame): as unknown as an interrupted read, so a
            // query is retried and a mutation is reported as outcome-unknown, never replayed.
            200 if !out
                .check
                .map_or_else(|| !ends_early(&body), |check| check(&body)) =>
            {
                self.transport_failure(
                    out,
                    TransportFailure::Interrupted,
                    format!(
                        "the {} byte response body is JSON that ends early",
                        body.len()
                    ),
                    None,
                    trace_id,
                )
            }
            200 => Attempt::Delivered(Delivered {
                body,
                trace_id,
                attempts: 0,
                fixture: None,
                secrets: delivered_secrets(),
            }),
            400 | 422 if carries_graphql_errors(&body) => Attempt::Delivered(Delivered {
                body,
                trace_id,
                attempts: 0,
                fixture: None,
                secrets: delivered_secrets(),
            }),
            _ if decision == Decision::ReplayWithNewToken => Attempt::Unauthorized {
                message: auth_message(&body, &secrets),
                trace_id,
            },
            403 => {
                let message = auth_message(&body, &secrets);
                failed(
                    Error::from_kind(
                        ErrorKind::Authentication {
                            status: Some(403),
                            error: None,
                            description: Some(message.clone()),
                        },
                        format!(
                            "authentication failed: ION answered 403 to {}: {message}",
                            op()
                        ),
                    ),
                    None,
                )
            }
            429 => {
                self.rate_signal.refused(retry_after, self.clock.now());
                let wait = retry_after
                    .map(|d| format!(" (retry after {})", human_duration(d)))
                    .unwrap_or_default();
                let error = Error::from_kind(
                    ErrorKind::RateLimited { retry_after },
                    format!("rate limited: ION answered 429 to {}{wait}", op()),
                );
                failed(error, retry_hint(retry_after))
            }
            _ if decision == Decision::OutcomeUnknown => failed(
                Error::from_kind(
                    ErrorKind::OutcomeUnknown {
                        failure: None,
                        status: Some(code),
                    },
                    format!(
                        "outcome unknown: mutation {} was sent to {url} but the server answered \
                         HTTP {}: {}; it may or may not have executed and was not replayed",
                        out.name,
                        status_text(status),
                        excerpt(&body, &secrets)
                    ),
                ),
                None,
            ),
            _ => {
                let text = excerpt(&body, &secrets);
                let location = if status.is_redirection() {
                    headers
                        .location
                        .as_ref()
                        .and_then(|v| v.to_str().ok())
                        .map(|l| format!(" (redirect to {l}, not followed)"))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let error = Error::from_kind(
                    ErrorKind::HttpStatus {
                        status: code,
                        excerpt: text.clone(),
                        retry_after,
                    },
                    format!(
                        "{} failed: {url} answered HTTP {}{location}: {text}",
                        op(),
                        status_text(status)
                    ),
                );
                failed(error, retry_hint(retry_after))
            }
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.tokens.shutdown();
    }
}

/// Where an exchange failed.
enum Stage {
    Send(reqwest::Error),
    Body(ReadError, Option<String>),
}

/// `502 Bad Gateway`.
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// `64 MiB` or `1000 bytes`.
pub(crate) fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// Whether a 400/422 body is a GraphQL envelope with `errors[]` (graphene answers invalid
/// documents this way).
fn carries_graphql_errors(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        errors: Vec<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|p| !p.errors.is_empty())
}

/// ION's message from a 401/403 body: JSON `message`, `detail`, `error` or the first
/// `errors[].message`, else a text excerpt.
fn auth_message(body: &[u8], secrets: &[&str]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = ["message", "detail", "error_description", "error"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
            .or_else(|| {
                map.get("errors")
                    .and_then(|e| e.get(0))
                    .and_then(|e| e.get("message"))
                    .and_then(|m| m.as_str())
            });
        if let Some(text) = text {
            return excerpt(text.as_bytes(), secrets);
        }
    }
    excerpt(body, secrets)
}

/// Where `localhost` goes: the loopback addresses, IPv4 first (the emulator listens there).
/// Port 0 keeps the URL's port.
const LOCALHOST: [std::net::SocketAddr; 2] = [
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0),
    std::net::SocketAddr::new(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 0),
];

/// The HTTP client: rustls with the ring provider and the platform's trust store, one
/// connection pool, redirects off, the connect timeout, `localhost` pinned to loopback.
fn build_http(config: &Config) -> Result<reqwest::Client, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("cannot set up TLS: {e}")).with_source(e, &[]))?;
    let env = &config.environment;
    let needs_tls = env.api_base().scheme() == "https" || env.token_url().scheme() == "https";
    let mut tls = if needs_tls {
        let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(|e| {
            Error::config(format!(
                "cannot load the system's CA certificates to verify ION's TLS certificates ({e}); \
                 install the system's CA bundle (ca-certificates)"
            ))
            .with_source(e, &[])
        })?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        // Only loopback http endpoints: no certificate will ever be verified, so the system
        // store is not loaded (it may not exist in a minimal container).
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // reqwest's own reading of the proxy variables is off: `config` reads them (the only
    // module that reads the environment) and this decides per request, loopback never proxied.
    let mut builder = reqwest::Client::builder().no_proxy();
    if !config.proxy.is_empty() {
        let proxy = config.proxy.clone();
        builder = builder.proxy(reqwest::Proxy::custom(move |url| proxy.proxy_for(url)));
    }
    builder
        // `localhost` counts as loopback by its name (plain http allowed, never proxied), so
        // it must reach loopback whatever a resolver or a hosts file says.
        .resolve_to_addrs("localhost", &LOCALHOST)
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .user_agent(config.user_agent.clone())
        .build()
        .map_err(|e| {
            let message = format!("cannot build the HTTP client: {}", error_chain(&e));
            Error::config(message).with_source(e, &[])
        })
}

/// Whether `body` is JSON cut off before its end (as opposed to complete JSON, or something
/// that is not JSON at all, which the envelope decoder reports as a decode error).
pub(crate) fn ends_early(body: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => false,
        Err(e) => e.is_eof() && !body.iter().all(u8::is_ascii_whitespace),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_messages_come_from_common_body_shapes() {
        assert_eq!(
            auth_message(br#"{"message":"Token is expired."}"#, &[]),
            "Token is expired."
        );
        assert_eq!(
            auth_message(br#"{"detail":"Please provide proper credentials"}"#, &[]),
            "Please provide proper credentials"
        );
        assert_eq!(
            auth_message(
                br#"{"errors":[{"message":"Unable to parse authentication token"}]}"#,
                &[]
            ),
            "Unable to parse authentication token"
        );
        assert_eq!(auth_message(b"Token is expired.", &[]), "Token is expired.");
        assert_eq!(
            auth_message(b"bad token tok-1", &["tok-1"]),
            "bad token [redacted]"
        );
    }

    #[test]
    fn graphql_error_bodies_are_recognised() {
        assert!(carries_graphql_errors(br#"{"errors":[{"message":"x"}]}"#));
        assert!(!carries_graphql_errors(br#"{"errors":[]}"#));
        assert!(!carries_graphql_errors(b"<html>"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(64 * 1024 * 1024), "64 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
