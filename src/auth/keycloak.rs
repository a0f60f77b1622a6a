//! The client-credentials exchange with Keycloak: the form a token request posts, how its
//! answer is read (`expires_in` leniently, a token the `Authorization` header cannot carry
//! refused), and the error each refusal means. One exchange per call; caching, sharing and
//! backoff are the [cache](super::cache)'s.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use crate::clock::Clock;
use crate::environment::other_token_path_form;
use crate::error::human_duration;
use crate::secret::{Secret, redact};
use crate::wire::{
    ReadError, error_chain, excerpt, failure_of, json_error_summary, parse_retry_after,
    read_limited,
};
use crate::{AuthScheme, Error, ErrorKind, TransportFailure};

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
/// The largest token response read: a Keycloak token response is a few kilobytes.
const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

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

/// A token the endpoint issued.
pub(crate) struct Issued {
    pub(crate) value: Secret,
    /// The `Authorization` value, marked sensitive.
    pub(crate) header: HeaderValue,
    /// How long it lives, `expires_in` read and clamped.
    pub(crate) lifetime: Duration,
}

/// One client-credentials exchange: the form post, the answer read up to
/// [`MAX_TOKEN_RESPONSE_BYTES`] within the attempt timeout, and the token or the error it
/// means. Records `http.status` and `expires_in` on the current span.
pub(crate) async fn exchange(src: &TokenSource) -> Result<Issued, Error> {
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
            .and_then(|v| parse_retry_after(v, src.clock.system_time()));
        let body = read_limited(response, MAX_TOKEN_RESPONSE_BYTES).await?;
        Ok::<_, ReadError>((status, retry_after, body))
    };
    let (status, retry_after, body) = match tokio::time::timeout(src.attempt_timeout, exchange)
        .await
    {
        Ok(Ok(pair)) => pair,
        Ok(Err(ReadError::Http(e))) => {
            let failure = failure_of(&e);
            let message = format!(
                "token request to {url} failed: {failure}: {}",
                error_chain(&e)
            );
            return Err(Error::from_kind(ErrorKind::Transport { failure }, message)
                .with_source(e, &[src.client_secret.expose()]));
        }
        Ok(Err(ReadError::TooLarge)) => {
            return Err(Error::from_kind(
                ErrorKind::ResponseTooLarge {
                    limit: MAX_TOKEN_RESPONSE_BYTES as u64,
                },
                format!(
                    "the token endpoint {url} sent a response larger than {MAX_TOKEN_RESPONSE_BYTES} bytes"
                ),
            ));
        }
        Err(_) => {
            return Err(Error::from_kind(
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
    let secrets = [src.client_secret.expose()];
    if status.is_success() {
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            Error::from_kind(
                ErrorKind::Decode {
                    operation: "token request".to_owned(),
                    path: String::new(),
                },
                // No excerpt: a malformed success body may hold part of a token.
                format!(
                    "the token endpoint {url} answered {status} with a body that is not a token response ({}, {} bytes)",
                    json_error_summary(&e),
                    body.len()
                ),
            )
        })?;
        let Some(value) = parsed.access_token.filter(|t| !t.is_empty()) else {
            return Err(Error::from_kind(
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
            return Err(Error::from_kind(
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
        let lifetime = match token_lifetime(parsed.expires_in.as_deref()) {
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
        return Ok(Issued {
            value: Secret::new(value),
            header,
            lifetime,
        });
    }
    Err(token_endpoint_error(
        url,
        status.as_u16(),
        &body,
        &secrets,
        retry_after,
    ))
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
/// `MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME`. Read from the JSON text, so a number beyond
/// `f64` (`1e400`, valid JSON) is a huge value clamped like any other rather than an error.
/// Never panics, whatever the value.
pub(crate) fn token_lifetime(value: Option<&RawValue>) -> Lifetime {
    let Some(text) = value.map(|v| v.get().trim()).filter(|t| *t != "null") else {
        return Lifetime::Default;
    };
    let seconds = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        // JSON's number syntax is a subset of Rust's float syntax; a number beyond `f64`
        // reads as an infinity.
        text.parse::<f64>().ok()
    } else {
        None
    };
    let given = || text.chars().take(40).collect::<String>();
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
    secrets: &[&str],
    retry_after: Option<Duration>,
) -> Error {
    let keycloak: Option<KeycloakError> = serde_json::from_slice(body).ok();
    let clean = |s: Option<String>| s.map(|v| redact(&v, secrets));
    let (error, description) = match keycloak {
        Some(k) => (clean(k.error), clean(k.error_description)),
        None => (None, None),
    };
    let said = match (&error, &description) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => excerpt(body, secrets),
    };
    match status {
        404 => {
            let hint = match other_token_path_form(url) {
                Some(other) => format!(
                    "; this host may serve the token endpoint at the other path form, {other}"
                ),
                None => String::new(),
            };
            Error::from_kind(
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
        400 | 401 | 403 => Error::from_kind(
            ErrorKind::Authentication {
                status: Some(status),
                error,
                description,
            },
            format!("authentication failed: the token endpoint {url} answered {status}: {said}"),
        ),
        429 => Error::from_kind(
            ErrorKind::RateLimited { retry_after },
            format!(
                "rate limited: the token endpoint {url} answered 429{}: {said}",
                wait(retry_after)
            ),
        ),
        _ => Error::from_kind(
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
    expires_in: Option<Box<RawValue>>,
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
        let secs = Duration::from_secs;
        let read = |json: &str| {
            let raw = RawValue::from_string(json.to_owned()).expect("JSON");
            token_lifetime(Some(&raw))
        };
        assert_eq!(read("3599"), Lifetime::Given(secs(3599)));
        assert_eq!(read(r#""3599""#), Lifetime::Given(secs(3599)));
        assert_eq!(read(r#"" 300 ""#), Lifetime::Given(secs(300)));
        assert_eq!(
            read("299.5"),
            Lifetime::Given(Duration::from_millis(299_500))
        );
        assert_eq!(token_lifetime(None), Lifetime::Default);
        assert_eq!(read("null"), Lifetime::Default);
        let clamped = |given: &str, used| Lifetime::Clamped {
            given: given.to_owned(),
            used,
        };
        assert_eq!(read("0"), clamped("0", MIN_TOKEN_LIFETIME));
        assert_eq!(read("-5"), clamped("-5", MIN_TOKEN_LIFETIME));
        assert_eq!(read(r#""2""#), clamped(r#""2""#, MIN_TOKEN_LIFETIME));
        assert_eq!(
            read("18446744073709551615"),
            clamped("18446744073709551615", MAX_TOKEN_LIFETIME)
        );
        assert_eq!(read("1e300"), clamped("1e300", MAX_TOKEN_LIFETIME));
        // Beyond f64: valid JSON all the same.
        assert_eq!(read("1e400"), clamped("1e400", MAX_TOKEN_LIFETIME));
        assert_eq!(read("-1E+400"), clamped("-1E+400", MIN_TOKEN_LIFETIME));
        assert_eq!(read("1e-400"), clamped("1e-400", MIN_TOKEN_LIFETIME));
        assert_eq!(
            read(r#""soon""#),
            Lifetime::Unreadable(r#""soon""#.to_owned())
        );
        assert_eq!(read("true"), Lifetime::Unreadable("true".to_owned()));
        assert_eq!(
            read(r#""NaN""#),
            Lifetime::Unreadable(r#""NaN""#.to_owned())
        );
        assert_eq!(read(r#""inf""#), clamped(r#""inf""#, MAX_TOKEN_LIFETIME));
        assert_eq!(
            read(r#"{"a": 1}"#),
            Lifetime::Unreadable(r#"{"a": 1}"#.to_owned())
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
