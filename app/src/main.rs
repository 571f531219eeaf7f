//! The `uyoop-cal` command: `serve`, `migrate`, `config check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uyoop_cal::config::Settings;
use uyoop_cal::model::Role;
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
    /// Administration from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account (e.g. the first ADMIN). The password is read from the first line of
    /// standard input, or from `UYOOP_ADMIN_PASSWORD`; it is never a command-line argument.
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// E-mail.
        #[arg(long)]
        email: String,
        /// PROJET, DEV, OPS or ADMIN.
        #[arg(long, default_value = "ADMIN")]
        role: String,
    },
    /// Add a new JWT signing key and make it current. Tokens signed with older keys keep
    /// verifying until they expire; every replica picks the new key up within a minute.
    RotateSigningKey,
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
            Command::Admin {
                command: AdminCommand::RotateSigningKey,
            } => {
                let secrets = uyoop_cal::secrets::connect(&settings).await?;
                let kid = secrets.rotate_jwt_key().await?;
                println!("new signing key {kid} is current ({} backend)", secrets.backend());
                Ok(())
            }
            Command::Admin {
                command:
                    AdminCommand::Create {
                        username,
                        email,
                        role,
                    },
            } => {
                let role: Role = role
                    .parse()
                    .map_err(|e: String| uyoop_cal::Error::invalid("role", "invalid", e))?;
                let password = match std::env::var("UYOOP_ADMIN_PASSWORD") {
                    Ok(p) if !p.is_empty() => p,
                    _ => {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line).map_err(|e| {
                            uyoop_cal::Error::BadRequest(format!("cannot read the password from stdin: {e}"))
                        })?;
                        line.trim_end_matches(['\r', '\n']).to_owned()
                    }
                };
                let user =
                    uyoop_cal::users::create_from_cli(&settings, &username, &email, role, &password).await?;
                println!(
                    "created {} ({}) with id {}",
                    user.username,
                    user.role.as_str(),
                    user.id
                );
                Ok(())
            }
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
