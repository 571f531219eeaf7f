//! The `uyoop-cal` command: `serve`, `migrate`, `config check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uyoop_cal::config::Settings;
use uyoop_cal::{server, store, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "uyoop-cal",
    version,
    about = "uYoop-Cal: DevOps + Agile control center"
)]
struct Cli {
    /// Configuration file (TOML or YAML). Environment variables `UYOOP_SECTION__KEY` override it.
    #[arg(long, short, global = true, env = "UYOOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve,
    /// Apply the database migrations, then exit.
    Migrate,
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets masked), or the error naming the key at fault.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::Config {
        command: ConfigCommand::Check,
    } = cli.command
    {
        print!("{}", settings.to_redacted_toml());
        return ExitCode::SUCCESS;
    }
    telemetry::init(&settings.log);
    for key in uyoop_cal::config::unknown_env_sections() {
        tracing::warn!(%key, "ignoring an environment variable of an unknown configuration section");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => {
                let state = server::build_state(settings).await?;
                server::serve(state, server::shutdown_signal(), |r| {
                    eprintln!(
                        "uYoop-Cal listening on http://{} (metrics: {:?})",
                        r.addr, r.metrics_addr
                    )
                })
                .await
            }
            Command::Migrate => {
                let store = store::connect(&settings.database).await?;
                store.migrate().await?;
                store.close().await;
                eprintln!("migrations applied ({})", store.backend().as_str());
                Ok(())
            }
            Command::Config { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
