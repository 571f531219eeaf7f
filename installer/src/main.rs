use std::process::ExitCode;

use clap::Parser;
use uyoop_install::{Cli, Command, check, config, init, policy, render};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            print!("{}", Command::overview());
            Ok(())
        }
        Some(Command::Schema) => {
            print!("{}", config::schema_text());
            Ok(())
        }
        Some(Command::Check(args)) => check::load(&args.config).map(|c| {
            println!(
                "{}: OK (site {}, {} servers, {} agents)",
                args.config.display(),
                c.site,
                c.nodes.servers.count,
                c.nodes.agents.count
            );
        }),
        Some(Command::Init(args)) => init::run(&args),
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::PolicyCheck(args)) => match policy::run(&args) {
            Ok(0) => Ok(()),
            Ok(_) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Some(cmd) => {
            eprintln!("uyoop-install {cmd:?}: not available in this build yet; see `uyoop-install --help`");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
