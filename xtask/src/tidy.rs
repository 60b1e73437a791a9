//! Tidy checks, run as tests: `cargo test -p xtask -- tidy`.

use std::fs;
use std::path::Path;

use crate::ci::PUBLISHED;
use crate::stage::root;

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn tidy_published_crates_are_complete() {
    for krate in PUBLISHED {
        let dir = root().join("crates").join(krate);
        let manifest = read(&dir.join("Cargo.toml"));
        for key in ["description", "keywords", "categories", "readme"] {
            assert!(
                manifest.contains(&format!("\n{key} = ")),
                "{krate}: Cargo.toml lacks {key}"
            );
        }
        for key in ["rust-version.workspace = true", "[lints]\nworkspace = true"] {
            assert!(manifest.contains(key), "{krate}: Cargo.toml lacks `{key}`");
        }
        assert!(
            read(&dir.join("CHANGELOG.md")).contains("## Unreleased"),
            "{krate}: CHANGELOG.md lacks ## Unreleased"
        );
        assert!(dir.join("README.md").exists(), "{krate}: no README.md");
        // A library's root is lib.rs; the command line's is main.rs, and its usage lives
        // in its README and docs/cli.md rather than in examples.
        let library = dir.join("src/lib.rs").exists();
        let root_file = if library { "src/lib.rs" } else { "src/main.rs" };
        assert!(
            read(&dir.join(root_file)).starts_with("#![doc = include_str!(\"../README.md\")]"),
            "{krate}: {root_file} does not start with the README include"
        );
        assert!(
            !library
                || dir
                    .join("examples")
                    .read_dir()
                    .is_ok_and(|mut d| d.next().is_some()),
            "{krate}: no examples/"
        );
    }
}

#[test]
fn tidy_every_member_opts_into_workspace_lints() {
    for dir in ["tests/mock-servers", "tests/integration", "xtask"] {
        let manifest = read(&root().join(dir).join("Cargo.toml"));
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{dir}: no [lints] workspace = true"
        );
        assert!(
            manifest.contains("publish = false"),
            "{dir}: must say publish = false"
        );
    }
}

#[test]
fn tidy_internal_dependencies_are_versioned_only_when_published() {
    let manifest = read(&root().join("Cargo.toml"));
    for krate in PUBLISHED {
        let line = manifest
            .lines()
            .find(|l| l.starts_with(&format!("{krate} = ")))
            .unwrap_or_else(|| panic!("{krate} missing from [workspace.dependencies]"));
        assert!(
            line.contains("version = "),
            "{krate}: path dependency without a version"
        );
    }
    let mock = manifest
        .lines()
        .find(|l| l.starts_with("pbx-mock = "))
        .expect("pbx-mock entry");
    assert!(
        !mock.contains("version"),
        "pbx-mock is never published and has no version"
    );
}

#[test]
fn tidy_mock_servers_never_depend_on_client_crates() {
    let manifest = read(&root().join("tests/mock-servers/Cargo.toml"));
    for krate in PUBLISHED {
        assert!(
            !manifest.contains(&format!("\n{krate}")),
            "pbx-mock depends on {krate}"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn tidy_examples_and_tests_start_with_a_doc_line() {
    let mut files = Vec::new();
    for krate in PUBLISHED {
        let dir = root().join("crates").join(krate);
        rust_files(&dir.join("examples"), &mut files);
        for entry in fs::read_dir(dir.join("tests"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "rs") {
                files.push(entry.path());
            }
        }
    }
    for file in files {
        assert!(
            read(&file).starts_with("//!"),
            "{} must start with a //! line",
            file.display()
        );
    }
}

#[test]
fn tidy_no_registry_host_names_in_project_files() {
    let mut files = Vec::new();
    for dir in ["crates", "tests", "xtask", "docs"] {
        rust_files(&root().join(dir), &mut files);
    }
    let banned = [
        concat!("crates", ".io"),
        concat!("pypi", ".org"),
        concat!("npmjs", ".com"),
    ];
    for file in files {
        let text = read(&file);
        for host in banned {
            assert!(
                !text.contains(host),
                "{} names {host}; say the registry's name instead",
                file.display()
            );
        }
    }
}
