//! `ion token`, `ion envs` and `ion schema pull`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use ion_client::{Environment, RawRequest};

use crate::output::{self, Secrets};
use crate::target::Target;

/// Acquires a token and prints what it is good for; the token itself only with `--show`.
/// Claims come from the token endpoint: they are printed without the token or the secret
/// and with control characters escaped, like any server text.
pub async fn token(show: bool) -> anyhow::Result<()> {
    let target = crate::target::connect().await?;
    let token = target.client.access_token().await?;
    let mut secrets = Secrets::default();
    target.collect_secrets(&mut secrets).await;
    secrets.add(token.secret());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "environment: {}",
        output::escape_controls(&target.client.environment().to_string())
    )?;
    writeln!(out, "usable for:  {} s", token.usable_for().as_secs())?;
    if let Some(claims) = token.claims() {
        if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64)
            && let Ok(ts) = jiff::Timestamp::from_second(exp)
        {
            writeln!(out, "expires at:  {ts}")?;
        }
        writeln!(
            out,
            "claims:      {}",
            output::json_pretty(&secrets.json(claims))
        )?;
    }
    if show {
        writeln!(out, "token:       {}", token.secret())?;
    }
    Ok(())
}

/// The environment table.
pub fn envs() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<22} {:<52} {:<45} TOKEN URL",
        "NAME", "APP HOSTS", "API"
    )?;
    for env in Environment::all() {
        writeln!(
            out,
            "{:<22} {:<52} {:<45} {}",
            env.name().unwrap_or("custom"),
            env.app_hosts().join(", "),
            env.api_base().as_str().trim_end_matches('/'),
            env.token_url()
        )?;
    }
    Ok(())
}

/// Introspects the schema and writes it as SDL.
pub async fn pull(output: Option<PathBuf>) -> anyhow::Result<()> {
    let target = crate::target::connect().await?;
    let sdl = live_schema(&target).await?;
    match output {
        Some(path) => {
            std::fs::write(&path, &sdl)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} lines); rebuild to revalidate every query against it",
                path.display(),
                sdl.lines().count()
            );
        }
        // Descriptions are server text: a terminal gets them with control characters
        // escaped, a pipe or a file the schema as sent.
        None => {
            let mut out = std::io::stdout().lock();
            if std::io::IsTerminal::is_terminal(&out) {
                out.write_all(output::escape_controls(&sdl).as_bytes())?;
            } else {
                out.write_all(sdl.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// The schema of the ION `target` talks to, by introspection, as SDL. The response is read
/// without the secrets `ion` holds, so none can reach a description or an error message.
pub async fn live_schema(target: &Target) -> anyhow::Result<String> {
    use crate::introspection::{OPERATION_NAME, introspection_query, sdl_from_introspection};
    let query = introspection_query();
    let response = target
        .client
        .execute_raw(RawRequest::query(&query).operation_name(OPERATION_NAME))
        .await;
    let mut secrets = Secrets::default();
    target.collect_secrets(&mut secrets).await;
    sdl_from_introspection(&secrets.json(response?)).context("the introspection result")
}
