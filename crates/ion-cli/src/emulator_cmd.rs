//! `ion emulator`: a local ION in the foreground, with the banner that tells how to use it.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ion_emulator::{ClientCredentials, Emulator, EmulatorOptions, RateLimit, Seed};

/// Runs a local ION (Keycloak token endpoint + GraphQL) on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port to listen on (default: any free port).
    #[arg(long)]
    port: Option<u16>,
    /// SDL to serve (default: the schema compiled into ion, schema/ion.graphql).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Starting data: `demo`, `empty`, or a JSON seed file.
    #[arg(long, value_name = "NAME|FILE", default_value = "demo")]
    seed: String,
    /// An API client the token endpoint accepts, as ID:SECRET (repeatable; default
    /// local:local-secret).
    #[arg(long = "client", value_name = "ID:SECRET", value_parser = parse_client)]
    clients: Vec<ClientCredentials>,
    /// Limit each client to this many GraphQL requests per second (a token bucket; beyond it
    /// ION's 429 with Retry-After). Default: no limit.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    rate_limit: Option<f64>,
    /// The largest burst under --rate-limit (default: one second's worth).
    #[arg(long, value_name = "REQUESTS", requires = "rate_limit")]
    burst: Option<u32>,
}

/// A positive, finite number of requests per second.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "expected a positive number of requests per second, found {text:?}"
        )),
    }
}

/// `ID:SECRET`, both parts non-empty. The error names what was found but never the secret.
fn parse_client(spec: &str) -> Result<ClientCredentials, String> {
    match spec.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(ClientCredentials::new(id, secret))
        }
        Some((id, _)) if !id.is_empty() => Err(format!("client {id:?} has an empty SECRET")),
        Some(_) => Err("expected ID:SECRET, found an empty ID".into()),
        None => Err("expected ID:SECRET, found no `:`".into()),
    }
}

pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let mut options = EmulatorOptions::new();
    if let Some(port) = args.port {
        options = options.port(port);
    }
    if let Some(schema) = &args.schema {
        options = options.schema_file(schema);
    }
    let seed: Seed = args.seed.parse().context("--seed")?;
    options = options.seed(seed);
    for client in args.clients {
        options = options.client(client);
    }
    if let Some(rate) = args.rate_limit {
        // One second's worth by default, at least one request.
        let burst = args
            .burst
            .unwrap_or(rate.ceil().min(f64::from(u32::MAX)) as u32);
        options = options.rate_limit(RateLimit::new(rate, burst));
    }
    run_until(options, std::io::stdout(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Runs an emulator until `shutdown` completes, writing its URLs, credentials and the
/// `export` lines that point `ion` (or any `Config::from_env` user) at it to `out` first.
pub async fn run_until<W: Write>(
    options: EmulatorOptions,
    mut out: W,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let emulator = Emulator::start(options).await.context("emulator")?;
    banner(&emulator, &mut out).context("cannot write the emulator's banner")?;
    shutdown.await;
    emulator.shutdown().await;
    Ok(())
}

fn banner<W: Write>(emulator: &Emulator, out: &mut W) -> std::io::Result<()> {
    let s = emulator.stats();
    writeln!(
        out,
        "ION emulator on {} ({} types, {} tables, started in {} ms)",
        emulator.api_base(),
        s.types,
        s.entities,
        s.startup.as_millis()
    )?;
    writeln!(out, "  GraphQL:   {}", emulator.graphql_url())?;
    writeln!(out, "  Token URL: {}", emulator.token_url())?;
    writeln!(
        out,
        "             {}",
        emulator.token_url_without_auth_prefix()
    )?;
    for c in emulator.clients() {
        // An emulator's secrets are throwaway values, printed so they can be pasted.
        writeln!(out, "  Client:    {}  (secret: {})", c.id, c.secret)?;
    }
    writeln!(out, "Use it with:")?;
    writeln!(out, "  export ION_API_URL={}", emulator.api_base())?;
    writeln!(out, "  export ION_TOKEN_URL={}", emulator.token_url())?;
    writeln!(out, "  export ION_CLIENT_ID={}", emulator.client_id())?;
    writeln!(
        out,
        "  export ION_CLIENT_SECRET={}",
        emulator.client_secret()
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_specs() {
        let c = parse_client("ci:s3cret").expect("valid");
        assert_eq!((c.id.as_str(), c.secret.as_str()), ("ci", "s3cret"));
        assert_eq!(
            parse_client("ci:").expect_err("empty secret"),
            "client \"ci\" has an empty SECRET"
        );
        assert_eq!(
            parse_client(":x").expect_err("empty id"),
            "expected ID:SECRET, found an empty ID"
        );
        assert_eq!(
            parse_client("cix").expect_err("no colon"),
            "expected ID:SECRET, found no `:`"
        );
    }

    #[tokio::test]
    async fn run_until_prints_urls_and_credentials() {
        let mut out = Vec::new();
        run_until(EmulatorOptions::new(), &mut out, async {})
            .await
            .expect("runs");
        let text = String::from_utf8(out).expect("utf-8");
        for needle in [
            "ION emulator on http://127.0.0.1:",
            "/graphql",
            "/auth/realms/api-keys/protocol/openid-connect/token",
            "export ION_CLIENT_ID=local",
            "export ION_CLIENT_SECRET=local-secret",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }
}
