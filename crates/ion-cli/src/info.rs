//! `ion token`, `ion envs` and `ion schema pull`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use ion_client::{Environment, RawRequest};

/// Acquires a token and prints what it is good for; the token itself only with `--show`.
pub async fn token(show: bool) -> anyhow::Result<()> {
    let target = crate::target::connect().await?;
    let token = target.client.access_token().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "environment: {}", target.client.environment())?;
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
            serde_json::to_string_pretty(&claims)?
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
    let sdl = live_schema(&target.client).await?;
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
        None => std::io::stdout().lock().write_all(sdl.as_bytes())?,
    }
    Ok(())
}

/// The schema of the ION `client` talks to, by introspection, as SDL.
pub async fn live_schema(client: &ion_client::Client) -> anyhow::Result<String> {
    use crate::introspection::{OPERATION_NAME, introspection_query, sdl_from_introspection};
    let query = introspection_query();
    let response = client
        .execute_raw(RawRequest::query(&query).operation_name(OPERATION_NAME))
        .await?;
    sdl_from_introspection(&response).context("the introspection result")
}
