//! Command line: `run`, `check`, `demo`, `--version`. Exit codes: 0 ok, 1 bad config
//! or failure to start, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// An edge HTTP load balancer that explains every error it generates.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run with a configuration file.
    Run {
        /// The configuration file.
        #[arg(
            short,
            long,
            env = "PORTCULLIS_CONFIG",
            default_value = "config/portcullis.toml"
        )]
        config: PathBuf,
    },
    /// Validate a configuration file: prints `ok`, or every error as PATH:LINE:COL.
    Check {
        /// The configuration file.
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Start three demo origins (healthy, flaky, slow) and a balancer in front of them.
    Demo,
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Run { config } => match portcullis_config::load(&config) {
            Ok(parsed) => crate::run::run(parsed, Some(config)),
            Err(errors) => config_errors(&errors),
        },
        Command::Demo => crate::demo::run(),
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match portcullis_config::load(path) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(errors) => config_errors(&errors),
    }
}

fn config_errors(errors: &portcullis_config::ConfigErrors) -> ExitCode {
    eprintln!("{errors}");
    ExitCode::from(1)
}
