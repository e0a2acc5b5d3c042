//! Build-script helper: runs `cargo build --release --target wasm32-wasip2` in
//! a plugin workspace with a clean environment and says where the `.wasm`
//! files are. Used by the build scripts of `updraft-builtins` and the tests.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables of the outer build that must not leak into the wasm build.
const LEAKY_VARS: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "CARGO_PROFILE_RELEASE_DEBUG",
];

/// Builds `packages` (all members if empty) of the workspace at `workspace`
/// into `target_dir`, and returns the directory holding the `.wasm` files.
/// Prints `cargo:rerun-if-changed` for `watch` (paths inside `workspace`;
/// never the workspace's own `target/`).
pub fn build(
    workspace: &Path,
    target_dir: &Path,
    packages: &[&str],
    watch: &[&str],
) -> Result<PathBuf, String> {
    for w in watch {
        println!("cargo:rerun-if-changed={}", workspace.join(w).display());
    }
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--target-dir")
        .arg(target_dir);
    if workspace.join("Cargo.lock").is_file() {
        cmd.arg("--locked");
    }
    if packages.is_empty() {
        cmd.arg("--workspace");
    }
    for package in packages {
        cmd.args(["-p", package]);
    }
    for var in LEAKY_VARS {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run cargo in {}: {e}", workspace.display()))?;
    if !output.status.success() {
        return Err(format!(
            "building the plugins in {} failed (is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`):\n{}",
            workspace.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target_dir.join("wasm32-wasip2").join("release"))
}

/// `OUT_DIR` of the running build script.
pub fn out_dir() -> PathBuf {
    PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default())
}

/// The repository root, from a crate's `CARGO_MANIFEST_DIR` and its depth.
pub fn repo_root(levels_up: usize) -> PathBuf {
    let mut dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for _ in 0..levels_up {
        dir.pop();
    }
    dir
}
