//! Proxy rules: which proxy, if any, a request to a given URL goes through (curl's reading
//! of `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`; loopback never proxied), and
//! the parsing of proxy URLs and `NO_PROXY` lists. Reading the variables is `config`'s.

use std::fmt;

use crate::environment::{is_loopback, redact_url};
use crate::error::Invalid;

/// The proxy variables [`ConfigBuilder::with_env`](super::ConfigBuilder::with_env) reads (see
/// [Proxies](super#proxies)).
pub const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Which proxy, if any, each request goes through. See [Proxies](super#proxies).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxySettings {
    pub(crate) https: Option<url::Url>,
    pub(crate) http: Option<url::Url>,
    pub(crate) all: Option<url::Url>,
    /// `NO_PROXY` entries, lower case, without a leading `.` or `*.`.
    pub(crate) no_proxy: Vec<String>,
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |u: &Option<url::Url>| u.as_ref().map(|u| redact_url(u.as_str()));
        f.debug_struct("ProxySettings")
            .field("https", &show(&self.https))
            .field("http", &show(&self.http))
            .field("all", &show(&self.all))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxySettings {
    /// Whether any proxy is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none() && self.all.is_none()
    }

    /// The proxy for a request to `target`: none for loopback or a `NO_PROXY` host, else the
    /// scheme's own proxy or `ALL_PROXY`.
    pub(crate) fn proxy_for(&self, target: &url::Url) -> Option<url::Url> {
        if is_loopback(target) {
            return None;
        }
        let host = target
            .host_str()?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let excluded = self.no_proxy.iter().any(|entry| {
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        });
        if excluded {
            return None;
        }
        let specific = match target.scheme() {
            "https" => &self.https,
            "http" => &self.http,
            _ => &None,
        };
        specific.clone().or_else(|| self.all.clone())
    }
}

/// `NO_PROXY` entries: lower case, trimmed, without a leading `*.` or `.` or a port.
pub(super) fn no_proxy_entries(list: &str) -> Vec<String> {
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .map(|e| {
            let e = e.trim_start_matches("*.").trim_start_matches('.');
            // `host:port` and `[v6]:port`: the port is ignored.
            let e = match (e.strip_prefix('['), e.rfind(':')) {
                (Some(v6), _) => v6.split(']').next().unwrap_or_default(),
                (None, Some(i)) if e[..i].find(':').is_none() => &e[..i],
                _ => e,
            };
            e.trim_end_matches('.').to_owned()
        })
        .filter(|e| !e.is_empty())
        .collect()
}

/// Parses a proxy URL (`http://proxy:3128`, a bare `proxy:3128` meaning `http://`, `https://`,
/// or SOCKS: `socks5h://` resolves names at the proxy, `socks5://` here), never quoting
/// credentials.
pub(super) fn parse_proxy(raw: &str) -> Result<url::Url, Invalid> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(url)
            if url.has_host()
                && matches!(
                    url.scheme(),
                    "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h"
                ) =>
        {
            Ok(url)
        }
        _ => Err(Invalid::new(format!(
            "`{}` is not a proxy URL such as http://proxy.example:3128",
            redact_url(raw)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_hosts_loopback_and_schemes_pick_the_proxy() {
        let url = |s: &str| url::Url::parse(s).expect("url");
        let proxy = |s: &str| Some(parse_proxy(s).expect("a proxy URL"));
        let settings = ProxySettings {
            https: proxy("http://secure.proxy:3128"),
            http: proxy("plain.proxy:8080"),
            all: proxy("socks5h://any.proxy:1080"),
            no_proxy: no_proxy_entries(
                " .internal.example, *.corp.example ,10.1.2.3,[::2]:8443,host.example:443",
            ),
        };
        let cases = [
            (
                "https://api.buildwithion.com/graphql",
                Some("http://secure.proxy:3128/"),
            ),
            (
                "http://api.example/graphql",
                Some("http://plain.proxy:8080/"),
            ),
            ("http://127.0.0.1:8080/graphql", None),
            ("http://localhost:8080/realms/x", None),
            ("http://[::1]:8080/graphql", None),
            ("https://a.internal.example/", None),
            ("https://internal.example/", None),
            (
                "https://notinternal.example/",
                Some("http://secure.proxy:3128/"),
            ),
            ("https://x.corp.example/", None),
            ("https://10.1.2.3/", None),
            ("https://10.1.2.4/", Some("http://secure.proxy:3128/")),
            ("https://[::2]/", None),
            ("https://host.example/", None),
        ];
        for (target, expected) in cases {
            let via = settings.proxy_for(&url(target)).map(|u| u.to_string());
            assert_eq!(via.as_deref(), expected, "{target}");
        }
        // `*` turns every proxy off.
        let everything = ProxySettings {
            no_proxy: no_proxy_entries("*"),
            ..settings
        };
        assert_eq!(
            everything.proxy_for(&url("https://api.buildwithion.com/")),
            None
        );
    }

    #[test]
    fn bad_proxy_urls_are_refused_without_their_credentials() {
        let refused = parse_proxy("ftp://u:pw@x").expect_err("not a proxy scheme");
        assert_eq!(
            refused.to_string(),
            "`ftp://[redacted]@x` is not a proxy URL such as http://proxy.example:3128"
        );
    }
}
