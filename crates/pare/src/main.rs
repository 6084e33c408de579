//! The `pare` command: a thin layer that parses arguments, calls the
//! libraries and prints. Errors become one line on stderr and exit status 1;
//! bad usage exits 2 (clap); a matched `--fail-on` policy exits 3.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod escape;
mod output;
mod progress;

fn main() -> ExitCode {
    // The sandbox's helper is pare itself (see pare_trace::sandbox); it
    // runs before anything else so that it is still single-threaded.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(pare_trace::sandbox::INIT_ARG) {
        pare_trace::sandbox::init_main(&args[2..]);
    }
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // One line, whatever the image put in the names it quotes.
            eprintln!("{}", output::error_line(&err));
            ExitCode::from(1)
        }
    }
}
