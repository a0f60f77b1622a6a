//! Configuration: where ION is, who is calling, and the limits of each call.
//!
//! Invariant: this is the only module that reads environment variables.
//!
//! # Environment variables
//!
//! [`Config::from_env`] (and [`ConfigBuilder::with_env`]) read:
//!
//! | variable | meaning |
//! |---|---|
//! | `ION_ENV` | an environment name or host ([`Environment`]'s `FromStr`): `staging`, `sandbox`, `production`, `gov-staging`, `app.ion-gov.com`, ... |
//! | `ION_API_URL` | the API base URL (`/graphql` is appended; a trailing `/graphql` is accepted) |
//! | `ION_TOKEN_URL` | the full token endpoint URL |
//! | `ION_CLIENT_ID` | the API key's client id |
//! | `ION_CLIENT_SECRET` | the API key's client secret |
//! | `ION_API_URI` | First Resonance's name for `ION_API_URL` |
//! | `ION_AUTH_SERVER` | First Resonance's auth server base URL; the realm path is derived (see below) |
//! | `ION_API_AUDIENCE` | the optional `audience` form field of the token request |
//!
//! Resolution: `ION_ENV` gives both endpoints; `ION_API_URL`/`ION_API_URI` and
//! `ION_TOKEN_URL`/`ION_AUTH_SERVER` override one each. With only an API URL, a known ION API
//! host implies its token URL. When both names of one setting are set to different values the
//! configuration is refused rather than guessed. `ION_AUTH_SERVER` resolves a known auth host
//! to its deployment's token URL, keeps a URL that already ends in
//! `/protocol/openid-connect/token`, and otherwise appends
//! `/auth/realms/api-keys/protocol/openid-connect/token` (the form First Resonance's scripts
//! use).
//!
//! # Proxies
//!
//! [`Config::from_env`] (and [`ConfigBuilder::with_env`]) also read the proxy variables
//! corporate networks set, as curl does: `HTTPS_PROXY` for `https://` endpoints, `HTTP_PROXY`
//! for `http://` ones, `ALL_PROXY` for either when the specific one is unset, and `NO_PROXY`
//! (comma-separated host names, each matching itself and its subdomains, a leading `.` or `*.`
//! ignored, IP addresses matched exactly, `*` for every host). Lower-case names are read when
//! the upper-case one is unset. [`ConfigBuilder::proxy`] sets one explicitly. A proxy is an
//! `http://` or `https://` proxy (CONNECT) or a SOCKS one (`socks5h://` asks the proxy to
//! resolve names, `socks5://` resolves them here; `socks4://`, `socks4a://` alike).
//!
//! Loopback endpoints (`localhost`, `127.0.0.0/8`, `::1`: the emulator, a local token URL)
//! never go through a proxy, whatever the variables say, so a local `http://` token request
//! never carries the client secret in clear text to a proxy host. A builder that does not
//! read the environment uses no proxy unless one is set.
//!
//! # Defaults
//!
//! | setting | default |
//! |---|---|
//! | authorization header | `Bearer <token>` ([`AuthScheme::Bearer`]) |
//! | connect timeout | 10 s ([`DEFAULT_CONNECT_TIMEOUT`]) |
//! | attempt timeout | 40 s ([`DEFAULT_ATTEMPT_TIMEOUT`]) |
//! | total timeout, retries and waits included | 120 s ([`DEFAULT_TOTAL_TIMEOUT`]) |
//! | response size limit | 64 MiB ([`DEFAULT_MAX_RESPONSE_BYTES`]) |
//! | retry policy | [`RetryPolicy::default`] |

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod proxy;

pub use proxy::PROXY_VARIABLES;
pub(crate) use proxy::ProxySettings;

use crate::clock::{Clock, SystemClock};
use crate::environment::{parse_api_base, parse_endpoint, redact_url};
use crate::error::Invalid;
use crate::secret::Secret;
use crate::{Environment, Error, RetryPolicy};

/// Every variable [`Config::from_env`] reads.
pub const ENV_VARIABLES: &[&str] = &[
    "ION_ENV",
    "ION_API_URL",
    "ION_TOKEN_URL",
    "ION_CLIENT_ID",
    "ION_CLIENT_SECRET",
    "ION_API_URI",
    "ION_AUTH_SERVER",
    "ION_API_AUDIENCE",
];

/// The connect timeout by default: generous for a TLS handshake across regions, short enough
/// that an unreachable host is reported quickly (and retried, even for a mutation).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The timeout of one attempt by default. ION's gateway ends a query that runs over 30 s with
/// a 502; waiting a little longer lets that 502 arrive instead of cutting it short.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(40);
/// The total time one operation may take by default, retries and their waits included:
/// three slow attempts.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest response body read by default. Large enough for pages of hundreds of deep
/// nodes; small enough that a runaway response cannot exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// How the access token is presented in the `Authorization` header.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>`, the standard form.
    #[default]
    Bearer,
    /// `Authorization: <token>`, the bare token First Resonance's own scripts send.
    Raw,
}

/// Everything a [`Client`](crate::Client) needs. Build one with [`Config::builder`] or
/// [`Config::from_env`].
///
/// `Debug` never shows the client secret.
#[derive(Clone)]
pub struct Config {
    pub(crate) environment: Environment,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) audience: Option<String>,
    pub(crate) auth_scheme: AuthScheme,
    pub(crate) connect_timeout: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) total_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: u64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) user_agent: String,
    pub(crate) proxy: ProxySettings,
}

impl Config {
    /// A builder with every default and no environment or credentials.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Configuration from the process environment (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// A configuration error naming the variable that is missing or invalid.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let client = ion_client::Client::new(ion_client::Config::from_env()?)?;
    /// # Ok::<(), ion_client::Error>(())
    /// ```
    pub fn from_env() -> Result<Config, Error> {
        Config::builder().with_env().build()
    }

    /// The deployment the client talks to.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The client id (not secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `audience` sent with token requests, if any.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// How the token is presented.
    pub fn auth_scheme(&self) -> AuthScheme {
        self.auth_scheme
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The timeout of one attempt (one HTTP exchange).
    pub fn attempt_timeout(&self) -> Duration {
        self.attempt_timeout
    }

    /// The total time one operation may take, retries and waits included.
    pub fn total_timeout(&self) -> Duration {
        self.total_timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest response body read, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
}

/// Whether `ION_RECORD` asks the `testing` module to record fixtures from a real ION
/// (`1`, `true` or `yes`). Read here because this is the only module that reads the environment.
#[cfg(feature = "testing")]
pub(crate) fn record_requested() -> bool {
    std::env::var("ION_RECORD")
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("audience", &self.audience)
            .field("auth_scheme", &self.auth_scheme)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("clock", &self.clock)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// A setting and where it came from, so errors can name the variable.
#[derive(Clone)]
struct Sourced {
    value: String,
    /// The variable (`ION_API_URL`) or the setting (`the API URL`).
    source: &'static str,
    from_variable: bool,
}

impl Sourced {
    /// A value read from the environment variable `name`.
    fn variable(name: &'static str, value: String) -> Sourced {
        Sourced {
            value,
            source: name,
            from_variable: true,
        }
    }

    /// A value given to a builder method, described as `setting` (`the API URL`).
    fn setter(setting: &'static str, value: String) -> Sourced {
        Sourced {
            value,
            source: setting,
            from_variable: false,
        }
    }

    /// The error refusing this value: a variable's is named after it (`ION_ENV: ...`); a
    /// setter's reason already says which setting it is.
    fn refuse(&self, invalid: Invalid) -> Error {
        if self.from_variable {
            invalid.named(self.source)
        } else {
            invalid.into()
        }
    }
}

/// Builds a [`Config`]. Later calls override earlier ones, so `with_env()` followed by
/// setters lets code override the environment, and the reverse lets the environment win.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use ion_client::{Config, Environment};
///
/// let config = Config::builder()
///     .environment(Environment::staging())
///     .client_id("my-client")
///     .client_secret("my-secret")
///     .total_timeout(Duration::from_secs(30))
///     .build()?;
/// assert!(!format!("{config:?}").contains("my-secret"));
/// # Ok::<(), ion_client::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    environment: Option<Sourced>,
    api_url: Option<Sourced>,
    token_url: Option<Sourced>,
    auth_server: Option<Sourced>,
    client_id: Option<Sourced>,
    client_secret: Option<Secret>,
    audience: Option<String>,
    auth_scheme: AuthScheme,
    connect_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    max_response_bytes: Option<u64>,
    clock: Option<Arc<dyn Clock>>,
    user_agent: Option<String>,
    environment_value: Option<Environment>,
    allow_mixed_deployments: bool,
    /// Proxy URLs as given (https, http, all) with their source, and `NO_PROXY`.
    proxy_https: Option<Sourced>,
    proxy_http: Option<Sourced>,
    proxy_all: Option<Sourced>,
    no_proxy: Option<String>,
    conflicts: Vec<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs as messages quote them: a `user:pass@` in one is never shown.
        let url = |s: &Option<Sourced>| s.as_ref().map(|s| redact_url(&s.value));
        f.debug_struct("ConfigBuilder")
            .field("environment", &url(&self.environment))
            .field("api_url", &url(&self.api_url))
            .field("token_url", &url(&self.token_url))
            .field("auth_server", &url(&self.auth_server))
            .field("client_id", &self.client_id.as_ref().map(|s| &s.value))
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The deployment to talk to. Like [`environment_name`](Self::environment_name), it
    /// replaces any API or token URL set before it; set URLs after it to override one.
    pub fn environment(mut self, environment: Environment) -> ConfigBuilder {
        self.environment = None;
        self.api_url = None;
        self.token_url = None;
        self.auth_server = None;
        self.environment_value = Some(environment);
        self
    }

    /// The deployment by the name users type (`staging`, `app.ion-gov.com`, ...); an unknown
    /// name fails [`build`](Self::build). Like [`environment`](Self::environment), it
    /// replaces any API or token URL set before it.
    pub fn environment_name(mut self, name: impl Into<String>) -> ConfigBuilder {
        self.environment_value = None;
        self.api_url = None;
        self.token_url = None;
        self.auth_server = None;
        self.environment = Some(Sourced::setter("the environment name", name.into()));
        self
    }

    /// Overrides the API base URL (`<base>/graphql` receives the requests).
    pub fn api_url(mut self, url: impl Into<String>) -> ConfigBuilder {
        self.api_url = Some(Sourced::setter("the API URL", url.into()));
        self
    }

    /// Overrides the full token endpoint URL.
    pub fn token_url(mut self, url: impl Into<String>) -> ConfigBuilder {
        self.token_url = Some(Sourced::setter("the token URL", url.into()));
        self.auth_server = None;
        self
    }

    /// The API key's client id.
    pub fn client_id(mut self, client_id: impl Into<String>) -> ConfigBuilder {
        self.client_id = Some(Sourced::setter("the client id", client_id.into()));
        self
    }

    /// The API key's client secret. It is sent only in the token request's form body and
    /// never logged or shown by `Debug`.
    pub fn client_secret(mut self, secret: impl Into<String>) -> ConfigBuilder {
        self.client_secret = Some(Secret::new(secret.into()));
        self
    }

    /// The optional `audience` form field of the token request (First Resonance's scripts
    /// send the API base URL; Keycloak ignores it).
    pub fn audience(mut self, audience: impl Into<String>) -> ConfigBuilder {
        self.audience = Some(audience.into());
        self
    }

    /// How the token is presented in the `Authorization` header.
    pub fn auth_scheme(mut self, scheme: AuthScheme) -> ConfigBuilder {
        self.auth_scheme = scheme;
        self
    }

    /// The connect timeout (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> ConfigBuilder {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The timeout of one attempt (default [`DEFAULT_ATTEMPT_TIMEOUT`]).
    pub fn attempt_timeout(mut self, timeout: Duration) -> ConfigBuilder {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// The total time one operation may take, retries and waits included (default
    /// [`DEFAULT_TOTAL_TIMEOUT`]).
    pub fn total_timeout(mut self, timeout: Duration) -> ConfigBuilder {
        self.total_timeout = Some(timeout);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> ConfigBuilder {
        self.retry = Some(policy);
        self
    }

    /// The largest response body read, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, limit: u64) -> ConfigBuilder {
        self.max_response_bytes = Some(limit);
        self
    }

    /// The clock for token expiry and retry waits (default [`SystemClock`]); tests inject
    /// one they drive by hand.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ConfigBuilder {
        self.clock = Some(clock);
        self
    }

    /// Accepts an API URL and a token URL of two different known deployments (for example
    /// a gov token endpoint with the commercial API), which [`build`](Self::build) refuses by
    /// default: such tokens are refused by the API, or worse, sent where they do not belong.
    pub fn allow_mixed_deployments(mut self, allow: bool) -> ConfigBuilder {
        self.allow_mixed_deployments = allow;
        self
    }

    /// Sends every request to a non-loopback host through this proxy (`http://host:port`,
    /// `socks5h://host:port`, credentials allowed in the URL), instead of what the environment
    /// says. Loopback hosts never use a proxy.
    pub fn proxy(mut self, url: impl Into<String>) -> ConfigBuilder {
        let url = url.into();
        self.proxy_https = None;
        self.proxy_http = None;
        self.proxy_all = Some(Sourced::setter("the proxy", url));
        self
    }

    /// Hosts that never use the proxy, in `NO_PROXY`'s syntax (see [Proxies](self#proxies)).
    pub fn no_proxy(mut self, hosts: impl Into<String>) -> ConfigBuilder {
        self.no_proxy = Some(hosts.into());
        self
    }

    /// The `User-Agent` header (default `ion-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ConfigBuilder {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Applies the `ION_*` variables of the process environment that are set (see the
    /// [module docs](self)).
    pub fn with_env(self) -> ConfigBuilder {
        self.with_env_from(|name| std::env::var(name).ok())
    }

    /// Applies `ION_*` variables read through `lookup` instead of the process environment,
    /// so tools and tests can supply their own. Empty values count as unset.
    pub fn with_env_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> ConfigBuilder {
        let get = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|value| Sourced::variable(name, value))
        };
        if let Some(env) = get("ION_ENV") {
            self.environment_value = None;
            self.environment = Some(env);
        }
        if let Some(api) = pick(&mut self.conflicts, get("ION_API_URL"), get("ION_API_URI")) {
            self.api_url = Some(api);
        }
        match (get("ION_TOKEN_URL"), get("ION_AUTH_SERVER")) {
            (Some(token), server) => {
                if let Some(server) = server {
                    let derived = crate::Environment::token_url_for_auth_server(&server.value);
                    if derived.map(|u| u.to_string()).ok().as_deref() != Some(token.value.as_str())
                    {
                        self.conflicts.push(format!(
                            "ION_TOKEN_URL and ION_AUTH_SERVER name different token endpoints \
                             (`{}` and `{}`); set only one",
                            redact_url(&token.value),
                            redact_url(&server.value)
                        ));
                    }
                }
                self.token_url = Some(token);
                self.auth_server = None;
            }
            (None, Some(server)) => {
                self.auth_server = Some(server);
                self.token_url = None;
            }
            (None, None) => {}
        }
        if let Some(id) = get("ION_CLIENT_ID") {
            self.client_id = Some(id);
        }
        if let Some(secret) = lookup("ION_CLIENT_SECRET").filter(|s| !s.trim().is_empty()) {
            self.client_secret = Some(Secret::new(secret.trim().to_owned()));
        }
        if let Some(audience) = get("ION_API_AUDIENCE") {
            self.audience = Some(audience.value);
        }
        // Upper case first, as curl reads them.
        if let Some(p) = get("HTTPS_PROXY").or_else(|| get("https_proxy")) {
            self.proxy_https = Some(p);
        }
        if let Some(p) = get("HTTP_PROXY").or_else(|| get("http_proxy")) {
            self.proxy_http = Some(p);
        }
        if let Some(p) = get("ALL_PROXY").or_else(|| get("all_proxy")) {
            self.proxy_all = Some(p);
        }
        if let Some(list) = get("NO_PROXY").or_else(|| get("no_proxy")) {
            self.no_proxy = Some(list.value);
        }
        self
    }

    /// Checks and assembles the configuration.
    ///
    /// # Errors
    ///
    /// A configuration error naming what is missing or invalid: no environment, an unknown
    /// environment name, an invalid or `http://` non-loopback URL, a missing client id or
    /// secret, a zero timeout or size limit, or two variables that disagree.
    pub fn build(self) -> Result<Config, Error> {
        if let Some(conflict) = self.conflicts.first() {
            return Err(Error::config(conflict));
        }
        let base = match (&self.environment_value, &self.environment) {
            (Some(env), _) => Some(env.clone()),
            (None, Some(name)) => {
                Some(Environment::lookup(&name.value).map_err(|e| name.refuse(e))?)
            }
            (None, None) => None,
        };
        let api = match &self.api_url {
            Some(s) => Some(parse_api_base(&s.value).map_err(|e| s.refuse(e))?),
            None => None,
        };
        let token = match (&self.token_url, &self.auth_server) {
            (Some(s), _) => Some(parse_endpoint("token URL", &s.value).map_err(|e| s.refuse(e))?),
            (None, Some(s)) => Some(
                crate::Environment::token_url_for_auth_server(&s.value).map_err(|e| s.refuse(e))?,
            ),
            (None, None) => None,
        };
        let environment = match (base, api, token) {
            (Some(env), api, token) => {
                let env = match api {
                    Some(api) => env.with_api_base(api),
                    None => env,
                };
                match token {
                    Some(token) => env.with_token_url(token),
                    None => env,
                }
            }
            (None, Some(api), Some(token)) => match Environment::for_api_base(&api) {
                Some(known) => known.with_token_url(token),
                None => Environment::custom(api.as_str(), token.as_str())?,
            },
            (None, Some(api), None) => Environment::for_api_base(&api).ok_or_else(|| {
                Error::config(format!(
                    "no token URL for the API at `{api}`: it is not a known ION host, so set \
                     ION_TOKEN_URL (the full token endpoint URL) as well"
                ))
            })?,
            (None, None, _) => {
                return Err(Error::config(
                    "no ION environment is configured: set ION_ENV to a name such as staging, \
                     sandbox or production, or set ION_API_URL and ION_TOKEN_URL",
                ));
            }
        };
        if let Some((api, token)) = environment.mixed_deployments()
            && !self.allow_mixed_deployments
        {
            return Err(Error::config(format!(
                "the API URL {} belongs to the {api} deployment but the token URL {} to \
                 {token}: its tokens are not meant for that API; fix one of them, or call \
                 allow_mixed_deployments(true) if this is intended",
                redact_url(environment.api_base().as_str()),
                redact_url(environment.token_url().as_str()),
            )));
        }
        let client_id = self
            .client_id
            .map(|s| s.value.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::config("no client id is configured: set ION_CLIENT_ID or call client_id")
            })?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.expose().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "no client secret is configured: set ION_CLIENT_SECRET or call client_secret",
                )
            })?;
        let positive = |what: &str, d: Option<Duration>, default: Duration| {
            let d = d.unwrap_or(default);
            if d.is_zero() {
                Err(Error::config(format!(
                    "the {what} must be greater than zero"
                )))
            } else {
                Ok(d)
            }
        };
        // A proxy's message always names where it came from: its reason does not.
        let proxy_url = |p: &Option<Sourced>| {
            p.as_ref()
                .map(|p| proxy::parse_proxy(&p.value).map_err(|e| e.named(p.source)))
                .transpose()
        };
        let proxy = ProxySettings {
            https: proxy_url(&self.proxy_https)?,
            http: proxy_url(&self.proxy_http)?,
            all: proxy_url(&self.proxy_all)?,
            no_proxy: self
                .no_proxy
                .as_deref()
                .map(proxy::no_proxy_entries)
                .unwrap_or_default(),
        };
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if max_response_bytes == 0 {
            return Err(Error::config(
                "the response size limit must be greater than zero",
            ));
        }
        Ok(Config {
            environment,
            client_id,
            client_secret,
            audience: self.audience,
            auth_scheme: self.auth_scheme,
            connect_timeout: positive(
                "connect timeout",
                self.connect_timeout,
                DEFAULT_CONNECT_TIMEOUT,
            )?,
            attempt_timeout: positive(
                "attempt timeout",
                self.attempt_timeout,
                DEFAULT_ATTEMPT_TIMEOUT,
            )?,
            total_timeout: positive("total timeout", self.total_timeout, DEFAULT_TOTAL_TIMEOUT)?,
            retry: self.retry.unwrap_or_default(),
            max_response_bytes,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            user_agent: self
                .user_agent
                .unwrap_or_else(|| concat!("ion-client/", env!("CARGO_PKG_VERSION")).to_owned()),
            proxy,
        })
    }
}

/// Picks one of two variables that mean the same thing; records a conflict when both are set
/// to different values.
fn pick(
    conflicts: &mut Vec<String>,
    ours: Option<Sourced>,
    theirs: Option<Sourced>,
) -> Option<Sourced> {
    match (ours, theirs) {
        (Some(a), Some(b)) => {
            let norm = |s: &str| s.trim_end_matches('/').to_owned();
            if norm(&a.value) != norm(&b.value) {
                conflicts.push(format!(
                    "{} and {} are both set, to `{}` and `{}`; set only one",
                    a.source,
                    b.source,
                    redact_url(&a.value),
                    redact_url(&b.value)
                ));
            }
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::builder()
            .with_env_from(|name| map.get(name).cloned())
            .build()
    }

    const CREDS: [(&str, &str); 2] = [("ION_CLIENT_ID", "id"), ("ION_CLIENT_SECRET", "sek")];

    fn with_creds(extra: &[(&str, &str)]) -> Result<Config, Error> {
        let mut vars = CREDS.to_vec();
        vars.extend_from_slice(extra);
        from(&vars)
    }

    #[test]
    fn ion_env_names_a_deployment() {
        let c = with_creds(&[("ION_ENV", "sandbox")]).expect("valid");
        assert_eq!(c.environment().name(), Some("staging"));
        assert_eq!(c.client_id(), "id");
        assert_eq!(c.auth_scheme(), AuthScheme::Bearer);
        assert_eq!(c.total_timeout(), DEFAULT_TOTAL_TIMEOUT);
    }

    #[test]
    fn urls_override_the_named_environment() {
        let c = with_creds(&[
            ("ION_ENV", "production"),
            ("ION_API_URL", "http://127.0.0.1:7000/graphql"),
            (
                "ION_TOKEN_URL",
                "http://127.0.0.1:7001/realms/api-keys/protocol/openid-connect/token",
            ),
        ])
        .expect("valid");
        assert_eq!(
            c.environment().graphql_url().as_str(),
            "http://127.0.0.1:7000/graphql"
        );
        assert_eq!(c.environment().token_url().port(), Some(7001));
        assert_eq!(
            c.environment().name(),
            None,
            "no longer the production deployment"
        );
    }

    #[test]
    fn first_resonance_names_work() {
        let c = with_creds(&[
            ("ION_API_URI", "https://api.ion-gov.com"),
            ("ION_AUTH_SERVER", "https://auth.ion-gov.com"),
            ("ION_API_AUDIENCE", "https://api.ion-gov.com"),
        ])
        .expect("valid");
        assert_eq!(c.environment().name(), Some("gov-production-legacy"));
        assert_eq!(
            c.environment().token_url().as_str(),
            "https://auth.ion-gov.com/auth/realms/api-keys/protocol/openid-connect/token"
        );
        assert_eq!(c.audience(), Some("https://api.ion-gov.com"));
    }

    #[test]
    fn a_known_api_host_implies_its_token_url() {
        let c =
            with_creds(&[("ION_API_URL", "https://staging-api.buildwithion.com/")]).expect("valid");
        assert_eq!(c.environment().name(), Some("staging"));
    }

    #[test]
    fn missing_settings_are_named() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (
                &CREDS,
                "invalid configuration: no ION environment is configured: set ION_ENV to a name \
                 such as staging, sandbox or production, or set ION_API_URL and ION_TOKEN_URL",
            ),
            (
                &[("ION_ENV", "staging"), ("ION_CLIENT_SECRET", "s")],
                "invalid configuration: no client id is configured: set ION_CLIENT_ID or call client_id",
            ),
            (
                &[
                    ("ION_ENV", "staging"),
                    ("ION_CLIENT_ID", "i"),
                    ("ION_CLIENT_SECRET", "  "),
                ],
                "invalid configuration: no client secret is configured: set ION_CLIENT_SECRET or call client_secret",
            ),
            (
                &[
                    ("ION_ENV", "mars"),
                    ("ION_CLIENT_ID", "i"),
                    ("ION_CLIENT_SECRET", "s"),
                ],
                "invalid configuration: ION_ENV: unknown ION environment `mars`: expected one of \
                 staging, sandbox, production, gov-staging, gov-production, aus-staging, \
                 aus-production (or a `-legacy` gov/aus name), or an app host such as app.ion-gov.com",
            ),
            (
                &[
                    ("ION_API_URL", "https://ion.example.com"),
                    ("ION_CLIENT_ID", "i"),
                    ("ION_CLIENT_SECRET", "s"),
                ],
                "invalid configuration: no token URL for the API at `https://ion.example.com/`: it \
                 is not a known ION host, so set ION_TOKEN_URL (the full token endpoint URL) as well",
            ),
            (
                &[
                    ("ION_API_URL", "http://ion.example.com"),
                    ("ION_TOKEN_URL", "https://a.example/t"),
                    ("ION_CLIENT_ID", "i"),
                    ("ION_CLIENT_SECRET", "s"),
                ],
                "invalid configuration: ION_API_URL: the API URL `http://ion.example.com/` uses \
                 http:// to a host that is not loopback; use https://",
            ),
        ];
        for (vars, expected) in cases {
            let err = from(vars).expect_err("invalid");
            assert_eq!(err.to_string(), expected);
            assert!(matches!(err.kind(), crate::ErrorKind::Configuration));
        }
    }

    #[test]
    fn disagreeing_variables_are_refused() {
        let err = with_creds(&[
            ("ION_API_URL", "https://api.buildwithion.com"),
            ("ION_API_URI", "https://staging-api.buildwithion.com"),
        ])
        .expect_err("conflict");
        assert_eq!(
            err.to_string(),
            "invalid configuration: ION_API_URL and ION_API_URI are both set, to \
             `https://api.buildwithion.com` and `https://staging-api.buildwithion.com`; set only one"
        );
        let same = with_creds(&[
            ("ION_API_URL", "https://api.buildwithion.com"),
            ("ION_API_URI", "https://api.buildwithion.com/"),
        ]);
        assert!(same.is_ok());
    }

    #[test]
    fn urls_of_two_known_deployments_are_refused_unless_allowed() {
        let gov_token = "https://auth-production-gov.buildwithion.com/realms/api-keys/protocol/openid-connect/token";
        let err = with_creds(&[
            ("ION_API_URL", "https://api.buildwithion.com"),
            ("ION_TOKEN_URL", gov_token),
        ])
        .expect_err("mixed");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid configuration: the API URL https://api.buildwithion.com/ belongs to the \
                 production deployment but the token URL {gov_token} to gov-production: its \
                 tokens are not meant for that API; fix one of them, or call \
                 allow_mixed_deployments(true) if this is intended"
            )
        );
        let allowed = Config::builder()
            .api_url("https://api.buildwithion.com")
            .token_url(gov_token)
            .client_id("i")
            .client_secret("s")
            .allow_mixed_deployments(true)
            .build();
        assert!(allowed.is_ok());
        // One deployment's legacy hosts, and custom hosts, are not mixed.
        for (api, token) in [
            (
                "https://api-production-aus.buildwithion.com",
                "https://auth.ion-aus.com/auth/realms/api-keys/protocol/openid-connect/token",
            ),
            (
                "https://api.buildwithion.com",
                "https://sso.example.com/token",
            ),
        ] {
            assert!(
                with_creds(&[("ION_API_URL", api), ("ION_TOKEN_URL", token)]).is_ok(),
                "{api} {token}"
            );
        }
    }

    #[test]
    fn configuration_errors_never_print_url_credentials() {
        let errors = [
            with_creds(&[("ION_API_URL", "https://bob:hunter2@api.example.com")]),
            with_creds(&[("ION_API_URL", "http://bob:hunter2@api.example.com")]),
            with_creds(&[("ION_ENV", "https://bob:hunter2@nowhere.example")]),
            with_creds(&[
                ("ION_API_URL", "https://bob:hunter2@api.buildwithion.com"),
                ("ION_API_URI", "https://api.buildwithion.com"),
            ]),
            with_creds(&[
                ("ION_ENV", "staging"),
                ("ION_TOKEN_URL", "https://bob:hunter2@a.example/t"),
                ("ION_AUTH_SERVER", "https://b.example"),
            ]),
        ];
        for result in errors {
            let err = result.expect_err("refused");
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(
                    !shown.contains("hunter2") && !shown.contains("bob"),
                    "{shown}"
                );
            }
        }
    }

    #[test]
    fn proxies_come_from_the_variables_or_the_builder() {
        let config = |vars: &[(&str, &str)]| {
            let mut all = vec![("ION_ENV", "staging")];
            all.extend_from_slice(vars);
            with_creds(&all).expect("valid").proxy
        };
        let url = |s: &str| url::Url::parse(s).expect("url");
        let via =
            |p: &ProxySettings, target: &str| p.proxy_for(&url(target)).map(|u| u.to_string());
        // Upper case wins over lower case; each scheme has its own; NO_PROXY is read.
        let p = config(&[
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("https_proxy", "http://ignored.proxy:1"),
            ("http_proxy", "plain.proxy:8080"),
            ("NO_PROXY", "internal.example"),
        ]);
        let cases = [
            (
                "https://api.buildwithion.com/",
                Some("http://secure.proxy:3128/"),
            ),
            ("http://api.example/", Some("http://plain.proxy:8080/")),
            ("https://a.internal.example/", None),
            ("http://127.0.0.1:8080/graphql", None),
        ];
        for (target, expected) in cases {
            assert_eq!(via(&p, target).as_deref(), expected, "{target}");
        }
        // ALL_PROXY serves a scheme without its own.
        let p = config(&[("all_proxy", "http://any.proxy:1")]);
        assert_eq!(
            via(&p, "https://api.buildwithion.com/").as_deref(),
            Some("http://any.proxy:1/")
        );
        // Without the environment, no proxy; with `proxy`, that one.
        let built = Config::builder()
            .environment(Environment::staging())
            .client_id("i")
            .client_secret("s");
        assert!(built.clone().build().expect("valid").proxy.is_empty());
        let p = built
            .proxy("http://u:pw@explicit.proxy:9")
            .build()
            .expect("valid")
            .proxy;
        assert_eq!(
            via(&p, "https://api.buildwithion.com/").as_deref(),
            Some("http://u:pw@explicit.proxy:9/")
        );
        assert!(!format!("{p:?}").contains("pw"));
        let err = with_creds(&[("ION_ENV", "staging"), ("HTTPS_PROXY", "ftp://u:pw@x")])
            .expect_err("bad proxy");
        assert_eq!(
            err.to_string(),
            "invalid configuration: HTTPS_PROXY: `ftp://[redacted]@x` is not a proxy URL such as \
             http://proxy.example:3128"
        );
    }

    #[test]
    fn environment_and_environment_name_behave_alike() {
        let base = || {
            Config::builder()
                .client_id("i")
                .client_secret("s")
                .api_url("http://127.0.0.1:9")
                .token_url("http://127.0.0.1:9/token")
        };
        let by_value = base()
            .environment(Environment::staging())
            .build()
            .expect("valid");
        let by_name = base().environment_name("staging").build().expect("valid");
        assert_eq!(by_value.environment(), by_name.environment());
        assert_eq!(by_name.environment().name(), Some("staging"));
        // URLs set after either override it, alike.
        let a = Config::builder()
            .client_id("i")
            .client_secret("s")
            .environment(Environment::staging())
            .api_url("http://127.0.0.1:9");
        let b = Config::builder()
            .client_id("i")
            .client_secret("s")
            .environment_name("staging")
            .api_url("http://127.0.0.1:9");
        assert_eq!(
            a.build().expect("valid").environment(),
            b.build().expect("valid").environment()
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = with_creds(&[("ION_ENV", "staging")]).expect("valid");
        let builder = Config::builder().client_secret("sek");
        for shown in [format!("{c:?}"), format!("{c:#?}"), format!("{builder:?}")] {
            assert!(!shown.contains("sek"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        let with_credentials = Config::builder()
            .with_env_from(|name| {
                (name == "ION_ENV" || name == "ION_AUTH_SERVER")
                    .then(|| "https://bob:hunter2@env.example".to_owned())
            })
            .api_url("https://bob:hunter2@api.example")
            .token_url("https://bob:hunter2@auth.example/token");
        let shown = format!("{with_credentials:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("bob"),
            "{shown}"
        );
        assert!(shown.contains("https://[redacted]@api.example"), "{shown}");
    }

    #[test]
    fn zero_limits_are_refused() {
        let base = || {
            Config::builder()
                .environment(Environment::staging())
                .client_id("i")
                .client_secret("s")
        };
        assert_eq!(
            base()
                .attempt_timeout(Duration::ZERO)
                .build()
                .expect_err("zero")
                .to_string(),
            "invalid configuration: the attempt timeout must be greater than zero"
        );
        assert!(base().max_response_bytes(0).build().is_err());
        assert!(base().build().is_ok());
    }
}
