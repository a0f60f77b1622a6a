//! Access tokens: how the client gets them (the client-credentials exchange with Keycloak,
//! in `keycloak`) and keeps them (the token cache, in `cache`), and [`AccessToken`], a token
//! as the client hands it out.
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
//!   makes a runtime per call, a caller cancelled in the poll that spawned the fetch) never
//!   leaves the cache waiting for it, even when its runtime dropped it before ever running
//!   it: the next call finds it dead, clears the in-flight slot and starts a new fetch. A
//!   panic is a failed fetch, reported as
//!   [`ErrorKind::Internal`](crate::ErrorKind::Internal) with its message, and starts a backoff window; a cancellation
//!   says nothing about the endpoint, so it opens no window and the next call starts a new
//!   fetch at once.
//! - A 401 from the API invalidates the token that was sent, and only that one: when it has
//!   already been replaced, the replacement is used, so concurrent 401s cause one refetch.
//! - When ION answers 401 to the request replayed with a token fetched for it too, ION is
//!   refusing every token (clock skew, a wrong realm or audience, revoked permissions): that
//!   token is kept, and for a window (1 s, doubling to 30 s: `TOKEN_RETRY_INITIAL`,
//!   `TOKEN_RETRY_MAX`) a 401 is returned at once, without a token request or a replay; the
//!   first 401 after the window refetches and replays once more. Any answer other than a 401
//!   closes the window and starts the doubling over. 1,000 calls 100 ms apart against an
//!   ION that refuses every token make 9 token requests, not 2,000.
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

pub(crate) mod cache;
pub(crate) mod keycloak;

use std::fmt;
use std::time::Duration;

use crate::secret::Secret;

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
