//! Integration-test helpers: where the test plugins were built, how to load
//! them, and how to run the `updraft` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

include!(concat!(env!("OUT_DIR"), "/plugin_paths.rs"));

/// Path of a test plugin (`tests/plugins/`) by file stem, e.g. `hostile_loop`.
pub fn test_plugin(stem: &str) -> PathBuf {
    Path::new(TEST_PLUGINS).join(format!("{stem}.wasm"))
}

/// Path of an example plugin (`plugins/examples/`) by file stem.
pub fn example_plugin(stem: &str) -> PathBuf {
    Path::new(EXAMPLE_PLUGINS).join(format!("{stem}.wasm"))
}

/// The `updraft` binary built beside this test binary (`cargo build --bins`
/// or a workspace `cargo test` builds it).
pub fn updraft_bin() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the test binary")?;
    // target/<profile>/deps/it-<hash> → target/<profile>/updraft
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("unexpected test binary location")?;
    let bin = profile_dir.join("updraft");
    if !bin.is_file() {
        bail!(
            "{} does not exist: run the tests with `cargo test --workspace` (or `cargo build -p updraft` first)",
            bin.display()
        );
    }
    Ok(bin)
}

/// Runs `updraft` with `args`, feeding `stdin`, with a private plugin cache.
pub fn updraft(args: &[&str], stdin: Option<&str>) -> Result<Output> {
    use std::io::Write;
    use std::process::Stdio;
    let cache = std::env::temp_dir().join(format!("updraft-it-cache-{}", std::process::id()));
    let mut child = Command::new(updraft_bin()?)
        .args(args)
        .env("UPDRAFT_CACHE_DIR", &cache)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start updraft")?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .context("cannot write updraft's stdin")?;
    }
    child.wait_with_output().context("updraft did not finish")
}

/// Parses stdout as JSON, with the process output in the error.
pub fn json_stdout(output: &Output) -> Result<serde_json::Value> {
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "stdout is not JSON (status {}):\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}
