//! The `ion` command line.
//!
//! Logging goes to stderr through `RUST_LOG` (tracing-subscriber's env filter; off when
//! unset, `RUST_LOG=ion_client=debug` shows each request). Secrets never reach it: the
//! library logs none at any level.

mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The ION Factory OS GraphQL API from the command line.
#[derive(Debug, Parser)]
#[command(name = "ion", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a .graphql file against ION and prints the JSON response on stdout.
    ///
    /// Configuration comes from ION_ENV, ION_API_URL, ION_TOKEN_URL, ION_CLIENT_ID,
    /// ION_CLIENT_SECRET (or First Resonance's ION_AUTH_SERVER, ION_API_URI,
    /// ION_API_AUDIENCE).
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    // Silent unless asked: the command reports its own errors on stderr, and a warning
    // repeating them would only add noise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Run(args) => runtime.block_on(run::run(args)),
    }
}
