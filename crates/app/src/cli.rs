//! The command line (clap). Each subcommand parses its flags here and hands off to its module.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: identity, developer console, token service and webhook events in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command understands; they override the config file and the environment.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Keys are documented in the built-in config.default.toml.
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database, master key and mail outbox [default: ./gatehouse-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://… or postgres://… [default: SQLite file in the data directory]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: token service, console, events API and dispatcher.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create or update organizations, accounts, services and integrations from a TOML file (idempotent).
    Apply(ApplyArgs),
    /// Write the current organizations, accounts, services and integrations in the `apply` format.
    Export(ExportArgs),
    /// Key material for service accounts.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the version.
    Version,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Public base URL, used as the token issuer [default: http://<listen>]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The provisioning file (TOML).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Show what would change without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a private key and a self-signed certificate for a service account
    /// (like `openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048`).
    Generate(KeysGenerateArgs),
}

#[derive(Debug, Args)]
pub struct KeysGenerateArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long, default_value = "private.key", value_name = "FILE")]
    pub key_out: PathBuf,
    /// Where to write the certificate (PEM).
    #[arg(long, default_value = "certificate_pub.crt", value_name = "FILE")]
    pub cert_out: PathBuf,
    /// Certificate subject common name.
    #[arg(long, default_value = "gatehouse-service-account")]
    pub common_name: String,
    /// Validity in days.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Key type.
    #[arg(long, value_enum, default_value_t = KeyAlgorithm::Rsa2048)]
    pub algorithm: KeyAlgorithm,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithm {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcP256,
}

/// Parses the command line and runs the command. Errors are printed without a backtrace, as one
/// message a person can act on.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => {
            println!("gatehouse {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Keys(KeysCommand::Generate(args)) => crate::keys::generate_cmd(&args),
        command => runtime().and_then(|rt| {
            rt.block_on(async move {
                match command {
                    Command::Serve(args) => {
                        let overrides = Overrides {
                            listen: args.listen,
                            public_url: args.public_url,
                        };
                        let cfg = config::load(&cli.global, &overrides)?;
                        crate::serve::run(cfg).await
                    }
                    Command::Migrate => {
                        crate::serve::migrate_cmd(config::load(&cli.global, &Overrides::default())?).await
                    }
                    Command::Apply(args) => {
                        crate::provision::apply_cmd(config::load(&cli.global, &Overrides::default())?, &args).await
                    }
                    Command::Export(args) => {
                        crate::provision::export_cmd(config::load(&cli.global, &Overrides::default())?, &args).await
                    }
                    Command::Version | Command::Keys(_) => Ok(()),
                }
            })
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
