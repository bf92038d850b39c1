//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory, `postgres` listening only
//! on a Unix socket in that directory, and removal of both when the [`Cluster`] is dropped
//! (success, error, panic; the caller drops it on SIGINT/SIGTERM too).
//!
//! `initdb` refuses to run as root, so a root caller runs the cluster as an unprivileged user
//! (`postgres`, or `SLUICE_TRACE_USER`). Each cluster directory holds an owner marker (the pid and
//! start time of the process that made it); a later run removes directories whose owner is dead,
//! after stopping the server left in them (a `kill -9` of a previous run leaves both behind).

use crate::error::{Error, Result};
use crate::owned::{self, as_user, owner_marker, run_setup};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Prefix of every cluster directory in the temporary directory.
pub const DIR_PREFIX: &str = "sluice-trace-";
/// The owner marker file inside a cluster directory.
pub const OWNER_FILE: &str = "sluice-owner.pid";
/// The port number names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
pub const PORT: u16 = 5432;
/// The superuser created by `initdb`.
pub const SUPERUSER: &str = "postgres";

/// Where the PostgreSQL server binaries are.
#[derive(Clone, Debug)]
pub struct PgBinaries {
    pub bindir: PathBuf,
}

impl PgBinaries {
    /// `SLUICE_PG_BINDIR`, else the newest `/usr/lib/postgresql/<major>/bin` (Debian, Ubuntu),
    /// else the directory of `initdb` on `PATH`.
    pub fn find() -> Result<PgBinaries> {
        let ok = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
        if let Some(d) = std::env::var_os("SLUICE_PG_BINDIR") {
            let d = PathBuf::from(d);
            return if ok(&d) {
                Ok(PgBinaries { bindir: d })
            } else {
                Err(Error::NoServerBinaries(format!("no initdb/postgres in SLUICE_PG_BINDIR={}", d.display())))
            };
        }
        let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((major, e.path().join("bin")))
            })
            .filter(|(_, d)| ok(d))
            .collect();
        debian.sort();
        if let Some((_, d)) = debian.pop() {
            return Ok(PgBinaries { bindir: d });
        }
        if let Some(path) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&path) {
                if ok(&d) {
                    return Ok(PgBinaries { bindir: d });
                }
            }
        }
        Err(Error::NoServerBinaries("looked in SLUICE_PG_BINDIR, /usr/lib/postgresql/*/bin and PATH".into()))
    }

    pub fn tool(&self, name: &str) -> PathBuf {
        let p = self.bindir.join(name);
        if p.is_file() {
            p
        } else {
            PathBuf::from(name)
        }
    }
}

/// The OS user the server runs as when the caller is root.
fn server_user() -> Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let name = std::env::var("SLUICE_TRACE_USER").unwrap_or_else(|_| "postgres".to_string());
    match User::from_name(&name) {
        Ok(Some(u)) if !u.uid.is_root() => Ok(Some((u.uid, u.gid))),
        Ok(_) => Err(Error::Cluster(format!(
            "running as root, and initdb refuses root: create the unprivileged user `{name}` or set SLUICE_TRACE_USER"
        ))),
        Err(e) => Err(Error::Cluster(format!("looking up user `{name}`: {e}"))),
    }
}

/// One PostgreSQL server in a temporary directory of its own (data directory, Unix socket, log
/// and owner marker): the primary of a throwaway cluster or its streaming replica. Dropping it
/// stops the server and removes the directory.
#[derive(Debug)]
pub(crate) struct PgServer {
    root: PathBuf,
    child: Option<Child>,
}

impl PgServer {
    /// Creates the directory (`prefix` + random), writes the owner marker and, when the server
    /// runs as another user, gives that user the directory. From here on the directory is the
    /// guard's to remove, whatever fails next.
    pub(crate) fn create(prefix: &str, user: Option<(Uid, Gid)>) -> Result<PgServer> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(|e| Error::io("creating the server directory", e))?;
        let server = PgServer { root: dir.keep(), child: None };
        fs::write(server.root.join(OWNER_FILE), owner_marker(std::process::id()))
            .map_err(|e| Error::io("writing the owner marker", e))?;
        if let Some((uid, gid)) = user {
            nix::unistd::chown(&server.root, Some(uid), Some(gid))
                .map_err(|e| Error::Cluster(format!("chown {}: {e}", server.root.display())))?;
        }
        Ok(server)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Connection settings for `dbname` as the superuser.
    pub(crate) fn config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host_path(&self.root).port(PORT).user(SUPERUSER).dbname(dbname).application_name("sluice trace");
        c
    }

    /// The last lines of the server log.
    pub(crate) fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Starts `postgres` on the data directory, listening only on the directory's socket, with
    /// `settings` (`name=value`), and waits until `postmaster.pid` shows one of `ready` (the
    /// server's state line: "ready", or "standby" for a hot standby) or the server exits. `what`
    /// names the server in errors.
    pub(crate) fn spawn(
        &mut self,
        bin: &PgBinaries,
        user: Option<(Uid, Gid)>,
        settings: &[&str],
        ready: &[&str],
        what: &str,
    ) -> Result<()> {
        let log = fs::File::create(self.log_path()).map_err(|e| Error::io("creating the server log", e))?;
        let log2 = log.try_clone().map_err(|e| Error::io("server log", e))?;
        let mut server = Command::new(bin.tool("postgres"));
        server.arg("-D").arg(self.data_dir()).arg("-k").arg(&self.root).arg("-p").arg(PORT.to_string());
        server.args(["-c", "listen_addresses="]);
        for setting in settings {
            server.args(["-c", setting]);
        }
        server
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a terminal's Ctrl-C reaches only Sluice, which stops the
            // server in order instead of racing it.
            .process_group(0);
        as_user(&mut server, user);
        let child = server.spawn().map_err(|e| Error::io(format!("starting {}", bin.tool("postgres").display()), e))?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(60), ready, what)
    }

    fn wait_ready(&mut self, timeout: Duration, ready: &[&str], what: &str) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let pidfile = self.data_dir().join("postmaster.pid");
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(Error::Cluster(format!("{what} exited ({status}) during start:\n{}", self.log_tail())));
                }
            }
            let status = fs::read_to_string(&pidfile).ok().and_then(|t| t.lines().nth(7).map(|l| l.trim().to_string()));
            if status.as_deref().is_some_and(|s| ready.contains(&s)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(format!("{what} not ready after {timeout:?}:\n{}", self.log_tail())));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (fast shutdown, then immediate, then SIGKILL) and removes the directory.
    /// Safe to call twice.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            owned::stop_process(
                &mut child,
                &[
                    (Signal::SIGINT, Duration::from_secs(10)),
                    (Signal::SIGQUIT, Duration::from_secs(5)),
                    (Signal::SIGKILL, Duration::from_secs(5)),
                ],
            );
        }
        if self.root.exists() {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running throwaway cluster. Dropping it stops the server and removes its directory.
#[derive(Debug)]
pub struct Cluster {
    server: PgServer,
    version: String,
}

impl Cluster {
    /// Removes orphaned cluster directories, then creates, initialises and starts a new cluster
    /// and waits until it accepts connections.
    pub fn start(bin: &PgBinaries) -> Result<Cluster> {
        remove_orphans(&std::env::temp_dir());
        let user = server_user()?;
        let mut server = PgServer::create(DIR_PREFIX, user)?;
        let data = server.data_dir();
        let mut initdb = Command::new(bin.tool("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions"])
            .current_dir(server.root())
            .stdin(Stdio::null());
        run_setup(&mut initdb, user, "initdb")?;
        let settings = [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "max_connections=200",
            "shared_buffers=128MB",
        ];
        server.spawn(bin, user, &settings, &["ready"], "postgres")?;
        let version = fs::read_to_string(data.join("PG_VERSION")).unwrap_or_default().trim().to_string();
        Ok(Cluster { server, version })
    }

    /// The directory holding the data directory, the socket, the log and the owner marker.
    pub fn root(&self) -> &Path {
        self.server.root()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.server.data_dir()
    }

    /// The directory of the Unix socket (the `host` to connect to).
    pub fn socket_dir(&self) -> &Path {
        self.server.root()
    }

    /// The postmaster's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// The major version from `PG_VERSION`.
    pub fn major_version(&self) -> &str {
        &self.version
    }

    /// Connection settings for `dbname` as the superuser.
    pub fn config(&self, dbname: &str) -> tokio_postgres::Config {
        self.server.config(dbname)
    }

    /// Stops the server (fast shutdown, then immediate, then SIGKILL) and removes the directory.
    /// Safe to call twice.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// Removes cluster directories under `tmp` whose owner marker names a dead process, stopping
/// the server still running in them first. Directories without a marker, or whose owner lives,
/// are left alone. Returns the removed directories.
pub fn remove_orphans(tmp: &Path) -> Vec<PathBuf> {
    owned::remove_orphans(tmp, DIR_PREFIX, OWNER_FILE, |dir| stop_orphan_server(&dir.join("data")))
}

/// Stops the postmaster named by `data/postmaster.pid` if it still runs on that data directory.
fn stop_orphan_server(data: &Path) {
    let Ok(pidfile) = fs::read_to_string(data.join("postmaster.pid")) else { return };
    let mut lines = pidfile.lines();
    let Some(pid) = lines.next().and_then(|l| l.trim().parse::<i32>().ok()) else { return };
    let same_dir = lines.next().map(|d| Path::new(d.trim()) == data).unwrap_or(false);
    if !same_dir || pid <= 0 {
        return;
    }
    let pid = Pid::from_raw(pid);
    // Only a process whose working directory is that data directory is the orphan's server.
    let canonical = fs::canonicalize(data).unwrap_or_else(|_| data.to_path_buf());
    let cwd_ok = fs::read_link(format!("/proc/{pid}/cwd")).map(|c| c == data || c == canonical).unwrap_or(false);
    if !cwd_ok {
        return;
    }
    for (signal, wait) in [(Signal::SIGQUIT, Duration::from_secs(5)), (Signal::SIGKILL, Duration::from_secs(5))] {
        if kill(pid, signal).is_err() {
            return;
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if kill(pid, None).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orphans_without_marker_or_with_live_owner_stay() {
        let tmp = tempfile::tempdir().expect("tmp");
        let live = tmp.path().join(format!("{DIR_PREFIX}live"));
        let dead = tmp.path().join(format!("{DIR_PREFIX}dead"));
        let unmarked = tmp.path().join(format!("{DIR_PREFIX}unmarked"));
        let other = tmp.path().join("other-dead");
        for d in [&live, &dead, &unmarked, &other] {
            fs::create_dir(d).expect("mkdir");
        }
        fs::write(live.join(OWNER_FILE), owner_marker(std::process::id())).expect("w");
        fs::write(dead.join(OWNER_FILE), "999999999 5\n").expect("w");
        fs::write(other.join(OWNER_FILE), "999999999 5\n").expect("w");
        let removed = remove_orphans(tmp.path());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(live.exists() && unmarked.exists() && other.exists() && !dead.exists());
    }
}
