//! The `herald` binary: configuration errors, migrate, create-merchant
//! (with its password from standard input).

use std::process::{Command, Output};

/// `herald` with `args` and `env`, never an inherited `HERALD_DATABASE_URL`.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command.args(args).env_remove("HERALD_DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

fn herald(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("run herald")
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

    let (short, _) = herald_with_stdin(
        &[
            "admin",
            "create-merchant",
            "--name",
            "B",
            "--email",
            "b@acme.test",
            "--password-stdin",
        ],
        &env,
        "short\n",
    );
    assert!(!short.status.success());
    assert!(stderr(&short).contains("password"), "{}", stderr(&short));
}

/// Runs `herald` with `input` on its standard input.
fn herald_with_stdin(args: &[&str], env: &[(&str, &str)], input: &str) -> (Output, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command(args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run herald");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("herald output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

#[tokio::test]
async fn create_merchant_reads_the_password_from_standard_input_never_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cli.db").display());
    let env = [("HERALD_DATABASE_URL", url.as_str())];
    let password = "correct horse battery staple";

    // On the command line a password is refused outright: `ps` and the
    // shell history would show it.
    let on_the_line = herald(
        &[
            "admin",
            "create-merchant",
            "--name",
            "Acme",
            "--email",
            "ops@acme.test",
            "--password",
            password,
        ],
        &env,
    );
    assert!(!on_the_line.status.success());
    assert!(
        stderr(&on_the_line).contains("--password-stdin"),
        "the error points at the way that works: {}",
        stderr(&on_the_line)
    );

    let (output, stdout) = herald_with_stdin(
        &[
            "admin",
            "create-merchant",
            "--name",
            "Acme",
            "--email",
            "ops@acme.test",
            "--password-stdin",
        ],
        &env,
        &format!("{password}\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout.contains("merchant_id: mer_"), "{stdout}");
    assert!(!stdout.contains(password) && !stderr(&output).contains(password));

    // The password read from standard input is the one that logs in.
    let store = herald::store::Store::connect(&url).await.expect("open");
    let accounts = herald::service::Accounts::new(store);
    let merchant = accounts
        .log_in("ops@acme.test", password, None)
        .await
        .expect("the password from standard input logs in");
    assert_eq!(merchant.merchant.email, "ops@acme.test");

    // Nothing on standard input is an error, not an account without one.
    let (empty, _) = herald_with_stdin(
        &[
            "admin",
            "create-merchant",
            "--name",
            "B",
            "--email",
            "b@acme.test",
            "--password-stdin",
        ],
        &env,
        "",
    );
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("--password-stdin"),
        "{}",
        stderr(&empty)
    );
}
