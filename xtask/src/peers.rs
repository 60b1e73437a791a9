//! Installing real peers under `target/peers/`: Python virtual environments and npm trees.
//! Each install is stamped with what it installed, so a second run reuses it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::stage::{require_tool, run, target_dir};

/// Where peers are installed.
pub(crate) fn peers_dir() -> PathBuf {
    target_dir().join("peers")
}

/// A virtual environment at `target/peers/<name>` with exactly `packages` installed
/// (pip requirement strings). Returns the venv's `python`.
pub(crate) fn python_venv(name: &str, packages: &[&str]) -> Result<PathBuf> {
    require_tool(
        "python3",
        "install Python 3 with the venv module (Debian: apt-get install python3 python3-venv)",
    )?;
    let dir = peers_dir().join(name);
    let python = dir.join("bin").join("python");
    let stamp = dir.join(".pbx-auth-installed");
    let wanted = packages.join("\n");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(python);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(peers_dir())?;
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir)).map_err(|e| {
        format!("cannot create a Python venv ({e}); install the venv module (Debian: python3-venv)")
    })?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

/// Installs the npm project whose `package.json` and `package-lock.json` are in `source`
/// into `target/peers/<name>` with `npm ci`. Returns the install directory.
pub(crate) fn npm_project(name: &str, source: &Path) -> Result<PathBuf> {
    require_tool(
        "node",
        "install Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)",
    )?;
    require_tool("npm", "install npm (Debian: apt-get install npm)")?;
    let dir = peers_dir().join(name);
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::read_to_string(source.join("package-lock.json"))?;
    let stamp = dir.join(".pbx-auth-installed");
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name()))?;
        }
    }
    if dir.join("node_modules").exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == lock)
    {
        return Ok(dir);
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir))?;
    std::fs::write(&stamp, lock)?;
    Ok(dir)
}
