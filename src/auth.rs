//! Credentials, the client-credentials exchange with Keycloak, and the token cache.
//!
//! # The cache
//!
//! - One token request at a time: callers that need a token while one is being fetched share
//!   that fetch (1,000 concurrent calls on a cold cache make one request).
//! - A token is refreshed ahead of expiry in proportion to its lifetime: from
//!   [`REFRESH_AFTER_FRACTION`] (¾) of it, in a background task, while the current token
//!   keeps serving. No caller waits on a refresh while a valid token exists. A token counts
//!   as valid until [`expiry_margin`] before its expiry (a tenth of its lifetime, at most
//!   30 s), so a request does not leave with a token about to expire. For Keycloak's default
//!   300 s: refreshed from 225 s on, used until 270 s.
//! - A failed fetch never replaces a valid token. It starts a backoff window (1 s, doubling
//!   to 30 s: [`TOKEN_RETRY_INITIAL`], [`TOKEN_RETRY_MAX`]); callers without a valid token
//!   during the window receive that same failure without a new request, and the first call
//!   after it makes one new attempt, shared by everyone waiting. A success heals the cache.
//! - A 401 from the API invalidates the token that was sent, and only that one: when it has
//!   already been replaced, the replacement is used, so concurrent 401s cause one refetch.
//! - Dropping the last clone of the client aborts any fetch in flight: no task is left
//!   behind.
//!
//! Invariant: the secret and the tokens are held in `Secret`, whose `Debug` redacts them;
//! they never reach a log line, an error message or a `Display`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde::Deserialize;
use tracing::Instrument;
use url::Url;

use crate::clock::Clock;
use crate::environment::other_token_path_form;
use crate::error::{excerpt, human_duration};
use crate::{Error, ErrorKind, TransportFailure};

/// Refresh starts once this fraction of a token's lifetime has passed.
///
/// Proportional rather than a fixed margin: Keycloak's default lifetime is 300 s, so a fixed
/// five-minute margin would refetch on every call, while ¾ leaves a quarter of any lifetime
/// for the background refresh to finish.
pub const REFRESH_AFTER_FRACTION: f64 = 0.75;
/// The lifetime assumed when the token response has no `expires_in`: short, so a token of
/// unknown lifetime is replaced early rather than used after it expired.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The first backoff window after a failed token request.
pub const TOKEN_RETRY_INITIAL: Duration = Duration::from_secs(1);
/// The longest backoff window after repeated failed token requests.
pub const TOKEN_RETRY_MAX: Duration = Duration::from_secs(30);
/// The largest token response read: a Keycloak token response is a few kilobytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// How long before its expiry a token stops being used: a tenth of its lifetime, at most 30 s.
pub fn expiry_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(30))
}

/// A secret string (the client secret or an access token). `Debug` prints `[redacted]`; there
/// is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An access token and when to refresh and stop using it.
pub(crate) struct CachedToken {
    pub(crate) value: Secret,
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
                let result = inner.fetch().await;
                inner.complete(&result);
                result
            }
            .instrument(span),
        );
        let abort = task.abort_handle();
        let result = async move {
            match task.await {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    ErrorKind::Usage,
                    "the token request was cancelled because the client was dropped",
                )),
            }
        }
        .boxed()
        .shared();
        state.inflight = Some(Inflight {
            result: result.clone(),
            abort,
        });
        result
    }

    /// Records a fetch's outcome.
    fn complete(&self, result: &FetchResult) {
        let mut state = self.lock();
        state.inflight = None;
        match result {
            Ok(token) => {
                state.current = Some(Arc::clone(token));
                state.failure = None;
                state.consecutive_failures = 0;
            }
            Err(error) => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                let window = TOKEN_RETRY_INITIAL
                    .saturating_mul(2u32.saturating_pow(state.consecutive_failures - 1))
                    .min(TOKEN_RETRY_MAX);
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
                    retry_at: now + window,
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
            let body = read_limited(response, MAX_TOKEN_RESPONSE_BYTES).await?;
            Ok::<_, ReadError>((status, body))
        };
        let (status, body) = match tokio::time::timeout(src.attempt_timeout, exchange).await {
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
                        crate::transport::error_chain(&e)
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
                        crate::client::json_error_summary(&e),
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
            let lifetime = parsed
                .expires_in
                .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
            tracing::Span::current().record("expires_in", lifetime.as_secs());
            let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(generation, "token acquired");
            return Ok(Arc::new(CachedToken {
                value: Secret::new(value),
                generation,
                refresh_at: started + lifetime.mul_f64(REFRESH_AFTER_FRACTION),
                usable_until: started + lifetime - expiry_margin(lifetime),
            }));
        }
        Err(token_endpoint_error(url, status.as_u16(), &body, &redact))
    }
}

/// The error for a non-success answer of the token endpoint.
fn token_endpoint_error(url: &Url, status: u16, body: &[u8], redact: &[&str]) -> Error {
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
            ErrorKind::RateLimited { retry_after: None },
            format!("rate limited: the token endpoint {url} answered 429: {said}"),
        ),
        _ => Error::new(
            ErrorKind::HttpStatus {
                status,
                excerpt: said.clone(),
                retry_after: None,
            },
            format!("the token endpoint {url} answered HTTP {status}: {said}"),
        ),
    }
}

/// Keycloak's token response; only what the cache uses.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// Keycloak's error body.
#[derive(Deserialize)]
struct KeycloakError {
    error: Option<String>,
    error_description: Option<String>,
}

/// A body read that failed.
pub(crate) enum ReadError {
    Http(reqwest::Error),
    TooLarge,
}

impl From<reqwest::Error> for ReadError {
    fn from(e: reqwest::Error) -> ReadError {
        ReadError::Http(e)
    }
}

/// Reads a response body, refusing more than `limit` bytes without reading them.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<bytes::Bytes, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_debug_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
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
        let err = token_endpoint_error(&url, 401, body, &["s3cret"]);
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
        let err = token_endpoint_error(&url, 404, br#"{"error":"Realm does not exist"}"#, &[]);
        assert_eq!(
            err.to_string(),
            "authentication failed: the token endpoint https://auth.example/auth/realms/api-keys/protocol/openid-connect/token \
             answered 404 (Realm does not exist); this host may serve the token endpoint at the other path form, \
             https://auth.example/realms/api-keys/protocol/openid-connect/token"
        );
    }
}
