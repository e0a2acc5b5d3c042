//! Builds the built-in plugins (the `plugins/` workspace, for wasm32-wasip2)
//! and generates `builtins.rs`, which embeds each `.wasm` into this crate.

/// (package, lib file stem, kind) of every built-in plugin.
const BUILTINS: &[(&str, &str, &str)] = &[
    ("strategy-semver", "strategy_semver", "Strategy"),
    ("strategy-newest-build", "strategy_newest_build", "Strategy"),
    ("strategy-alphabetical", "strategy_alphabetical", "Strategy"),
    ("strategy-digest", "strategy_digest", "Strategy"),
    ("filter-regexp", "filter_regexp", "TagFilter"),
    ("filter-glob", "filter_glob", "TagFilter"),
];

fn main() {
    let root = updraft_wasm_build::repo_root(3);
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    let out_dir = updraft_wasm_build::out_dir();
    let packages: Vec<&str> = BUILTINS.iter().map(|b| b.0).collect();
    let release = match updraft_wasm_build::build(
        &root.join("plugins"),
        &out_dir.join("plugins-target"),
        &packages,
        &[
            "Cargo.toml",
            "Cargo.lock",
            ".cargo",
            "sdk",
            "semver-rules",
            "builtin",
        ],
    ) {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    };
    let mut generated =
        String::from("/// Every built-in plugin.\npub const ALL: &[Builtin] = &[\n");
    for (package, stem, kind) in BUILTINS {
        let wasm = release.join(format!("{stem}.wasm"));
        if !wasm.is_file() {
            panic!(
                "built-in plugin {package} was not produced at {}",
                wasm.display()
            );
        }
        generated.push_str(&format!(
            "    Builtin {{ name: {package:?}, kind: Kind::{kind}, wasm: include_bytes!({:?}) }},\n",
            wasm.display().to_string()
        ));
    }
    generated.push_str("];\n");
    if let Err(e) = std::fs::write(out_dir.join("builtins.rs"), generated) {
        panic!("cannot write builtins.rs: {e}");
    }
}
