//! The token cache of one client: one fetch at a time shared by every caller, refresh ahead
//! of expiry in the background, backoff windows after failures, per-token invalidation on a
//! 401, and an in-flight slot that a panicking or cancelled fetch never strands. Its rules are
//! stated in the [`auth`](super) module's docs; each fetch is one
//! [`keycloak::exchange`].

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use reqwest::header::HeaderValue;
use tracing::Instrument;

use super::keycloak::{self, TokenSource};
use crate::clock::instant_after;
use crate::error::human_duration;
use crate::secret::Secret;
use crate::{Error, ErrorKind};

/// Refresh starts once this fraction of a token's lifetime has passed.
///
/// Proportional rather than a fixed margin: Keycloak's default lifetime is 300 s, so a fixed
/// five-minute margin would refetch on every call, while ¾ leaves a quarter of any lifetime
/// for the background refresh to finish.
pub(crate) const REFRESH_AFTER_FRACTION: f64 = 0.75;
/// The longest `Retry-After` of the token endpoint that the backoff window honours.
pub(crate) const TOKEN_MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// The first backoff window after a failed token request.
pub(crate) const TOKEN_RETRY_INITIAL: Duration = Duration::from_secs(1);
/// The longest backoff window after repeated failed token requests.
pub(crate) const TOKEN_RETRY_MAX: Duration = Duration::from_secs(30);

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
    /// Set when the fetch's task is dropped before it recorded its outcome (see
    /// [`Unfinished`]).
    abandoned: Arc<AtomicBool>,
}

impl Inflight {
    /// Whether this fetch will never record an outcome: its task was dropped (its runtime
    /// shut down, perhaps before ever polling it) or has ended. A fetch that records its
    /// outcome takes itself out of the slot first, under the lock, so a task that has ended
    /// while still in the slot is one that never will.
    fn is_dead(&self) -> bool {
        self.abandoned.load(Ordering::Acquire) || self.abort.is_finished()
    }
}

/// The last failure and the end of its backoff window.
struct Failure {
    error: Error,
    retry_at: Instant,
}

/// ION refused a token fetched in answer to its 401: until `until`, a 401 is returned
/// without fetching another.
struct Refusal {
    until: Instant,
}

/// What a caller does after ION answered 401 to its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterUnauthorized {
    /// The token is forgotten (unless already replaced): fetch one and replay the request.
    Refetch,
    /// ION refused a fresh token moments ago: return the 401 now, without a token request.
    /// The window ends after this long.
    Refused(Duration),
}

#[derive(Default)]
struct State {
    current: Option<Arc<CachedToken>>,
    inflight: Option<Inflight>,
    failure: Option<Failure>,
    consecutive_failures: u32,
    /// The window in which ION's 401s fetch no new token, after it refused a fresh one.
    refusal: Option<Refusal>,
    /// Refusals of fresh tokens since ION last accepted one: each doubles the next window.
    consecutive_refusals: u32,
    shut_down: bool,
    /// The id of the last fetch started.
    fetches: u64,
}

struct Inner {
    source: TokenSource,
    state: Mutex<State>,
    generations: AtomicU64,
    /// Whether a refusal is recorded, read without the lock on every accepted request.
    refusing: AtomicBool,
}

/// The token cache of one client. Its rules are in the [`auth`](super) module docs.
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
                refusing: AtomicBool::new(false),
            }),
        }
    }

    /// A valid token: the cached one (starting a background refresh when it is due), or the
    /// result of the one fetch in flight, or the failure of the current backoff window.
    pub(crate) async fn get(&self) -> FetchResult {
        let pending = {
            let mut state = self.inner.lock();
            if state.inflight.as_ref().is_some_and(Inflight::is_dead) {
                state.inflight = None;
                tracing::debug!(
                    "token request cancelled (its runtime shut down); the next fetch starts now"
                );
            }
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

    /// ION answered 401 to token `generation`: within a refusal window the 401 stands;
    /// otherwise the token is forgotten if it is still the current one (when another caller
    /// has already replaced it, the replacement serves) and the caller fetches and replays.
    pub(crate) fn unauthorized(&self, generation: u64) -> AfterUnauthorized {
        let mut state = self.inner.lock();
        let now = self.inner.source.clock.now();
        if let Some(refusal) = state.refusal.as_ref().filter(|r| now < r.until) {
            return AfterUnauthorized::Refused(refusal.until.saturating_duration_since(now));
        }
        if state
            .current
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            tracing::debug!(generation, "token rejected by ION; fetching a new one");
            state.current = None;
        }
        AfterUnauthorized::Refetch
    }

    /// ION answered 401 again to a request replayed with a token fetched for it: ION refuses
    /// fresh tokens (clock skew, a wrong realm or audience, revoked permissions), so the
    /// token is kept and a window opens in which 401s fetch no new token (1 s, doubling to
    /// 30 s with each refusal until ION accepts a token again). Returns the window's length.
    pub(crate) fn refused_fresh_token(&self) -> Duration {
        let mut state = self.inner.lock();
        let now = self.inner.source.clock.now();
        if let Some(refusal) = state.refusal.as_ref().filter(|r| now < r.until) {
            // Concurrent replays refused together open one window.
            return refusal.until.saturating_duration_since(now);
        }
        state.consecutive_refusals = state.consecutive_refusals.saturating_add(1);
        let window = backoff(state.consecutive_refusals);
        tracing::warn!(
            retry_in = %human_duration(window),
            "ION refused a freshly fetched token; its 401s fetch no new token until then"
        );
        state.refusal = Some(Refusal {
            until: instant_after(now, window),
        });
        self.inner.refusing.store(true, Ordering::Release);
        window
    }

    /// ION answered a request without a 401: its tokens are accepted, so any refusal window
    /// closes and the next one starts again from 1 s. Costs one atomic read otherwise.
    pub(crate) fn accepted(&self) {
        if self.inner.refusing.load(Ordering::Acquire) {
            let mut state = self.inner.lock();
            state.refusal = None;
            state.consecutive_refusals = 0;
            self.inner.refusing.store(false, Ordering::Release);
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
            let err = Error::from_kind(
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
        // Made before the spawn and moved into the task, so that it is dropped with the task
        // even when the task never runs: a runtime that shuts down drops the tasks it never
        // polled, and one already shutting down drops a new task inside `spawn` itself.
        let abandoned = Arc::new(AtomicBool::new(false));
        let guard = Unfinished {
            abandoned: Arc::clone(&abandoned),
            armed: true,
        };
        let task = tokio::spawn(
            async move {
                // A panic is a failed fetch like any other: recorded, with its backoff,
                // instead of unwinding through the task and leaving the slot set.
                let result = match AssertUnwindSafe(inner.fetch()).catch_unwind().await {
                    Ok(result) => result,
                    Err(payload) => Err(panicked(payload.as_ref())),
                };
                inner.complete(id, &result);
                guard.disarm();
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
                    // A cancelled fetch frees the slot, so the next call starts a new one.
                    let dropped = weak.upgrade().is_none_or(|inner| inner.abandon(id));
                    Err(Error::from_kind(
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
            abandoned,
        });
        result
    }

    /// Clears the slot of fetch `id`, whose task was dropped before it completed; says
    /// whether the client was dropped (rather than the runtime that ran the fetch).
    fn abandon(&self, id: u64) -> bool {
        let mut state = self.lock();
        if state.inflight.as_ref().is_some_and(|f| f.id == id) {
            state.inflight = None;
            if !state.shut_down {
                tracing::debug!(
                    "token request cancelled (its runtime shut down); the next call starts a new one"
                );
            }
        }
        state.shut_down
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
                let backoff = backoff(state.consecutive_failures);
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

    /// One fetch: the exchange, and the token it issued with its refresh and expiry instants
    /// counted from when the request left.
    async fn fetch(&self) -> FetchResult {
        let started = self.source.clock.now();
        let issued = keycloak::exchange(&self.source).await?;
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(generation, "token acquired");
        let lifetime = issued.lifetime;
        Ok(Arc::new(CachedToken {
            value: issued.value,
            header: issued.header,
            generation,
            refresh_at: instant_after(started, lifetime.mul_f64(REFRESH_AFTER_FRACTION)),
            usable_until: instant_after(started, lifetime.saturating_sub(expiry_margin(lifetime))),
        }))
    }
}

/// The window after the `n`th failure in a row (from 1): `TOKEN_RETRY_INITIAL` doubling up to
/// `TOKEN_RETRY_MAX`.
fn backoff(n: u32) -> Duration {
    TOKEN_RETRY_INITIAL
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(TOKEN_RETRY_MAX)
}

/// Marks a fetch abandoned when its task is dropped before the fetch recorded its outcome;
/// the next [`TokenCache::get`] then clears it from the slot and starts a new one.
///
/// It only sets a flag: it may be dropped inside `tokio::spawn`, while the state's lock is
/// held by the caller that is starting the fetch, so it must not take that lock.
struct Unfinished {
    abandoned: Arc<AtomicBool>,
    armed: bool,
}

impl Unfinished {
    /// The fetch recorded its outcome. (Taking `self` moves the guard into the task.)
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.armed {
            self.abandoned.store(true, Ordering::Release);
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
    Error::from_kind(
        ErrorKind::Internal,
        format!("the token request panicked (a bug in ion-client, please report it): {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
