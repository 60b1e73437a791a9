//! Child processes that cannot outlive us: each runs in its own process group, and the
//! guard kills the whole group on drop (success, error or panic alike).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// A running child in its own process group.
#[derive(Debug)]
pub(crate) struct Guard {
    name: String,
    child: Child,
}

impl Guard {
    /// Starts `cmd` in a new process group with a piped stdin (closing it tells
    /// well-behaved children such as `pbx-mock` to exit) and piped stdout.
    pub(crate) fn spawn(name: &str, cmd: &mut Command) -> Result<Self> {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
        })
    }

    /// Takes the child's stdout.
    pub(crate) fn stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Reads stdout lines until one starts with `prefix`; returns the rest of that line.
    /// Later output is forwarded to our stderr by a thread so the pipe never fills up.
    pub(crate) fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let stdout = self
            .stdout()
            .ok_or_else(|| format!("{}: stdout already taken", self.name))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let prefix = prefix.to_owned();
        let prefix_text = prefix.clone();
        let name = self.name.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if !sent && let Some(rest) = line.strip_prefix(&prefix) {
                    let _ = tx.send(rest.trim().to_owned());
                    sent = true;
                } else {
                    eprintln!("[{name}] {line}");
                }
            }
        });
        let wanted = prefix_text;
        rx.recv_timeout(timeout).map_err(|_| {
            format!("{} did not print `{wanted}` within {timeout:?}", self.name).into()
        })
    }

    /// Whether the child is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let group = format!("-{}", self.child.id());
        // Ask nicely, give it a moment, then make sure.
        // The leader may be gone while its children live on, so the group is always
        // signalled; "no such process" is the expected answer when all are gone.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1 (bound then released; used for peers that need a port
/// number on their command line).
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub(crate) fn wait_for_port(port: u16, timeout: Duration) -> Result {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listened on 127.0.0.1:{port} within {timeout:?}").into())
}
