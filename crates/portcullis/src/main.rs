//! The `portcullis` binary: parses the command line and hands over to `cli`.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

mod cli;
mod demo;
mod logging;
mod reload;
mod run;
mod signals;
mod status;
mod watch;

fn main() -> std::process::ExitCode {
    cli::main()
}
