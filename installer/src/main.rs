use clap::Parser;
use uyoop_install::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => {
            print!("{}", Command::overview());
            std::process::ExitCode::SUCCESS
        }
        Some(cmd) => {
            eprintln!("uyoop-install {cmd:?}: not available in this build yet; see `uyoop-install --help`");
            std::process::ExitCode::from(2)
        }
    }
}
