//! A private `redis-server` for the fleet tests: its own config and data directory under
//! `target/peers/redis`, a free loopback port, no persistence, stopped as a process group
//! when its guard drops (also when a test fails).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::Result;
use crate::peers::peers_dir;
use crate::process::{Guard, free_port, wait_for_port};
use crate::stage::require_tool;

/// A running Redis and how to reach it.
#[derive(Debug)]
pub(crate) struct Redis {
    /// Stops the server when dropped.
    pub(crate) guard: Guard,
    /// `redis://127.0.0.1:<port>/`.
    pub(crate) url: String,
    /// The config file, so a test can start the same server again after stopping it.
    pub(crate) config: PathBuf,
}

/// Starts `redis-server` on a free port with a fresh data directory.
pub(crate) fn start() -> Result<Redis> {
    require_tool(
        "redis-server",
        "install Redis (Debian: apt-get install redis-server; `.ci/run` does it)",
    )?;
    let dir = peers_dir().join("redis");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let config = dir.join("redis.conf");
    // No snapshots or append-only file: a restart in the tests must start empty or from
    // nothing we left; the log goes to a file so a full pipe cannot stall the server.
    std::fs::write(
        &config,
        format!(
            "bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize no\n\
             dir {dir}\nlogfile {log}\nsave \"\"\nappendonly no\ndatabases 1\n",
            dir = dir.display(),
            log = dir.join("redis.log").display(),
        ),
    )?;
    let guard = Guard::spawn(
        "redis-server",
        Command::new("redis-server")
            .arg(&config)
            .stderr(Stdio::inherit()),
    )?;
    wait_for_port(port, Duration::from_secs(30))?;
    Ok(Redis {
        guard,
        url: format!("redis://127.0.0.1:{port}/"),
        config,
    })
}
