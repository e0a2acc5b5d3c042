//! Builds the test-only plugins (`tests/plugins/`: hostile and ABI-version
//! plugins) and the third-party example (`plugins/examples/release-version`)
//! for wasm32-wasip2, and generates a `wasm_path(stem)` lookup for the tests.

fn main() {
    let root = updraft_wasm_build::repo_root(1);
    let out_dir = updraft_wasm_build::out_dir();
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    let hostile = updraft_wasm_build::build(
        &root.join("tests/plugins"),
        &out_dir.join("test-plugins-target"),
        &[],
        &[""],
    );
    let examples = updraft_wasm_build::build(
        &root.join("plugins"),
        &out_dir.join("example-plugins-target"),
        &["release-version"],
        &[
            "Cargo.toml",
            "Cargo.lock",
            "sdk",
            "semver-rules",
            "examples",
        ],
    );
    let (hostile, examples) = match (hostile, examples) {
        (Ok(h), Ok(e)) => (h, e),
        (Err(e), _) | (_, Err(e)) => panic!("{e}"),
    };
    let generated = format!(
        "/// Directory of the built test plugins.\npub const TEST_PLUGINS: &str = {:?};\n/// Directory of the built example plugins.\npub const EXAMPLE_PLUGINS: &str = {:?};\n",
        hostile.display().to_string(),
        examples.display().to_string()
    );
    if let Err(e) = std::fs::write(out_dir.join("plugin_paths.rs"), generated) {
        panic!("cannot write plugin_paths.rs: {e}");
    }
}
