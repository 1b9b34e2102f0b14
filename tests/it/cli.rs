//! The `herald` binary: configuration errors, migrate, create-merchant.

use std::process::{Command, Output};

fn herald(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command.args(args).env_remove("HERALD_DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run herald")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    for (var, value) in [
        ("HERALD_REQUEST_TIMEOUT", "eventually"),
        ("HERALD_RETRY_SCHEDULE", "5s,,1m"),
        ("HERALD_ALLOWED_PRIVATE_CIDRS", "not-a-cidr"),
        ("HERALD_ADDR", "nowhere"),
        ("HERALD_ALLOW_HTTP", "perhaps"),
    ] {
        let output = herald(
            &["serve"],
            &[(var, value), ("HERALD_DATABASE_URL", "sqlite::memory:")],
        );
        assert!(!output.status.success(), "{var}={value} must stop start-up");
        let message = stderr(&output);
        assert!(
            message.contains(var)
                || message.contains(
                    &var.trim_start_matches("HERALD_")
                        .to_lowercase()
                        .replace('_', "-")
                ),
            "{var}: {message}"
        );
    }
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let output = herald(
        &["migrate"],
        &[("HERALD_DATABASE_URL", "mysql://localhost/herald")],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unsupported database URL"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn create_merchant_prints_an_id_and_a_key_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cli.db").display());
    let env = [("HERALD_DATABASE_URL", url.as_str())];
    let args = [
        "admin",
        "create-merchant",
        "--name",
        "Acme",
        "--email",
        "ops@acme.test",
    ];
    let output = herald(&args, &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("merchant_id: mer_"), "{stdout}");
    assert!(stdout.contains("api_key:     hk_"), "{stdout}");

    let again = herald(&args, &env);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let short = herald(
        &[
            "admin",
            "create-merchant",
            "--name",
            "B",
            "--email",
            "b@acme.test",
            "--password",
            "short",
        ],
        &env,
    );
    assert!(!short.status.success());
    assert!(stderr(&short).contains("password"), "{}", stderr(&short));
}
