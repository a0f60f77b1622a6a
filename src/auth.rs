//! Credentials, the client-credentials exchange with Keycloak, and the token cache.
//!
//! # The cache
//!
//! - One token request at a time: callers that need a token while one is being fetched share
//!   that fetch (1,000 concurrent calls on a cold cache make one request).
//! - A token is refreshed ahead of expiry in proportion to its lifetime: from
//!   `REFRESH_AFTER_FRACTION` (¾) of it, in a background task, while the current token
//!   keeps serving. No caller waits on a refresh while a valid token exists. A token counts
//!   as valid until `expiry_margin` before its expiry (a tenth of its lifetime, at most
//!   30 s), so a request does not leave with a token about to expire. For Keycloak's default
//!   300 s: refreshed from 225 s on, used until 270 s.
//! - A failed fetch never replaces a valid token. It starts a backoff window (1 s, doubling
//!   to 30 s: `TOKEN_RETRY_INITIAL`, `TOKEN_RETRY_MAX`); callers without a valid token
//!   during the window receive that same failure without a new request, and the first call
//!   after it makes one new attempt, shared by everyone waiting. A success heals the cache.
//!   A `Retry-After` on the token endpoint's answer (429, 503) lengthens that window to what
//!   it asks, up to `TOKEN_MAX_RETRY_AFTER` (5 min).
//! - A token's lifetime is the response's `expires_in` (a number, a numeric string or a
//!   float), clamped to `MIN_TOKEN_LIFETIME`..=`MAX_TOKEN_LIFETIME` (30 s to 24 h) with a
//!   warning in the log when it is outside; without one it is `DEFAULT_TOKEN_LIFETIME`
//!   (60 s). So `expires_in: 0` does not turn caching off (100 calls make one token request,
//!   not 100), and `expires_in: 18446744073709551615` cannot overflow the clock. When the
//!   server's tokens really live shorter than the floor, ION's 401 invalidates the token and
//!   the request is replayed once with a new one.
//! - A token the HTTP `Authorization` header cannot carry (control or non-ASCII characters) is
//!   a failed fetch, with its backoff, not a cached token that fails every call.
//! - A token response is read up to `MAX_TOKEN_RESPONSE_BYTES` (256 KiB; Keycloak's are a few
//!   KiB); a larger one is a failed fetch. An error answer is quoted in at most 200 characters
//!   with the client secret redacted; a malformed success body is never quoted (it may hold
//!   part of a token).
//! - A fetch that panics (a bug) or whose task is cancelled (the Tokio runtime that ran it
//!   shut down: a static client shared across `#[tokio::test]` runtimes, a sync wrapper that
//!   makes a runtime per call) never leaves the cache waiting for it: the in-flight slot is
//!   cleared, if it still holds that fetch. A panic is a failed fetch, reported as
//!   [`ErrorKind::Internal`] with its message, and starts a backoff window; a cancellation
//!   says nothing about the endpoint, so it opens no window and the next call starts a new
//!   fetch at once.
//! - A 401 from the API invalidates the token that was sent, and only that one: when it has
//!   already been replaced, the replacement is used, so concurrent 401s cause one refetch.
//! - A caller waits for a token within its operation's total timeout; when that passes, the
//!   caller gets a timeout while the shared fetch goes on for the others.
//! - Dropping the last clone of the client aborts any fetch in flight: no task is left
//!   behind.
//!
//! These numbers are the cache's tuning, not API: they are constants inside the crate, stated
//! here.
//!
//! Invariant: the secret and the tokens are held in `Secret`, whose `Debug` redacts them;
//! they never reach a log line, an error message or a `Display`.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use tracing::Instrument;
use url::Url;

use crate::clock::Clock;
use crate::environment::other_token_path_form;
use crate::error::{excerpt, human_duration};
pub(crate) use crate::secret::Secret;
use crate::wire::{ReadError, read_limited};
use crate::{AuthScheme, Error, ErrorKind, TransportFailure};

/// Refresh starts once this fraction of a token's lifetime has passed.
///
/// Proportional rather than a fixed margin: Keycloak's default lifetime is 300 s, so a fixed
/// five-minute margin would refetch on every call, while ¾ leaves a quarter of any lifetime
/// for the background refresh to finish.
pub(crate) const REFRESH_AFTER_FRACTION: f64 = 0.75;
/// The lifetime assumed when the token response has no usable `expires_in`: short, so a token
/// of unknown lifetime is replaced early rather than used after it expired.
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The shortest lifetime the cache gives a token, whatever `expires_in` says.
///
/// A floor keeps a server that answers `expires_in: 0` (or a few seconds) from turning the
/// cache off: without it every call would make its own token request, each one a "success"
/// that opens no backoff. Should the token really expire sooner, ION's 401 makes the client
/// fetch a new one and replay the request once.
pub(crate) const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(30);
/// The longest lifetime the cache gives a token: a day, far beyond Keycloak's settings, and
/// small enough that instant arithmetic can never overflow.
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest `Retry-After` of the token endpoint that the backoff window honours.
pub(crate) const TOKEN_MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// The first backoff window after a failed token request.
pub(crate) const TOKEN_RETRY_INITIAL: Duration = Duration::from_secs(1);
/// The longest backoff window after repeated failed token requests.
pub(crate) const TOKEN_RETRY_MAX: Duration = Duration::from_secs(30);
/// The largest token response read: a Keycloak token response is a few kilobytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// How long before its expiry a token stops being used: a tenth of its lifetime, at most 30 s.
pub(crate) fn expiry_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(30))
}

/// An access token and when to refresh and stop using it.
pub(crate) struct CachedToken {
    pub(crate) value: Secret,
    /// The `Authorization` value for this token, built once when it is fetched and marked
    /// sensitive (HTTP/2 never indexes it; its `Debug` shows `Sensitive`).
    pub(crate) header: HeaderValue,
    /// Distinguishes tokens, so a 401 invalidates only the token that was sent.
    pub(crate) generation: u64,
    refresh_at: Instant,
    usable_until: Instant,
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &self.value)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl CachedToken {
    /// How long the token stays usable from `now`.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.usable_until.saturating_duration_since(now)
    }
}

/// An access token, as [`Client::access_token`](crate::Client::access_token) hands it out.
///
/// `Debug` never shows the token; [`AccessToken::secret`] is the one deliberate way to read
/// it (for `ion token --show`).
#[derive(Clone)]
pub struct AccessToken {
    pub(crate) value: Secret,
    pub(crate) remaining: Duration,
}

impl AccessToken {
    /// The token itself. Treat it like a password: never log it.
    pub fn secret(&self) -> &str {
        self.value.expose()
    }

    /// How long the client will keep using it (its lifetime less the safety margin).
    pub fn usable_for(&self) -> Duration {
        self.remaining
    }

    /// The claims of a JWT-shaped token (Keycloak's are), decoded without verifying the
    /// signature; `None` for an opaque token.
    pub fn claims(&self) -> Option<serde_json::Value> {
        use base64::Engine as _;
        let payload = self.value.expose().split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &self.value)
            .field("usable_for", &self.remaining)
            .finish()
    }
}

/// Why a token is being fetched, for the span.
#[derive(Debug, Clone, Copy)]
enum FetchReason {
    /// No valid token.
    Cold,
    /// A valid token is serving; this one replaces it ahead of expiry.
    Refresh,
}

impl FetchReason {
    fn as_str(self) -> &'static str {
        match self {
            FetchReason::Cold => "cold",
            FetchReason::Refresh => "refresh",
        }
    }
}

type FetchResult = Result<Arc<CachedToken>, Error>;

/// A fetch in flight: its shared result and the handle that aborts its task.
struct Inflight {
    /// Which fetch this is, so only its own task clears the slot.
    id: u64,
    result: Shared<BoxFuture<'static, FetchResult>>,
    abort: tokio::task::AbortHandle,
}

/// The last failure and the end of its backoff window.
struct Failure {
    error: Error,
    retry_at: Instant,
}

#[derive(Default)]
struct State {
    current: Option<Arc<CachedToken>>,
    inflight: Option<Inflight>,
    failure: Option<Failure>,
    consecutive_failures: u32,
    shut_down: bool,
    /// The id of the last fetch started.
    fetches: u64,
}

/// What the token exchange needs.
pub(crate) struct TokenSource {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) audience: Option<String>,
    pub(crate) attempt_timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// How the token goes into the `Authorization` header.
    pub(crate) auth_scheme: AuthScheme,
}

struct Inner {
    source: TokenSource,
    state: Mutex<State>,
    generations: AtomicU64,
}

/// The token cache of one client. See the [module docs](self).
pub(crate) struct TokenCache {
    inner: Arc<Inner>,
}

impl TokenCache {
    pub(crate) fn new(source: TokenSource) -> TokenCache {
        TokenCache {
            inner: Arc::new(Inner {
                source,
                state: Mutex::new(State::default()),
                generations: AtomicU64::new(0),
            }),
        }
    }

    /// A valid token: the cached one (starting a background refresh when it is due), or the
    /// result of the one fetch in flight, or the failure of the current backoff window.
    pub(crate) async fn get(&self) -> FetchResult {
        let pending = {
            let mut state = self.inner.lock();
            let now = self.inner.source.clock.now();
            if let Some(token) = state.current.clone().filter(|t| now < t.usable_until) {
                let in_backoff = state.failure.as_ref().is_some_and(|f| now < f.retry_at);
                if now >= token.refresh_at && state.inflight.is_none() && !in_backoff {
                    // The result is recorded by the task itself; nobody waits for it.
                    drop(Inner::start_fetch(
                        &self.inner,
                        &mut state,
                        FetchReason::Refresh,
                    ));
                }
                return Ok(token);
            }
            if let Some(inflight) = &state.inflight {
                inflight.result.clone()
            } else if let Some(failure) = state.failure.as_ref().filter(|f| now < f.retry_at) {
                return Err(failure.error.clone());
            } else {
                Inner::start_fetch(&self.inner, &mut state, FetchReason::Cold)
            }
        };
        pending.await
    }

    /// Forgets `generation` if it is still the current token (after ION answered 401 to it).
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut state = self.inner.lock();
        if state
            .current
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            tracing::debug!(generation, "token rejected by ION; fetching a new one");
            state.current = None;
        }
    }

    /// Aborts the fetch in flight, if any; called when the last client clone is dropped.
    pub(crate) fn shutdown(&self) {
        let mut state = self.inner.lock();
        state.shut_down = true;
        if let Some(inflight) = state.inflight.take() {
            inflight.abort.abort();
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent (every update
        // is a single assignment), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spawns one fetch and records it as the one in flight.
    fn start_fetch(
        this: &Arc<Inner>,
        state: &mut State,
        reason: FetchReason,
    ) -> Shared<BoxFuture<'static, FetchResult>> {
        if state.shut_down {
            let err = Error::new(
                ErrorKind::Usage,
                "the client was dropped while a token was being fetched",
            );
            return futures_util::future::ready(Err(err)).boxed().shared();
        }
        state.fetches += 1;
        let id = state.fetches;
        let inner = Arc::clone(this);
        let span = tracing::info_span!(
            "ion_token_fetch",
            token_url = %this.source.token_url,
            client_id = %this.source.client_id,
            reason = reason.as_str(),
            http.status = tracing::field::Empty,
            expires_in = tracing::field::Empty,
        );
        let task = tokio::spawn(
            async move {
                // Clears the slot if this task is dropped before it completes (its runtime
                // shut down); disarmed once the outcome is recorded.
                let mut guard = Unfinished {
                    inner: Arc::clone(&inner),
                    id,
                    armed: true,
                };
                // A panic is a failed fetch like any other: recorded, with its backoff,
                // instead of unwinding through the task and leaving the slot set.
                let result = match AssertUnwindSafe(inner.fetch()).catch_unwind().await {
                    Ok(result) => result,
                    Err(payload) => Err(panicked(payload.as_ref())),
                };
                inner.complete(id, &result);
                guard.armed = false;
                result
            }
            .instrument(span),
        );
        let abort = task.abort_handle();
        let weak = Arc::downgrade(this);
        let result = async move {
            match task.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => Err(panicked(e.into_panic().as_ref())),
                Err(_) => {
                    let dropped = weak.upgrade().is_none_or(|inner| inner.lock().shut_down);
                    Err(Error::new(
                        ErrorKind::Usage,
                        if dropped {
                            "the token request was cancelled because the client was dropped"
                        } else {
                            "the token request was cancelled because the Tokio runtime that ran \
                             it shut down; the next call starts a new one"
                        },
                    ))
                }
            }
        }
        .boxed()
        .shared();
        state.inflight = Some(Inflight {
            id,
            result: result.clone(),
            abort,
        });
        result
    }

    /// Clears the slot of fetch `id`, whose task was dropped before it completed.
    fn abandon(&self, id: u64) {
        let mut state = self.lock();
        if state.inflight.as_ref().is_some_and(|f| f.id == id) {
            state.inflight = None;
            if !state.shut_down {
                tracing::debug!(
                    "token request cancelled (its runtime shut down); the next call starts a new one"
                );
            }
        }
    }

    /// Records the outcome of fetch `id`, unless the slot no longer holds it (the client was
    /// dropped meanwhile).
    fn complete(&self, id: u64, result: &FetchResult) {
        let mut state = self.lock();
        if state.inflight.as_ref().is_none_or(|f| f.id != id) {
            return;
        }
        state.inflight = None;
        match result {
            Ok(token) => {
                state.current = Some(Arc::clone(token));
                state.failure = None;
                state.consecutive_failures = 0;
            }
            Err(error) => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                let backoff = TOKEN_RETRY_INITIAL
                    .saturating_mul(2u32.saturating_pow(state.consecutive_failures - 1))
                    .min(TOKEN_RETRY_MAX);
                // The endpoint's own `Retry-After` wins when it asks for longer.
                let asked = error.retry_after().unwrap_or_default();
                let window = backoff.max(asked.min(TOKEN_MAX_RETRY_AFTER));
                let now = self.source.clock.now();
                let keeps_serving = state.current.as_ref().is_some_and(|t| now < t.usable_until);
                if keeps_serving {
                    tracing::warn!(
                        error = %error,
                        retry_in = %human_duration(window),
                        "token refresh failed; the current token keeps serving until it expires"
                    );
                } else {
                    tracing::warn!(
                        error = %error,
                        retry_in = %human_duration(window),
                        "token request failed"
                    );
                }
                state.failure = Some(Failure {
                    error: error.clone(),
                    retry_at: instant_after(now, window),
                });
            }
        }
    }

    /// One client-credentials exchange.
    async fn fetch(&self) -> FetchResult {
        let src = &self.source;
        let started = src.clock.now();
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &src.client_id),
            ("client_secret", src.client_secret.expose()),
        ];
        if let Some(audience) = &src.audience {
            form.push(("audience", audience));
        }
        let url = &src.token_url;
        let exchange = async {
            let response = src
                .http
                .post(url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::wire::parse_retry_after(v, src.clock.system_time()));
            let body = read_limited(response, MAX_TOKEN_RESPONSE_BYTES).await?;
            Ok::<_, ReadError>((status, retry_after, body))
        };
        let (status, retry_after, body) = match tokio::time::timeout(src.attempt_timeout, exchange)
            .await
        {
            Ok(Ok(pair)) => pair,
            Ok(Err(ReadError::Http(e))) => {
                let failure = if e.is_connect() {
                    TransportFailure::Connect
                } else if e.is_timeout() {
                    TransportFailure::Timeout
                } else {
                    TransportFailure::Interrupted
                };
                return Err(Error::new(
                    ErrorKind::Transport { failure },
                    format!(
                        "token request to {url} failed: {failure}: {}",
                        crate::wire::error_chain(&e)
                    ),
                ));
            }
            Ok(Err(ReadError::TooLarge)) => {
                return Err(Error::new(
                    ErrorKind::ResponseTooLarge {
                        limit: MAX_TOKEN_RESPONSE_BYTES as u64,
                    },
                    format!(
                        "the token endpoint {url} sent a response larger than {MAX_TOKEN_RESPONSE_BYTES} bytes"
                    ),
                ));
            }
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Transport {
                        failure: TransportFailure::Timeout,
                    },
                    format!(
                        "token request to {url} timed out after {}",
                        human_duration(src.attempt_timeout)
                    ),
                ));
            }
        };
        tracing::Span::current().record("http.status", status.as_u16());
        let redact = [src.client_secret.expose()];
        if status.is_success() {
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                Error::new(
                    ErrorKind::Decode {
                        operation: "token request".to_owned(),
                        path: String::new(),
                    },
                    // No excerpt: a malformed success body may hold part of a token.
                    format!(
                        "the token endpoint {url} answered {status} with a body that is not a token response ({}, {} bytes)",
                        crate::wire::json_error_summary(&e),
                        body.len()
                    ),
                )
            })?;
            let Some(value) = parsed.access_token.filter(|t| !t.is_empty()) else {
                return Err(Error::new(
                    ErrorKind::Decode {
                        operation: "token request".to_owned(),
                        path: "access_token".to_owned(),
                    },
                    format!("the token endpoint {url} answered {status} without an access_token"),
                ));
            };
            // The header value is built here, once per token: a token it cannot carry would
            // fail every call until it expired, so it is refused here, where the failure gets
            // a backoff.
            let header = match src.auth_scheme {
                AuthScheme::Bearer => HeaderValue::from_str(&format!("Bearer {value}")),
                AuthScheme::Raw => HeaderValue::from_str(&value),
            };
            let Ok(mut header) = header else {
                return Err(Error::new(
                    ErrorKind::Decode {
                        operation: "token request".to_owned(),
                        path: "access_token".to_owned(),
                    },
                    format!(
                        "the token endpoint {url} answered {status} with an access_token that \
                         cannot be sent in an HTTP header (it holds control or non-ASCII \
                         characters)"
                    ),
                ));
            };
            header.set_sensitive(true);
            let lifetime = match token_lifetime(parsed.expires_in.as_ref()) {
                Lifetime::Given(lifetime) => lifetime,
                Lifetime::Default => DEFAULT_TOKEN_LIFETIME,
                Lifetime::Clamped { given, used } => {
                    tracing::warn!(
                        expires_in = %given,
                        used = %human_duration(used),
                        "the token endpoint's expires_in is outside {}..={}; using the nearest bound",
                        human_duration(MIN_TOKEN_LIFETIME),
                        human_duration(MAX_TOKEN_LIFETIME),
                    );
                    used
                }
                Lifetime::Unreadable(given) => {
                    tracing::warn!(
                        expires_in = %given,
                        used = %human_duration(DEFAULT_TOKEN_LIFETIME),
                        "the token endpoint's expires_in is not a number of seconds; using the default"
                    );
                    DEFAULT_TOKEN_LIFETIME
                }
            };
            tracing::Span::current().record("expires_in", lifetime.as_secs());
            let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(generation, "token acquired");
            return Ok(Arc::new(CachedToken {
                value: Secret::new(value),
                header,
                generation,
                refresh_at: instant_after(started, lifetime.mul_f64(REFRESH_AFTER_FRACTION)),
                usable_until: instant_after(
                    started,
                    lifetime.saturating_sub(expiry_margin(lifetime)),
                ),
            }));
        }
        Err(token_endpoint_error(
            url,
            status.as_u16(),
            &body,
            &redact,
            retry_after,
        ))
    }
}

/// Clears the in-flight slot when a fetch's task is dropped before it completes.
struct Unfinished {
    inner: Arc<Inner>,
    id: u64,
    armed: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.armed {
            self.inner.abandon(self.id);
        }
    }
}

/// The error for a fetch that panicked: a bug, said as such.
fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    Error::new(
        ErrorKind::Internal,
        format!("the token request panicked (a bug in ion-client, please report it): {what}"),
    )
}

/// `at + d`, or the latest instant that can be represented when that overflows: a deadline
/// that far away is never reached, which is what an overflowing one means.
pub(crate) fn instant_after(at: Instant, d: Duration) -> Instant {
    if let Some(later) = at.checked_add(d) {
        return later;
    }
    let mut step = d;
    let mut out = at;
    while !step.is_zero() {
        match out.checked_add(step) {
            Some(later) => out = later,
            None => step /= 2,
        }
    }
    out
}

/// What a token response's `expires_in` says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lifetime {
    /// A number of seconds within the bounds.
    Given(Duration),
    /// Absent or `null`.
    Default,
    /// A number outside the bounds (negative, zero, a few seconds, huge): the nearest bound.
    Clamped {
        /// The value as sent.
        given: String,
        /// The lifetime used.
        used: Duration,
    },
    /// Not a number of seconds (`true`, `"soon"`, an object); the default is used.
    Unreadable(String),
}

/// Reads `expires_in`: an integer, a float or a numeric string, clamped to
/// `MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME`. Never panics, whatever the value.
pub(crate) fn token_lifetime(value: Option<&serde_json::Value>) -> Lifetime {
    use serde_json::Value;
    let seconds = match value {
        None | Some(Value::Null) => return Lifetime::Default,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    let given = || {
        let text = value.map(ToString::to_string).unwrap_or_default();
        text.chars().take(40).collect::<String>()
    };
    let Some(seconds) = seconds.filter(|s| !s.is_nan()) else {
        return Lifetime::Unreadable(given());
    };
    let (min, max) = (
        MIN_TOKEN_LIFETIME.as_secs_f64(),
        MAX_TOKEN_LIFETIME.as_secs_f64(),
    );
    if seconds < min {
        Lifetime::Clamped {
            given: given(),
            used: MIN_TOKEN_LIFETIME,
        }
    } else if seconds > max {
        Lifetime::Clamped {
            given: given(),
            used: MAX_TOKEN_LIFETIME,
        }
    } else {
        Lifetime::Given(Duration::from_secs_f64(seconds))
    }
}

/// The error for a non-success answer of the token endpoint.
fn token_endpoint_error(
    url: &Url,
    status: u16,
    body: &[u8],
    redact: &[&str],
    retry_after: Option<Duration>,
) -> Error {
    let keycloak: Option<KeycloakError> = serde_json::from_slice(body).ok();
    let clean = |s: Option<String>| {
        s.map(|v| {
            let mut v = v;
            for secret in redact {
                if !secret.is_empty() {
                    v = v.replace(secret, "[redacted]");
                }
            }
            v
        })
    };
    let (error, description) = match keycloak {
        Some(k) => (clean(k.error), clean(k.error_description)),
        None => (None, None),
    };
    let said = match (&error, &description) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => excerpt(body, redact),
    };
    match status {
        404 => {
            let hint = match other_token_path_form(url) {
                Some(other) => format!(
                    "; this host may serve the token endpoint at the other path form, {other}"
                ),
                None => String::new(),
            };
            Error::new(
                ErrorKind::Authentication {
                    status: Some(404),
                    error,
                    description,
                },
                format!(
                    "authentication failed: the token endpoint {url} answered 404 ({said}){hint}"
                ),
            )
        }
        400 | 401 | 403 => Error::new(
            ErrorKind::Authentication {
                status: Some(status),
                error,
                description,
            },
            format!("authentication failed: the token endpoint {url} answered {status}: {said}"),
        ),
        429 => Error::new(
            ErrorKind::RateLimited { retry_after },
            format!(
                "rate limited: the token endpoint {url} answered 429{}: {said}",
                wait(retry_after)
            ),
        ),
        _ => Error::new(
            ErrorKind::HttpStatus {
                status,
                excerpt: said.clone(),
                retry_after,
            },
            format!(
                "the token endpoint {url} answered HTTP {status}{}: {said}",
                wait(retry_after)
            ),
        ),
    }
}

/// ` (retry after 10s)`, or nothing.
fn wait(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {})", human_duration(d)))
        .unwrap_or_default()
}

/// Keycloak's token response; only what the cache uses. `expires_in` is read leniently (see
/// [`token_lifetime`]).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// Keycloak's error body.
#[derive(Deserialize)]
struct KeycloakError {
    error: Option<String>,
    error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_in_is_read_leniently_and_clamped() {
        use serde_json::json;
        let secs = Duration::from_secs;
        let read = |v: serde_json::Value| token_lifetime(Some(&v));
        assert_eq!(read(json!(3599)), Lifetime::Given(secs(3599)));
        assert_eq!(read(json!("3599")), Lifetime::Given(secs(3599)));
        assert_eq!(read(json!(" 300 ")), Lifetime::Given(secs(300)));
        assert_eq!(
            read(json!(299.5)),
            Lifetime::Given(Duration::from_millis(299_500))
        );
        assert_eq!(token_lifetime(None), Lifetime::Default);
        assert_eq!(read(json!(null)), Lifetime::Default);
        let clamped = |given: &str, used| Lifetime::Clamped {
            given: given.to_owned(),
            used,
        };
        assert_eq!(read(json!(0)), clamped("0", MIN_TOKEN_LIFETIME));
        assert_eq!(read(json!(-5)), clamped("-5", MIN_TOKEN_LIFETIME));
        assert_eq!(read(json!("2")), clamped("\"2\"", MIN_TOKEN_LIFETIME));
        assert_eq!(
            read(json!(u64::MAX)),
            clamped("18446744073709551615", MAX_TOKEN_LIFETIME)
        );
        assert_eq!(read(json!(1e300)), clamped("1e+300", MAX_TOKEN_LIFETIME));
        assert_eq!(
            read(json!("soon")),
            Lifetime::Unreadable("\"soon\"".to_owned())
        );
        assert_eq!(read(json!(true)), Lifetime::Unreadable("true".to_owned()));
        assert_eq!(
            read(json!("NaN")),
            Lifetime::Unreadable("\"NaN\"".to_owned())
        );
        assert_eq!(read(json!("inf")), clamped("\"inf\"", MAX_TOKEN_LIFETIME));
    }

    #[test]
    fn instants_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            instant_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let far = instant_after(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(1_000_000_000));
        assert_eq!(instant_after(far, Duration::MAX), far);
    }

    #[test]
    fn margins_scale_with_lifetime() {
        assert_eq!(
            expiry_margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            expiry_margin(Duration::from_secs(60)),
            Duration::from_secs(6)
        );
        assert_eq!(
            expiry_margin(Duration::from_secs(36_000)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn keycloak_errors_are_quoted_and_the_secret_is_not() {
        let url = Url::parse("https://auth.example/realms/api-keys/protocol/openid-connect/token")
            .expect("valid");
        let body = br#"{"error":"unauthorized_client","error_description":"Invalid client secret s3cret"}"#;
        let err = token_endpoint_error(&url, 401, body, &["s3cret"], None);
        assert_eq!(
            err.to_string(),
            "authentication failed: the token endpoint https://auth.example/realms/api-keys/protocol/openid-connect/token \
             answered 401: unauthorized_client: Invalid client secret [redacted]"
        );
        assert!(matches!(
            err.kind(),
            ErrorKind::Authentication { status: Some(401), error: Some(e), .. } if e == "unauthorized_client"
        ));
    }

    #[test]
    fn a_404_names_the_other_path_form() {
        let url =
            Url::parse("https://auth.example/auth/realms/api-keys/protocol/openid-connect/token")
                .expect("valid");
        let err =
            token_endpoint_error(&url, 404, br#"{"error":"Realm does not exist"}"#, &[], None);
        assert_eq!(
            err.to_string(),
            "authentication failed: the token endpoint https://auth.example/auth/realms/api-keys/protocol/openid-connect/token \
             answered 404 (Realm does not exist); this host may serve the token endpoint at the other path form, \
             https://auth.example/realms/api-keys/protocol/openid-connect/token"
        );
    }
}
