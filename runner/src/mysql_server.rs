//! A throwaway MariaDB server: `mariadb-install-db` into a temporary directory, `mariadbd`
//! listening only on a Unix socket in that directory, and removal of both when the
//! [`MariaDbServer`] is dropped (success, error, panic; the caller drops it on SIGINT/SIGTERM too).
//!
//! A root caller runs the server as an unprivileged user (`mysql`, the user the Debian package
//! creates, or `SLUICE_TRACE_MYSQL_USER`). Each server directory holds an owner marker (the pid and
//! start time of the process that made it); a later run removes directories whose owner is dead,
//! after stopping the server left in them.

use crate::error::{Error, Result};
use crate::owned::{self, as_user, owner_marker, run_setup};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Prefix of every server directory in the temporary directory.
pub const DIR_PREFIX: &str = "sluice-mariadb-";
/// The owner marker file inside a server directory.
pub const OWNER_FILE: &str = "sluice-owner.pid";
/// The account created by `mariadb-install-db --auth-root-authentication-method=normal`.
pub const SUPERUSER: &str = "root";

/// Where the MariaDB server binaries are.
#[derive(Clone, Debug)]
pub struct MariaDbBinaries {
    pub install_db: PathBuf,
    pub server: PathBuf,
}

impl MariaDbBinaries {
    /// `SLUICE_MARIADB_BINDIR` (both binaries in it), else `/usr/bin`, `/usr/sbin` and `PATH`.
    pub fn find() -> Result<MariaDbBinaries> {
        let missing = |what: &str| Error::NoMariaDbBinaries(what.to_string());
        if let Some(d) = std::env::var_os("SLUICE_MARIADB_BINDIR") {
            let d = PathBuf::from(d);
            let (i, s) = (d.join("mariadb-install-db"), d.join("mariadbd"));
            return if i.is_file() && s.is_file() {
                Ok(MariaDbBinaries { install_db: i, server: s })
            } else {
                Err(missing(&format!("no mariadb-install-db/mariadbd in SLUICE_MARIADB_BINDIR={}", d.display())))
            };
        }
        let mut dirs = vec![PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file());
        match (find("mariadb-install-db"), find("mariadbd")) {
            (Some(install_db), Some(server)) => Ok(MariaDbBinaries { install_db, server }),
            _ => Err(missing("looked in SLUICE_MARIADB_BINDIR, /usr/bin, /usr/sbin and PATH")),
        }
    }
}

/// The OS user the server runs as when the caller is root.
fn server_user() -> Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let name = std::env::var("SLUICE_TRACE_MYSQL_USER").unwrap_or_else(|_| "mysql".to_string());
    match User::from_name(&name) {
        Ok(Some(u)) if !u.uid.is_root() => Ok(Some((u.uid, u.gid))),
        Ok(_) => Err(Error::Cluster(format!(
            "running as root: create the unprivileged user `{name}` (the mariadb-server package does) or set SLUICE_TRACE_MYSQL_USER"
        ))),
        Err(e) => Err(Error::Cluster(format!("looking up user `{name}`: {e}"))),
    }
}

/// How a throwaway server listens and identifies itself in replication.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerOptions {
    /// Also listen on TCP at `127.0.0.1` on a free port (see [`MariaDbServer::port`]), as a
    /// replication primary must; by default the server listens only on its socket.
    pub tcp: bool,
    /// `server_id`, unique per server of a replication topology; `None` keeps the default (1).
    pub server_id: Option<u32>,
}

/// A running throwaway MariaDB server. Dropping it stops the server and removes its directory.
#[derive(Debug)]
pub struct MariaDbServer {
    root: PathBuf,
    child: Option<Child>,
    port: Option<u16>,
}

impl MariaDbServer {
    /// Removes orphaned server directories, then creates a data directory, starts `mariadbd`
    /// listening only on its socket and waits until it accepts connections.
    pub async fn start(bin: &MariaDbBinaries) -> Result<MariaDbServer> {
        MariaDbServer::start_with(bin, ServerOptions::default()).await
    }

    /// [`MariaDbServer::start`] with the listening and replication identity of `opts`.
    pub async fn start_with(bin: &MariaDbBinaries, opts: ServerOptions) -> Result<MariaDbServer> {
        remove_orphans(&std::env::temp_dir());
        let user = server_user()?;
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir()
            .map_err(|e| Error::io("creating the server directory", e))?;
        let root = dir.keep();
        // From here on the directory is ours to remove: the guard exists before anything can fail.
        let mut server = MariaDbServer { root, child: None, port: None };
        fs::write(server.root.join(OWNER_FILE), owner_marker(std::process::id()))
            .map_err(|e| Error::io("writing the owner marker", e))?;
        if let Some((uid, gid)) = user {
            nix::unistd::chown(&server.root, Some(uid), Some(gid))
                .map_err(|e| Error::Cluster(format!("chown {}: {e}", server.root.display())))?;
        }
        let mut install = Command::new(&bin.install_db);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", server.data_dir().display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"])
            .current_dir(&server.root)
            .stdin(Stdio::null());
        run_setup(&mut install, user, "mariadb-install-db")?;
        let log = fs::File::create(server.log_path()).map_err(|e| Error::io("creating the server log", e))?;
        let log2 = log.try_clone().map_err(|e| Error::io("server log", e))?;
        if let Some((uid, gid)) = user {
            let _ = nix::unistd::chown(&server.log_path(), Some(uid), Some(gid));
        }
        let mut cmd = Command::new(&bin.server);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", server.data_dir().display()))
            .arg(format!("--socket={}", server.socket_path().display()))
            .arg(format!("--pid-file={}", server.root.join("mariadbd.pid").display()))
            .arg(format!("--tmpdir={}", server.root.display()))
            .arg("--skip-name-resolve")
            // Binary log in row format, as replicas receive it: `sluice trace` reports its bytes.
            .args(["--log-bin=mariadb-bin", "--binlog-format=ROW", "--log-bin-trust-function-creators=1"])
            .args(["--performance_schema=ON", "--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON"])
            // Shows the current mode of each metadata lock (upgrades included).
            .arg("--plugin-load-add=metadata_lock_info")
            .args(["--innodb-buffer-pool-size=128M", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0"])
            .args(["--max-connections=200", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"])
            .current_dir(&server.root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a terminal's Ctrl-C reaches only Sluice, which stops the
            // server in order instead of racing it.
            .process_group(0);
        if opts.tcp {
            // A port free now; the server fails to start (and says so) if another process takes
            // it in between.
            let port = std::net::TcpListener::bind(("127.0.0.1", 0))
                .and_then(|l| l.local_addr())
                .map_err(|e| Error::io("finding a free TCP port", e))?
                .port();
            cmd.args(["--bind-address=127.0.0.1".to_string(), format!("--port={port}")]);
            server.port = Some(port);
        } else {
            cmd.arg("--skip-networking");
        }
        if let Some(id) = opts.server_id {
            cmd.arg(format!("--server-id={id}"));
        }
        as_user(&mut cmd, user);
        let child = cmd.spawn().map_err(|e| Error::io(format!("starting {}", bin.server.display()), e))?;
        server.child = Some(child);
        server.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }

    /// The directory holding the data directory, the socket, the log and the owner marker.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn socket_path(&self) -> PathBuf {
        self.root.join("mariadbd.sock")
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// The TCP port on `127.0.0.1` when started with [`ServerOptions::tcp`].
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Connection options for `db` (or no default database) as the superuser, over the socket.
    pub fn opts(&self, db: Option<&str>) -> mysql_async::Opts {
        mysql_async::OptsBuilder::default()
            .socket(Some(self.socket_path().display().to_string()))
            .user(Some(SUPERUSER))
            .db_name(db)
            .into()
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits until a connection over the socket succeeds or the server exits.
    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(Error::Cluster(format!(
                        "mariadbd exited ({status}) during start:\n{}",
                        self.log_tail()
                    )));
                }
            }
            if self.socket_path().exists() {
                if let Ok(conn) = mysql_async::Conn::new(self.opts(None)).await {
                    let _ = conn.disconnect().await;
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(format!("mariadbd not ready after {timeout:?}:\n{}", self.log_tail())));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL) and removes the directory. Safe to call twice.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            owned::stop_process(
                &mut child,
                &[(Signal::SIGTERM, Duration::from_secs(20)), (Signal::SIGKILL, Duration::from_secs(5))],
            );
        }
        if self.root.exists() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes server directories under `tmp` whose owner marker names a dead process, stopping the
/// server still running in them first. Directories without a marker, or whose owner lives, are
/// left alone. Returns the removed directories.
pub fn remove_orphans(tmp: &Path) -> Vec<PathBuf> {
    owned::remove_orphans(tmp, DIR_PREFIX, OWNER_FILE, stop_orphan_server)
}

/// Stops the `mariadbd` named by `root/mariadbd.pid` if it still runs on `root/data`.
fn stop_orphan_server(root: &Path) {
    let Ok(pidfile) = fs::read_to_string(root.join("mariadbd.pid")) else { return };
    let Some(pid) = pidfile.trim().parse::<i32>().ok().filter(|p| *p > 0) else { return };
    // Only a process started with this data directory is the orphan's server.
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let want = format!("--datadir={}", root.join("data").display());
    if !cmdline.split(|b| *b == 0).any(|a| a == want.as_bytes()) {
        return;
    }
    let pid = Pid::from_raw(pid);
    for (signal, wait) in [(Signal::SIGTERM, Duration::from_secs(20)), (Signal::SIGKILL, Duration::from_secs(5))] {
        if kill(pid, signal).is_err() {
            return;
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if gone(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The process no longer exists or has exited (a zombie waiting for its parent).
fn gone(pid: Pid) -> bool {
    kill(pid, None).is_err()
        || fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rfind(')').map(|i| s[i + 1..].trim_start().starts_with('Z')))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_owners_directories_are_removed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let live = tmp.path().join(format!("{DIR_PREFIX}live"));
        let dead = tmp.path().join(format!("{DIR_PREFIX}dead"));
        let unmarked = tmp.path().join(format!("{DIR_PREFIX}unmarked"));
        for d in [&live, &dead, &unmarked] {
            fs::create_dir(d).expect("mkdir");
        }
        fs::write(live.join(OWNER_FILE), owner_marker(std::process::id())).expect("w");
        fs::write(dead.join(OWNER_FILE), "999999999 5\n").expect("w");
        // A pid file naming a live process that is not a server on this directory: left running.
        fs::write(dead.join("mariadbd.pid"), format!("{}\n", std::process::id())).expect("w");
        let removed = remove_orphans(tmp.path());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(live.exists() && unmarked.exists() && !dead.exists());
    }
}
