//! Keycloak's client-credentials token endpoint and ION's check of the `Authorization` header.
//!
//! Tokens are opaque to clients but shaped like Keycloak's JWTs (three base64url parts, with
//! the usual claims) so `ion token` can show their expiry and claims. The signature part is
//! random and is what the emulator remembers; nothing here is cryptographically signed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::ClientCredentials;
use super::engine::Caller;
use super::store::Clock;

/// ION's 401 messages.
pub(crate) const MISSING_CREDENTIALS: &str = "Please provide proper credentials";
pub(crate) const UNPARSABLE_TOKEN: &str = "Unable to parse authentication token";
pub(crate) const EXPIRED_TOKEN: &str = "Token is expired.";

/// Keycloak's answer to both an unknown client and a wrong secret.
const INVALID_CLIENT_DESCRIPTION: &str = "Invalid client or Invalid client credentials";

#[derive(Debug, Clone)]
struct Issued {
    client_id: String,
    user_id: i64,
    exp: i64,
}

pub(crate) struct Auth {
    clients: Vec<ClientCredentials>,
    lifetime: Duration,
    clock: Arc<Clock>,
    issued: Mutex<HashMap<String, Issued>>,
    rng: Mutex<fastrand::Rng>,
}

fn keycloak_error(status: u16, error: &str, description: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": error, "error_description": description }),
    )
}

impl Auth {
    pub fn new(clients: Vec<ClientCredentials>, lifetime: Duration, clock: Arc<Clock>) -> Auth {
        Auth {
            clients,
            lifetime,
            clock,
            issued: Mutex::new(HashMap::new()),
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    fn random_bytes(&self, n: usize) -> Vec<u8> {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (0..n).map(|_| rng.u8(..)).collect()
    }

    fn uuid(&self) -> String {
        let b = self.random_bytes(16);
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// Answers a token request: the status and JSON body Keycloak would send.
    ///
    /// `form` is the decoded form body; `basic` the client credentials of an
    /// `Authorization: Basic` header (client_secret_basic), if any.
    pub fn token(
        &self,
        form: &[(String, String)],
        basic: Option<(String, String)>,
        issuer: &str,
    ) -> (u16, Value) {
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(grant_type) = field("grant_type") else {
            return keycloak_error(400, "invalid_request", "Missing form parameter: grant_type");
        };
        let (client_id, secret) = match (&basic, field("client_id")) {
            (Some((id, secret)), _) => (Some(id.as_str()), Some(secret.as_str())),
            (None, id) => (id, field("client_secret")),
        };
        let Some(client_id) = client_id.filter(|c| !c.is_empty()) else {
            return keycloak_error(401, "invalid_client", "Missing client_id parameter");
        };
        let Some(client) = self.clients.iter().find(|c| c.id == client_id) else {
            return keycloak_error(401, "invalid_client", INVALID_CLIENT_DESCRIPTION);
        };
        let Some(secret) = secret else {
            return keycloak_error(
                401,
                "unauthorized_client",
                "Client secret not provided in request",
            );
        };
        if secret != client.secret {
            return keycloak_error(401, "unauthorized_client", INVALID_CLIENT_DESCRIPTION);
        }
        if grant_type != "client_credentials" {
            return keycloak_error(400, "unsupported_grant_type", "Unsupported grant_type");
        }
        let token = self.mint(client, issuer);
        (
            200,
            json!({
                "access_token": token,
                "expires_in": self.lifetime.as_secs(),
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile email",
            }),
        )
    }

    /// Issues a token for a client without an HTTP round trip.
    pub fn mint(&self, client: &ClientCredentials, issuer: &str) -> String {
        let iat = self.clock.now_secs();
        let exp = iat + i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX / 4);
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "ion-emulator" });
        let claims = json!({
            "exp": exp,
            "iat": iat,
            "jti": self.uuid(),
            "iss": issuer,
            "aud": "account",
            "sub": self.uuid(),
            "typ": "Bearer",
            "azp": client.id,
            "scope": "profile email",
            "clientId": client.id,
            "clientHost": "127.0.0.1",
            "clientAddress": "127.0.0.1",
            "email_verified": false,
            "preferred_username": format!("service-account-{}", client.id),
        });
        let signature = URL_SAFE_NO_PAD.encode(self.random_bytes(64));
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            signature
        );
        let mut issued = self
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget tokens long expired so a long-running emulator does not grow without bound.
        let horizon = iat - 3600;
        issued.retain(|_, t| t.exp > horizon);
        issued.insert(
            signature,
            Issued {
                client_id: client.id.clone(),
                user_id: client.user_id,
                exp,
            },
        );
        token
    }

    /// Checks an `Authorization` header as ION does: `Bearer <token>`, `Token <token>` or the
    /// bare token. The error is ION's 401 message.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Caller, &'static str> {
        let header = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(MISSING_CREDENTIALS)?;
        let token = match header.split_once(' ') {
            Some((scheme, rest))
                if scheme.eq_ignore_ascii_case("bearer")
                    || scheme.eq_ignore_ascii_case("token") =>
            {
                rest.trim()
            }
            Some(_) => return Err(UNPARSABLE_TOKEN),
            None => header,
        };
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(UNPARSABLE_TOKEN);
        };
        let decode = |p: &str| -> Option<Value> {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
        };
        let (Some(_), Some(claims)) = (decode(h), decode(c)) else {
            return Err(UNPARSABLE_TOKEN);
        };
        let issued = self
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(known) = issued.get(sig) else {
            // Well-formed but not ours (another emulator, a forged or edited token).
            return Err(MISSING_CREDENTIALS);
        };
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .unwrap_or(known.exp)
            .min(known.exp);
        if exp <= self.clock.now_secs() {
            return Err(EXPIRED_TOKEN);
        }
        Ok(Caller {
            client_id: known.client_id.clone(),
            user_id: known.user_id,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new(
            vec![ClientCredentials::new("local", "local-secret")],
            Duration::from_secs(300),
            Arc::default(),
        )
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keycloak_errors() {
        let a = auth();
        let ok = [
            ("grant_type", "client_credentials"),
            ("client_id", "local"),
            ("client_secret", "local-secret"),
        ];
        assert_eq!(a.token(&form(&ok), None, "iss").0, 200);
        assert_eq!(
            a.token(&form(&ok[1..]), None, "iss").1["error"],
            "invalid_request"
        );
        let wrong = [ok[0], ok[1], ("client_secret", "nope")];
        assert_eq!(
            a.token(&form(&wrong), None, "iss").1["error"],
            "unauthorized_client"
        );
        let unknown = [ok[0], ("client_id", "who"), ok[2]];
        assert_eq!(
            a.token(&form(&unknown), None, "iss").1["error"],
            "invalid_client"
        );
        let grant = [("grant_type", "password"), ok[1], ok[2]];
        assert_eq!(
            a.token(&form(&grant), None, "iss").1["error"],
            "unsupported_grant_type"
        );
        let basic = Some(("local".to_owned(), "local-secret".to_owned()));
        assert_eq!(a.token(&form(&ok[..1]), basic, "iss").0, 200);
    }

    #[test]
    fn header_forms_and_expiry() {
        let a = auth();
        let t = a.mint(&ClientCredentials::new("local", "local-secret"), "iss");
        for h in [
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("Token {t}"),
            t.clone(),
        ] {
            assert!(a.authenticate(Some(&h)).is_ok(), "{h}");
        }
        assert_eq!(a.authenticate(None).unwrap_err(), MISSING_CREDENTIALS);
        assert_eq!(
            a.authenticate(Some("Bearer abc")).unwrap_err(),
            UNPARSABLE_TOKEN
        );
        assert_eq!(
            a.authenticate(Some(&format!("Basic {t}"))).unwrap_err(),
            UNPARSABLE_TOKEN
        );
        let forged = format!("{}x", t);
        assert_eq!(
            a.authenticate(Some(&forged)).unwrap_err(),
            MISSING_CREDENTIALS
        );
        a.clock.advance(Duration::from_secs(301));
        assert_eq!(a.authenticate(Some(&t)).unwrap_err(), EXPIRED_TOKEN);
    }
}
