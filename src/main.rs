//! `herald`: parse the command line, load the configuration, run.

#![forbid(unsafe_code)]

use clap::Parser;
use herald::config::{AdminCommand, Cli, Command, SecretKeys, ServeConfig};
use herald::service::{secrets_at_rest, Accounts};
use herald::store::Store;
use herald::{shutdown_signal, Herald};
use herald_app::model::merchant::Role;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        .init();
    let result = match cli.command {
        Command::Serve(config) => serve(&cli.database_url, config).await,
        Command::Migrate => migrate(&cli.database_url).await,
        Command::Admin(AdminCommand::CreateMerchant {
            name,
            email,
            password_stdin,
            admin,
        }) => create_merchant(&cli.database_url, &name, &email, password_stdin, admin).await,
        Command::Admin(AdminCommand::ResealSecrets { keys }) => {
            reseal_secrets(&cli.database_url, &keys).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("herald: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(database_url: &str, config: ServeConfig) -> Result<(), String> {
    let leptos = load_leptos_options()?;
    let addr = config.addr.unwrap_or(leptos.site_addr);
    let mut herald = Herald::build(database_url, config, leptos)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (HERALD_ADDR): {e}"))?;
    if let Some(token) = herald.take_generated_token() {
        // Printed once, on the terminal only: it is stored hashed.
        println!("Generated the platform token (shown only now; store it safely):");
        println!("  HERALD_PLATFORM_TOKEN={}", token.expose());
    }
    println!(
        "Herald is running at http://{addr}  (database: {})",
        herald.store().backend_name()
    );
    herald
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Site options from `Leptos.toml` in the working directory when present,
/// else from `LEPTOS_*` variables and defaults.
fn load_leptos_options() -> Result<leptos::config::LeptosOptions, String> {
    let file = std::path::Path::new("Leptos.toml");
    let conf = if file.exists() {
        leptos::config::get_configuration(Some("Leptos.toml"))
    } else {
        leptos::config::get_configuration(None)
    };
    conf.map(|c| c.leptos_options)
        .map_err(|e| format!("Leptos.toml: {e}"))
}

/// Opens the database and brings its schema up to date.
async fn open_migrated(database_url: &str) -> Result<Store, String> {
    let store = Store::connect(database_url)
        .await
        .map_err(|e| format!("database: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    Ok(store)
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let store = open_migrated(database_url).await?;
    println!("database is up to date ({})", store.backend_name());
    Ok(())
}

async fn create_merchant(
    database_url: &str,
    name: &str,
    email: &str,
    password_stdin: bool,
    admin: bool,
) -> Result<(), String> {
    let password = if password_stdin {
        Some(read_password_line(std::io::stdin().lock())?)
    } else {
        None
    };
    let store = open_migrated(database_url).await?;
    let role = if admin { Role::Admin } else { Role::Merchant };
    let (merchant, key) = Accounts::new(store)
        .create_merchant(name, email, password, role)
        .await
        .map_err(|e| e.to_string())?;
    println!("merchant_id: {}", merchant.id);
    println!("api_key:     {}  (shown only now)", key.key);
    Ok(())
}

/// The password on the first line of `input`, without its line ending.
fn read_password_line(mut input: impl std::io::BufRead) -> Result<String, String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| format!("--password-stdin: cannot read standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("--password-stdin: standard input has no password on its first line".into());
    }
    Ok(password.to_owned())
}

async fn reseal_secrets(database_url: &str, keys: &SecretKeys) -> Result<(), String> {
    let secrets = keys.secret_box().map_err(|e| e.to_string())?;
    let store = open_migrated(database_url).await?;
    let report = secrets_at_rest::reseal_secrets(&store, &secrets)
        .await
        .map_err(|e| format!("re-sealing stopped: {e}"))?;
    let how = if secrets.seals() {
        "sealed with HERALD_SECRET_KEY"
    } else {
        "stored as plain text (no HERALD_SECRET_KEY)"
    };
    println!(
        "re-sealed {} secrets, {} already {how}",
        report.resealed, report.unchanged
    );
    if report.raced > 0 {
        println!(
            "{} changed while this ran (a rotation); run the command again",
            report.raced
        );
    }
    Ok(())
}
