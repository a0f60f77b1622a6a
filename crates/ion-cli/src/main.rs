//! The `ion` command line.
//!
//! Logging goes to stderr through `RUST_LOG` (tracing-subscriber's env filter; off when
//! unset, `RUST_LOG=ion_client=debug` shows each request). Secrets never reach it: the
//! library logs none at any level, and tracing-subscriber escapes the control characters of
//! logged values. Everything else `ion` prints goes through `output`.

mod drift_cmd;
mod emulator_cmd;
mod export;
mod files_cmd;
mod import;
mod info;
mod introspection;
mod new_query;
mod output;
mod progress;
mod run;
mod schema_cmd;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The ION Factory OS GraphQL API from the command line.
///
/// Configuration comes from ION_ENV, ION_API_URL, ION_TOKEN_URL, ION_CLIENT_ID,
/// ION_CLIENT_SECRET (or First Resonance's ION_AUTH_SERVER, ION_API_URI, ION_API_AUDIENCE).
/// With none of them set, commands that talk to ION use an embedded emulator with demo data.
#[derive(Debug, Parser)]
#[command(name = "ion", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a .graphql file against ION and prints the JSON response on stdout.
    Run(run::RunArgs),
    /// Runs an operation once per row of a CSV or JSON Lines file, every value checked
    /// against the schema first, with a resumable ledger. Exit status: 0 all ok, 1 some row
    /// failed, 2 some row's outcome is unknown.
    Import(import::ImportArgs),
    /// Writes every node of a paginated query, one per line (JSON Lines or CSV), one page in
    /// memory; --state resumes an interrupted export or exports what changed since the last.
    Export(export::ExportArgs),
    /// Acquires an access token and prints its expiry and claims (never the token, unless
    /// --show).
    Token {
        /// Also print the token itself.
        #[arg(long)]
        show: bool,
    },
    /// Lists the ION environments and their endpoints.
    Envs,
    /// Works with the GraphQL schema.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Attaches files to an entity (run, step, issue, part, ...): one JSON line per
    /// attachment on stdout, progress on stderr.
    Attach(files_cmd::AttachArgs),
    /// Downloads attachments into a folder (or one to a path): one JSON line per file on
    /// stdout, progress on stderr.
    Download(files_cmd::DownloadArgs),
    /// Runs a local ION (token endpoint + GraphQL over the schema) until Ctrl-C.
    Emulator(emulator_cmd::EmulatorArgs),
    /// Writes a commented template for a new operation into queries/.
    NewQuery {
        /// The operation's name, e.g. ListOpenRuns.
        name: String,
        /// The folder to write it to.
        #[arg(long, default_value = "queries")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Fetches the live schema by introspection and writes it as SDL.
    Pull {
        /// Where to write it (stdout when absent), e.g. schema/ion.graphql.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Validates operations as the build does, without building; with --live, reports what
    /// the configured ION's schema changes for them.
    Check {
        /// Files or folders of .graphql operations.
        #[arg(default_value = "queries")]
        paths: Vec<PathBuf>,
        /// The schema to validate against (default: schema/ion.graphql when the current
        /// directory has one, else the schema shipped with ion).
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// Pull the live schema of the configured ION (or the embedded emulator) and report
        /// each use in the operations that its changes touch, with what the generated code
        /// would do. Exit status: 0 clean, 1 breaking, 2 dangerous only.
        #[arg(long)]
        live: bool,
    },
    /// Lists every change from OLD to NEW as breaking, dangerous or safe, one per line.
    /// Exit status: 0 none or only safe, 1 breaking, 2 dangerous only.
    Diff {
        /// The schema before.
        old: PathBuf,
        /// The schema after.
        new: PathBuf,
    },
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
    let result = match cli.command {
        Command::Run(args) => return runtime.block_on(run::run(args)),
        Command::Attach(args) => return runtime.block_on(files_cmd::attach(args)),
        Command::Download(args) => return runtime.block_on(files_cmd::download(args)),
        Command::Import(args) => return runtime.block_on(import::run(args)),
        Command::Export(args) => return runtime.block_on(export::run(args)),
        Command::Token { show } => runtime.block_on(info::token(show)),
        Command::Envs => info::envs(),
        Command::Schema(SchemaCommand::Pull { output }) => runtime.block_on(info::pull(output)),
        Command::Schema(SchemaCommand::Check {
            paths,
            schema,
            live: false,
        }) => match schema_cmd::resolve(schema.as_deref())
            .and_then(|schema| schema_cmd::check(&schema, &paths))
        {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Schema(SchemaCommand::Check {
            paths,
            schema,
            live: true,
        }) => {
            return exit_with(runtime.block_on(drift_cmd::check_live(schema.as_deref(), &paths)));
        }
        Command::Schema(SchemaCommand::Diff { old, new }) => {
            return exit_with(drift_cmd::diff(&old, &new));
        }
        Command::Emulator(args) => runtime.block_on(emulator_cmd::run(args)),
        Command::NewQuery { name, dir } => new_query::scaffold(&name, &dir).map(|path| {
            eprintln!(
                "wrote {}; edit it, then `cargo build` (or `ion schema check`)",
                output::escape_controls(&path.display().to_string())
            );
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// `error: ` and the error's chain on stderr, control characters escaped.
fn print_error(e: &anyhow::Error) {
    eprintln!("error: {}", output::escape_controls(&format!("{e:#}")));
}

/// A drift command's own exit status (0, 1 or 2), or 1 with the error on stderr.
fn exit_with(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::FAILURE
        }
    }
}

/// A closed pipe (`ion envs | head`) is the reader's choice, not a failure.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
