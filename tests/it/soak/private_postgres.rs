//! A PostgreSQL cluster of the soak's own, so it can be restarted mid-run:
//! the shared test server on 5432 serves other tests at the same time and
//! must never stop.
//!
//! PostgreSQL refuses to run as root and tests run as root, so `initdb` and
//! `pg_ctl` run as the `postgres` user (`runuser`) on a temporary directory
//! handed to it. The cluster listens on a free loopback port only, trusts
//! local connections, and is stopped and deleted when the value is dropped,
//! a panic included.

use crate::processes::free_port;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The system user PostgreSQL runs as.
const OS_USER: &str = "postgres";

/// A running private cluster; stopped and deleted on drop.
pub(crate) struct PrivatePostgres {
    bin: PathBuf,
    runuser: PathBuf,
    /// Holds the data directory, the socket and the server log.
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    /// Creates and starts a cluster. Panics naming what is missing when the
    /// PostgreSQL server binaries or `runuser` are not installed.
    pub(crate) fn start() -> PrivatePostgres {
        let bin = server_bin_dir();
        let runuser = which("runuser").unwrap_or_else(|| {
            panic!(
                "the soak restarts a PostgreSQL of its own and needs `runuser` (util-linux) \
                 to run it as the `{OS_USER}` user; it is not on PATH nor in /usr/sbin"
            )
        });
        let dir = tempfile::tempdir().expect("temp dir for the private cluster");
        let chown = Command::new("chown")
            .arg(format!("{OS_USER}:{OS_USER}"))
            .arg(dir.path())
            .output()
            .expect("run chown");
        assert!(
            chown.status.success(),
            "cannot hand {} to the `{OS_USER}` user: {}",
            dir.path().display(),
            String::from_utf8_lossy(&chown.stderr)
        );
        let cluster = PrivatePostgres {
            bin,
            runuser,
            dir,
            port: free_port(),
        };
        let data = cluster.data_dir();
        // --no-sync and fsync=off: a throwaway cluster; the restarts here
        // are clean shutdowns, never a machine crash, so what reaches the
        // disk is not under test and the shared disk is spared.
        cluster.as_postgres(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.pg_ctl_start();
        cluster
    }

    /// The URL a Herald process connects with.
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast: open connections are cut, as in a real
    /// restart), keeps it down for `down`, and starts it again. Blocking:
    /// run it off the async workers.
    pub(crate) fn restart(&self, down: Duration) {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "30"]);
        std::thread::sleep(down);
        self.pg_ctl_start();
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            path_str(self.dir.path())
        );
        let log = self.dir.path().join("server.log");
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "30",
            "-l",
            path_str(&log),
            "-o",
            &options,
        ]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data_dir();
        let mut all = vec!["-D", path_str(&data)];
        all.extend_from_slice(args);
        self.as_postgres("pg_ctl", &all);
    }

    /// Runs one of the server binaries as the `postgres` user; panics with
    /// its output when it fails.
    fn as_postgres(&self, program: &str, args: &[&str]) -> Output {
        let output = Command::new(&self.runuser)
            .args(["-u", OS_USER, "--"])
            .arg(self.bin.join(program))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {program} through runuser: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Immediate: nothing in it is worth a checkpoint. Errors are ignored
        // (it may already be down); the directory goes with `dir`.
        let data = self.data_dir();
        let _ = Command::new(&self.runuser)
            .args(["-u", OS_USER, "--"])
            .arg(self.bin.join("pg_ctl"))
            .args([
                "-D",
                path_str(&data),
                "stop",
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
            ])
            .output();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and
/// `pg_ctl` (Debian's layout; `pg_ctl` on PATH is a wrapper elsewhere).
fn server_bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "the soak restarts a PostgreSQL of its own and needs the server binaries \
             `initdb` and `pg_ctl` in /usr/lib/postgresql/<version>/bin (Debian package \
             postgresql-<version>); none found"
        )
    })
}

/// The path of `program` on PATH or in the system directories (which a
/// test's PATH may lack), if any.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
