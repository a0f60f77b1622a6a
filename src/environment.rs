//! The ION deployments and where their API and token endpoints are.
//!
//! ION runs in three regions (commercial, gov, aus), each with a staging and a production
//! deployment; the `sandbox.*` app hosts are served by the staging deployments. The gov and aus
//! regions also have an older pair of hosts that maintained integrations still use. Each
//! deployment resolves to an API base URL (requests go to `<base>/graphql`) and the full
//! Keycloak token URL, because hosts disagree on whether the realm lives under
//! `/auth/realms/...` (older Keycloak) or `/realms/...`.
//!
//! Users name an environment as they know it: `staging`, `sandbox`, `production`,
//! `gov-staging`, `gov-production`, `aus-staging`, `aus-production`, the older pairs with a
//! `-legacy` suffix, or any host of a deployment (`app.ion-gov.com`, `api.buildwithion.com`,
//! `auth.ion-aus.com`), with or without `https://`. [`Environment::custom`] covers the emulator
//! and any other endpoint.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::Error;
use crate::error::Invalid;

/// The Keycloak realm path of the token endpoint, newer layout.
const REALM_TOKEN_PATH: &str = "/realms/api-keys/protocol/openid-connect/token";
/// The same path on hosts that still run Keycloak's older layout under `/auth`.
const LEGACY_REALM_TOKEN_PATH: &str = "/auth/realms/api-keys/protocol/openid-connect/token";

/// The region an ION deployment serves.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// The commercial deployment (`buildwithion.com`).
    Commercial,
    /// ION for US government customers (`ion-gov.com`).
    Gov,
    /// ION in Australia (`ion-aus.com`).
    Aus,
}

/// Whether a deployment is staging (the sandbox) or production.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Staging, which also serves the `sandbox.*` app hosts.
    Staging,
    /// Production.
    Production,
}

/// One row of the deployment table.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Deployment {
    name: &'static str,
    region: Region,
    stage: Stage,
    legacy: bool,
    /// Other names users type for it (for example `sandbox`).
    aliases: &'static [&'static str],
    /// The hosts of the web app users sign in to.
    app_hosts: &'static [&'static str],
    api_base: &'static str,
    token_url: &'static str,
}

/// Every known deployment. Current hosts come before the legacy pairs so a host shared by
/// both (the aus API hosts) resolves to the current deployment.
static DEPLOYMENTS: &[&Deployment] = &[
    &PRODUCTION,
    &STAGING,
    &GOV_PRODUCTION,
    &GOV_STAGING,
    &AUS_PRODUCTION,
    &AUS_STAGING,
    &GOV_PRODUCTION_LEGACY,
    &GOV_STAGING_LEGACY,
    &AUS_PRODUCTION_LEGACY,
    &AUS_STAGING_LEGACY,
];

static PRODUCTION: Deployment = Deployment {
    name: "production",
    region: Region::Commercial,
    stage: Stage::Production,
    legacy: false,
    aliases: &["prod", "commercial-production"],
    app_hosts: &["app.firstresonance.io"],
    api_base: "https://api.buildwithion.com",
    token_url: "https://auth.buildwithion.com/auth/realms/api-keys/protocol/openid-connect/token",
};

static STAGING: Deployment = Deployment {
    name: "staging",
    region: Region::Commercial,
    stage: Stage::Staging,
    legacy: false,
    aliases: &["sandbox", "commercial-staging"],
    app_hosts: &["staging.firstresonance.io", "sandbox.firstresonance.io"],
    api_base: "https://staging-api.buildwithion.com",
    token_url: "https://staging-auth.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
};

static GOV_PRODUCTION: Deployment = Deployment {
    name: "gov-production",
    region: Region::Gov,
    stage: Stage::Production,
    legacy: false,
    aliases: &["gov-prod", "gov"],
    app_hosts: &["app.ion-gov.com"],
    api_base: "https://api-production-gov.buildwithion.com",
    token_url: "https://auth-production-gov.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
};

static GOV_STAGING: Deployment = Deployment {
    name: "gov-staging",
    region: Region::Gov,
    stage: Stage::Staging,
    legacy: false,
    aliases: &["gov-sandbox"],
    app_hosts: &["staging.ion-gov.com", "sandbox.ion-gov.com"],
    api_base: "https://api-staging-gov.buildwithion.com",
    token_url: "https://auth-staging-gov.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
};

static AUS_PRODUCTION: Deployment = Deployment {
    name: "aus-production",
    region: Region::Aus,
    stage: Stage::Production,
    legacy: false,
    aliases: &["aus-prod", "aus"],
    app_hosts: &["app.ion-aus.com"],
    api_base: "https://api-production-aus.buildwithion.com",
    token_url: "https://auth-production-aus.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
};

static AUS_STAGING: Deployment = Deployment {
    name: "aus-staging",
    region: Region::Aus,
    stage: Stage::Staging,
    legacy: false,
    aliases: &["aus-sandbox"],
    app_hosts: &["staging.ion-aus.com"],
    api_base: "https://api-staging-aus.buildwithion.com",
    token_url: "https://auth-staging-aus.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
};

static GOV_PRODUCTION_LEGACY: Deployment = Deployment {
    name: "gov-production-legacy",
    region: Region::Gov,
    stage: Stage::Production,
    legacy: true,
    aliases: &[],
    app_hosts: &[],
    api_base: "https://api.ion-gov.com",
    token_url: "https://auth.ion-gov.com/auth/realms/api-keys/protocol/openid-connect/token",
};

static GOV_STAGING_LEGACY: Deployment = Deployment {
    name: "gov-staging-legacy",
    region: Region::Gov,
    stage: Stage::Staging,
    legacy: true,
    aliases: &[],
    app_hosts: &[],
    api_base: "https://staging-api.ion-gov.com",
    token_url: "https://staging-auth.ion-gov.com/realms/api-keys/protocol/openid-connect/token",
};

static AUS_PRODUCTION_LEGACY: Deployment = Deployment {
    name: "aus-production-legacy",
    region: Region::Aus,
    stage: Stage::Production,
    legacy: true,
    aliases: &[],
    app_hosts: &[],
    api_base: "https://api-production-aus.buildwithion.com",
    token_url: "https://auth.ion-aus.com/auth/realms/api-keys/protocol/openid-connect/token",
};

static AUS_STAGING_LEGACY: Deployment = Deployment {
    name: "aus-staging-legacy",
    region: Region::Aus,
    stage: Stage::Staging,
    legacy: true,
    aliases: &[],
    app_hosts: &[],
    api_base: "https://api-staging-aus.buildwithion.com",
    token_url: "https://staging-auth.ion-aus.com/realms/api-keys/protocol/openid-connect/token",
};

impl Deployment {
    fn api_base(&self) -> Url {
        table_url(self.api_base)
    }

    fn token_url(&self) -> Url {
        table_url(self.token_url)
    }
}

/// A URL of the deployment table. Every one parses (`every_table_url_parses_and_is_https`
/// proves it), so failing here is a typo in the table: it stops naming that URL instead of
/// putting another in its place.
fn table_url(raw: &'static str) -> Url {
    Url::parse(raw)
        .unwrap_or_else(|e| unreachable!("the deployment table's URL `{raw}` does not parse: {e}"))
}

/// An ION deployment: where its API and its token endpoint are.
///
/// # Example
///
/// ```
/// use ion_client::Environment;
///
/// let env: Environment = "app.ion-gov.com".parse()?;
/// assert_eq!(env.name(), Some("gov-production"));
/// assert_eq!(env.graphql_url().path(), "/graphql");
///
/// let local = Environment::custom(
///     "http://127.0.0.1:8080",
///     "http://127.0.0.1:8080/realms/api-keys/protocol/openid-connect/token",
/// )?;
/// assert_eq!(local.graphql_url().as_str(), "http://127.0.0.1:8080/graphql");
/// # Ok::<(), ion_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Environment {
    known: Option<&'static Deployment>,
    api_base: Url,
    token_url: Url,
}

impl Environment {
    fn known(deployment: &'static Deployment) -> Environment {
        Environment {
            known: Some(deployment),
            api_base: deployment.api_base(),
            token_url: deployment.token_url(),
        }
    }

    /// Commercial production (`app.firstresonance.io`).
    pub fn production() -> Environment {
        Environment::known(&PRODUCTION)
    }

    /// Commercial staging, which also serves `sandbox.firstresonance.io`.
    pub fn staging() -> Environment {
        Environment::known(&STAGING)
    }

    /// Gov production (`app.ion-gov.com`).
    pub fn gov_production() -> Environment {
        Environment::known(&GOV_PRODUCTION)
    }

    /// Gov staging, which also serves `sandbox.ion-gov.com`.
    pub fn gov_staging() -> Environment {
        Environment::known(&GOV_STAGING)
    }

    /// Aus production (`app.ion-aus.com`).
    pub fn aus_production() -> Environment {
        Environment::known(&AUS_PRODUCTION)
    }

    /// Aus staging (`staging.ion-aus.com`).
    pub fn aus_staging() -> Environment {
        Environment::known(&AUS_STAGING)
    }

    /// Every known deployment, current ones first, then the legacy gov/aus host pairs.
    pub fn all() -> impl Iterator<Item = Environment> {
        DEPLOYMENTS.iter().copied().map(Environment::known)
    }

    /// Any other endpoint: the emulator, a proxy, a self-hosted deployment.
    ///
    /// `api_base` is the URL that `/graphql` is appended to (a trailing `/graphql` is
    /// accepted and removed); `token_url` is the full token endpoint URL.
    ///
    /// # Errors
    ///
    /// A configuration error when either is not an absolute `http(s)` URL, carries a user
    /// name or password, or uses `http://` to a host other than loopback.
    pub fn custom(api_base: &str, token_url: &str) -> Result<Environment, Error> {
        Ok(Environment {
            known: None,
            api_base: parse_api_base(api_base)?,
            token_url: parse_endpoint("token URL", token_url)?,
        })
    }

    /// The canonical name (`gov-staging`), or `None` for a custom environment.
    pub fn name(&self) -> Option<&'static str> {
        self.known.map(|d| d.name)
    }

    /// The region, or `None` for a custom environment.
    pub fn region(&self) -> Option<Region> {
        self.known.map(|d| d.region)
    }

    /// The stage, or `None` for a custom environment.
    pub fn stage(&self) -> Option<Stage> {
        self.known.map(|d| d.stage)
    }

    /// Whether this is one of the older gov/aus host pairs.
    pub fn is_legacy(&self) -> bool {
        self.known.is_some_and(|d| d.legacy)
    }

    /// The app hosts users know this deployment by (empty for custom and legacy ones).
    pub fn app_hosts(&self) -> &'static [&'static str] {
        self.known.map_or(&[], |d| d.app_hosts)
    }

    /// The API base URL.
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    /// The GraphQL endpoint: `<api base>/graphql`.
    pub fn graphql_url(&self) -> Url {
        let mut url = self.api_base.clone();
        let path = format!("{}/graphql", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }

    /// The full token endpoint URL.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The same environment with another API base (keeps the token URL).
    pub(crate) fn with_api_base(&self, api_base: Url) -> Environment {
        let known = self.known.filter(|d| same_origin(&d.api_base(), &api_base));
        Environment {
            known,
            api_base,
            token_url: self.token_url.clone(),
        }
    }

    /// The same environment with another token URL (keeps the API base).
    pub(crate) fn with_token_url(&self, token_url: Url) -> Environment {
        let known = self.known.filter(|d| d.token_url == token_url.as_str());
        Environment {
            known,
            api_base: self.api_base.clone(),
            token_url,
        }
    }

    /// The known deployment whose API base has this URL's origin, if any.
    pub(crate) fn for_api_base(api_base: &Url) -> Option<Environment> {
        DEPLOYMENTS
            .iter()
            .find(|d| same_origin(&d.api_base(), api_base))
            .map(|d| Environment::known(d))
    }

    /// When the API and the token endpoint belong to two different known deployments (another
    /// region or stage: gov tokens sent to the commercial API), their names, API's first.
    pub(crate) fn mixed_deployments(&self) -> Option<(&'static str, &'static str)> {
        let of = |d: &Deployment| (d.region, d.stage);
        let api: Vec<&Deployment> = DEPLOYMENTS
            .iter()
            .copied()
            .filter(|d| same_origin(&d.api_base(), &self.api_base))
            .collect();
        let token: Vec<&Deployment> = DEPLOYMENTS
            .iter()
            .copied()
            .filter(|d| same_origin(&d.token_url(), &self.token_url))
            .collect();
        let agree = api.iter().any(|a| token.iter().any(|t| of(a) == of(t)));
        match (api.first(), token.first()) {
            (Some(a), Some(t)) if !agree => Some((a.name, t.name)),
            _ => None,
        }
    }

    /// The token URL for an auth server as First Resonance's scripts name it
    /// (`ION_AUTH_SERVER=https://auth.buildwithion.com`): a known auth host resolves to its
    /// deployment's token URL; a URL that already names the token endpoint is kept; any
    /// other host gets the realm path appended, in the `/auth/realms/...` form those scripts
    /// use unless the URL already ends in `/auth`.
    pub(crate) fn token_url_for_auth_server(auth_server: &str) -> Result<Url, Invalid> {
        let url = parse_endpoint("auth server", auth_server)?;
        if url.path().ends_with("/protocol/openid-connect/token") {
            return Ok(url);
        }
        if let Some(d) = DEPLOYMENTS
            .iter()
            .find(|d| same_origin(&d.token_url(), &url))
        {
            return Ok(d.token_url());
        }
        let base = url.path().trim_end_matches('/');
        let path = if base.ends_with("/auth") {
            format!("{base}{REALM_TOKEN_PATH}")
        } else {
            format!("{base}{LEGACY_REALM_TOKEN_PATH}")
        };
        let mut out = url.clone();
        out.set_path(&path);
        Ok(out)
    }
}

/// The token URL in the other path form: `/auth/realms/...` ⇄ `/realms/...`, for the message
/// of a 404 from the token endpoint.
pub(crate) fn other_token_path_form(token_url: &Url) -> Option<Url> {
    let path = token_url.path();
    let new_path = if let Some(i) = path.find("/auth/realms/") {
        format!("{}{}", &path[..i], &path[i + "/auth".len()..])
    } else if let Some(i) = path.find("/realms/") {
        format!("{}/auth{}", &path[..i], &path[i..])
    } else {
        return None;
    };
    let mut url = token_url.clone();
    url.set_path(&new_path);
    Some(url)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether `url` is loopback: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL (or text meant as one) as messages quote it: any user name or password is replaced
/// by `[redacted]`, so no message, log line or `Debug` built from it can leak a credential.
///
/// Invariant: every message that quotes a configured URL goes through this function.
pub(crate) fn redact_url(raw: &str) -> String {
    // Textual, so the URL is quoted as the user wrote it, and so text that does not parse as
    // a URL (or parses with a scheme of `bob` and no host, like `bob:pw@host`) is covered too.
    let trimmed = raw.trim();
    let (scheme, rest) = match trimmed.find("://") {
        Some(i) => (&trimmed[..i + 3], &trimmed[i + 3..]),
        None => ("", trimmed),
    };
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@').or_else(|| {
        // `user:pa/ss@host`: a raw `/` in a password ends the authority early; an `@` after
        // a `user:` prefix is taken as the end of the credentials.
        let authority = &rest[..authority_end];
        let not_a_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, after)| !after.bytes().all(|b| b.is_ascii_digit()));
        not_a_port
            .then(|| rest[..before_query].rfind('@'))
            .flatten()
    });
    match at {
        Some(at) => format!("{scheme}[redacted]@{}", &rest[at + 1..]),
        None => trimmed.to_owned(),
    }
}

/// Parses an endpoint URL and applies the rules every endpoint must meet.
pub(crate) fn parse_endpoint(what: &str, raw: &str) -> Result<Url, Invalid> {
    let trimmed = raw.trim();
    let url = Url::parse(trimmed).map_err(|e| {
        Invalid::new(format!(
            "the {what} must be an absolute URL such as https://api.buildwithion.com, found `{}` ({e})",
            redact_url(trimmed)
        ))
    })?;
    // Checked before any message that quotes the URL, and none quotes its credentials.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(format!(
            "the {what} `{}` must not carry a user name or password; pass credentials as the \
             client id and secret",
            redact_url(trimmed)
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Invalid::new(format!(
                "the {what} `{url}` uses http:// to a host that is not loopback; use https://"
            )));
        }
        other => {
            return Err(Invalid::new(format!(
                "the {what} must use https://, found scheme `{other}` in `{url}`"
            )));
        }
    }
    if url.host().is_none() {
        return Err(Invalid::new(format!("the {what} `{url}` has no host")));
    }
    Ok(url)
}

/// Parses an API base URL; a trailing `/graphql` is removed so both forms work.
pub(crate) fn parse_api_base(raw: &str) -> Result<Url, Invalid> {
    let mut url = parse_endpoint("API URL", raw)?;
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/graphql").unwrap_or(path).to_owned();
    url.set_path(if path.is_empty() { "/" } else { &path });
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl fmt::Display for Environment {
    /// The canonical name, or the API base URL of a custom environment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.known {
            Some(d) => f.write_str(d.name),
            None => f.write_str(self.api_base.as_str().trim_end_matches('/')),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("name", &self.name())
            .field("api_base", &self.api_base.as_str())
            .field("token_url", &self.token_url.as_str())
            .finish()
    }
}

impl FromStr for Environment {
    type Err = Error;

    /// Parses a name users type: a deployment name or alias, or any of its hosts, with or
    /// without `https://`.
    fn from_str(s: &str) -> Result<Environment, Error> {
        Ok(Environment::lookup(s)?)
    }
}

impl Environment {
    /// The deployment named `s` ([`FromStr`]), or what is wrong with the name.
    pub(crate) fn lookup(s: &str) -> Result<Environment, Invalid> {
        let wanted = s.trim().to_ascii_lowercase();
        let host = match Url::parse(&wanted) {
            Ok(url) if url.host_str().is_some() => url.host_str().unwrap_or_default().to_owned(),
            _ => wanted.trim_end_matches('/').to_owned(),
        };
        let host_of = |u: &str| {
            Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        };
        let found = DEPLOYMENTS.iter().copied().find(|d| {
            d.name == wanted
                || d.aliases.contains(&wanted.as_str())
                || d.app_hosts.contains(&host.as_str())
                || host_of(d.api_base).as_deref() == Some(host.as_str())
                || host_of(d.token_url).as_deref() == Some(host.as_str())
        });
        match found {
            Some(d) => Ok(Environment::known(d)),
            None => Err(Invalid::new(format!(
                "unknown ION environment `{}`: expected one of staging, sandbox, production, \
                 gov-staging, gov-production, aus-staging, aus-production (or a `-legacy` \
                 gov/aus name), or an app host such as app.ion-gov.com",
                redact_url(s)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_url_parses_and_is_https() {
        for d in DEPLOYMENTS {
            for u in [d.api_base, d.token_url] {
                let url = Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
                assert_eq!(url.scheme(), "https", "{u}");
            }
            assert!(d.token_url.ends_with(REALM_TOKEN_PATH), "{}", d.token_url);
        }
    }

    #[test]
    fn each_constructor_is_its_deployment() {
        let constructors = [
            (Environment::production(), "production"),
            (Environment::staging(), "staging"),
            (Environment::gov_production(), "gov-production"),
            (Environment::gov_staging(), "gov-staging"),
            (Environment::aus_production(), "aus-production"),
            (Environment::aus_staging(), "aus-staging"),
        ];
        for (env, name) in constructors {
            assert_eq!(env.name(), Some(name));
            assert_eq!(Environment::lookup(name), Ok(env));
        }
    }

    #[test]
    fn names_users_type_resolve() {
        let cases = [
            ("staging", "staging"),
            ("sandbox", "staging"),
            ("Production", "production"),
            ("gov-staging", "gov-staging"),
            ("gov-production", "gov-production"),
            ("aus-staging", "aus-staging"),
            ("aus-production", "aus-production"),
            ("app.ion-gov.com", "gov-production"),
            ("https://app.ion-gov.com/", "gov-production"),
            ("staging.ion-aus.com", "aus-staging"),
            ("sandbox.ion-gov.com", "gov-staging"),
            ("staging.firstresonance.io", "staging"),
            ("sandbox.firstresonance.io", "staging"),
            ("app.firstresonance.io", "production"),
            ("api.buildwithion.com", "production"),
            ("auth.ion-gov.com", "gov-production-legacy"),
            ("staging-auth.ion-aus.com", "aus-staging-legacy"),
            // Shared by the legacy and current aus pairs: the current one wins.
            ("api-production-aus.buildwithion.com", "aus-production"),
            ("gov-staging-legacy", "gov-staging-legacy"),
        ];
        for (input, expected) in cases {
            let env: Environment = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(env.name(), Some(expected), "{input}");
            assert_eq!(env.to_string(), expected);
            let again: Environment = env.to_string().parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(again, env, "Display round-trips through FromStr");
        }
    }

    #[test]
    fn legacy_pairs_pair_their_api_and_auth_hosts() {
        let pairs = [
            ("auth.ion-gov.com", "https://api.ion-gov.com/"),
            (
                "staging-auth.ion-gov.com",
                "https://staging-api.ion-gov.com/",
            ),
            (
                "auth.ion-aus.com",
                "https://api-production-aus.buildwithion.com/",
            ),
            (
                "staging-auth.ion-aus.com",
                "https://api-staging-aus.buildwithion.com/",
            ),
        ];
        for (auth, api) in pairs {
            let env = Environment::all()
                .find(|e| e.token_url().host_str() == Some(auth))
                .unwrap_or_else(|| panic!("{auth} is in the table"));
            assert!(env.is_legacy());
            assert_eq!(env.api_base().as_str(), api);
        }
        // The older Keycloak layout on the commercial production and the older gov/aus auth hosts.
        for host in [
            "auth.buildwithion.com",
            "auth.ion-gov.com",
            "auth.ion-aus.com",
        ] {
            let env: Environment = host.parse().unwrap_or_else(|e| panic!("{e}"));
            assert!(
                env.token_url().path().starts_with("/auth/realms/"),
                "{host}"
            );
        }
    }

    #[test]
    fn unknown_names_say_what_is_accepted() {
        let err = "moon-base".parse::<Environment>().expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid configuration: unknown ION environment `moon-base`: expected one of \
             staging, sandbox, production, gov-staging, gov-production, aus-staging, \
             aus-production (or a `-legacy` gov/aus name), or an app host such as app.ion-gov.com"
        );
    }

    #[test]
    fn custom_environments_accept_loopback_http_only() {
        let ok = Environment::custom(
            "http://127.0.0.1:9/graphql",
            "http://localhost:9/realms/api-keys/protocol/openid-connect/token",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.graphql_url().as_str(), "http://127.0.0.1:9/graphql");
        assert_eq!(ok.to_string(), "http://127.0.0.1:9");
        assert!(Environment::custom("http://[::1]:9/ion", "https://auth.example/t").is_ok());

        let err = Environment::custom("http://ion.example.com", "https://auth.example/t")
            .expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "invalid configuration: the API URL `http://ion.example.com/` uses http:// to a host \
             that is not loopback; use https://"
        );
        let err = Environment::custom(
            "https://user:hunter2@ion.example.com",
            "https://a.example/t",
        )
        .expect_err("invalid");
        assert!(!err.to_string().contains("hunter2"));
        assert!(Environment::custom("ftp://x", "https://a.example/t").is_err());
        assert!(Environment::custom("not a url", "https://a.example/t").is_err());
    }

    #[test]
    fn api_base_with_a_path_prefix_keeps_it() {
        let env = Environment::custom("https://proxy.example/ion/", "https://a.example/t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            env.graphql_url().as_str(),
            "https://proxy.example/ion/graphql"
        );
    }

    #[test]
    fn urls_are_quoted_without_credentials() {
        let cases = [
            ("https://api.example/x", "https://api.example/x"),
            (
                "https://bob:hunter2@api.example/x",
                "https://[redacted]@api.example/x",
            ),
            ("https://bob@api.example", "https://[redacted]@api.example"),
            ("http://bob:pw@host\\path", "http://[redacted]@host\\path"),
            ("https://bob:pa/ss@host/x", "https://[redacted]@host/x"),
            ("https://api.example/a@b", "https://api.example/a@b"),
            (
                "https://api.example:8443/a@b",
                "https://api.example:8443/a@b",
            ),
            ("http://bob:hunter2@[::1", "http://[redacted]@[::1"),
            ("bob:hunter2@api.example/a@b", "[redacted]@api.example/a@b"),
            ("not a url", "not a url"),
        ];
        for (raw, shown) in cases {
            assert_eq!(redact_url(raw), shown, "{raw}");
        }
        for raw in [
            "https://bob:hunter2@api.example",
            "http://bob:hunter2@ion.example.com",
            "ftp://bob:hunter2@ion.example.com",
            "http://bob:hunter2@[::1",
        ] {
            let err = parse_endpoint("API URL", raw).expect_err("refused");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(!err.to_string().contains("bob"), "{err}");
            let unknown = format!("{raw}/x")
                .parse::<Environment>()
                .expect_err("unknown");
            assert!(!unknown.to_string().contains("hunter2"), "{unknown}");
        }
    }

    #[test]
    fn the_other_token_path_form() {
        let a = Url::parse("https://h/auth/realms/api-keys/protocol/openid-connect/token")
            .unwrap_or_else(|e| panic!("{e}"));
        let b = other_token_path_form(&a).unwrap_or_else(|| panic!("has a realm"));
        assert_eq!(
            b.as_str(),
            "https://h/realms/api-keys/protocol/openid-connect/token"
        );
        assert_eq!(other_token_path_form(&b), Some(a));
        let none = Url::parse("https://h/token").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other_token_path_form(&none), None);
    }

    #[test]
    fn auth_servers_as_first_resonance_names_them() {
        let cases = [
            (
                "https://auth.buildwithion.com",
                "https://auth.buildwithion.com/auth/realms/api-keys/protocol/openid-connect/token",
            ),
            (
                "https://staging-auth.buildwithion.com/",
                "https://staging-auth.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/auth/realms/api-keys/protocol/openid-connect/token",
            ),
            (
                "http://127.0.0.1:8080/auth",
                "http://127.0.0.1:8080/auth/realms/api-keys/protocol/openid-connect/token",
            ),
            (
                "http://127.0.0.1:8080/realms/api-keys/protocol/openid-connect/token",
                "http://127.0.0.1:8080/realms/api-keys/protocol/openid-connect/token",
            ),
        ];
        for (input, expected) in cases {
            let url =
                Environment::token_url_for_auth_server(input).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(url.as_str(), expected, "{input}");
        }
    }
}
