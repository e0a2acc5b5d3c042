//! Hostile plugins (built from `tests/plugins/`): each failure gives its own
//! error, and the host keeps working after every one of them.

use std::time::Duration;

use updraft_plugin_host::{Limits, PluginError, PluginHost, SelectRequest};

use crate::support::{builtin, host, host_with, names, tight_limits};

fn load(host: &PluginHost, stem: &str) -> Result<updraft_plugin_host::Plugin, PluginError> {
    let path = updraft_tests::test_plugin(stem);
    let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    host.load(&format!("{stem}.wasm"), &wasm)
}

fn call(plugin: &updraft_plugin_host::Plugin) -> Result<Option<String>, PluginError> {
    let candidates = names(&["1.0.0", "1.1.0"]);
    plugin
        .select(SelectRequest {
            current: None,
            constraint: None,
            params: &[],
            candidates: &candidates,
        })
        .map(|s| s.tag)
}

/// After any failure the same host must still run a well-behaved plugin.
fn host_still_works(host: &PluginHost) {
    let semver = builtin(host, "strategy-semver");
    assert_eq!(call(&semver).unwrap().as_deref(), Some("1.1.0"));
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let h = host_with(tight_limits());
    let plugin = load(&h, "hostile_loop").unwrap();
    let e = call(&plugin).unwrap_err();
    assert!(
        matches!(
            e,
            PluginError::OutOfFuel {
                limit: 50_000_000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), "out-of-fuel");
    host_still_works(&h);
    // The same plugin again: a fresh store per call, so it fails the same way.
    assert!(matches!(call(&plugin), Err(PluginError::OutOfFuel { .. })));
}

#[test]
fn infinite_loop_with_ample_fuel_hits_the_deadline() {
    let h = host_with(Limits {
        fuel: u64::MAX / 2,
        memory_bytes: 16 << 20,
        timeout: Duration::from_millis(100),
    });
    let plugin = load(&h, "hostile_loop").unwrap();
    let started = std::time::Instant::now();
    let e = call(&plugin).unwrap_err();
    assert!(
        matches!(e, PluginError::Timeout { limit_ms: 100, .. }),
        "{e}"
    );
    // The epoch ticker is 10 ms: the trap lands within a few ticks.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    host_still_works(&h);
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let h = host_with(Limits {
        fuel: u64::MAX / 2,
        ..tight_limits()
    });
    let plugin = load(&h, "hostile_memory").unwrap();
    let e = call(&plugin).unwrap_err();
    assert!(
        matches!(e, PluginError::MemoryLimit { limit_bytes, .. } if limit_bytes == 16 << 20),
        "{e}"
    );
    host_still_works(&h);
}

#[test]
fn panic_is_a_crash() {
    let h = host();
    let plugin = load(&h, "hostile_panic").unwrap();
    let e = call(&plugin).unwrap_err();
    assert!(matches!(e, PluginError::Crashed { .. }), "{e}");
    assert!(e.to_string().contains("hostile_panic.wasm"), "{e}");
    host_still_works(&h);
}

#[test]
fn foreign_tag_is_invalid_output() {
    let h = host();
    let plugin = load(&h, "hostile_foreign_tag").unwrap();
    let e = call(&plugin).unwrap_err();
    assert!(matches!(e, PluginError::InvalidOutput { .. }), "{e}");
    assert!(e.to_string().contains("not among the"), "{e}");
    host_still_works(&h);
}

#[test]
fn wasi_filesystem_and_sockets_are_refused() {
    let h = host();
    for stem in ["hostile_wasi_fs", "hostile_wasi_socket"] {
        let e = load(&h, stem).unwrap_err();
        match &e {
            PluginError::ForbiddenImport { import, .. } => {
                let wanted = if stem.ends_with("fs") {
                    "wasi:filesystem/"
                } else {
                    "wasi:sockets/"
                };
                assert!(import.contains(wanted), "{stem}: {import}");
            }
            other => panic!("{stem}: expected a forbidden import, got {other}"),
        }
    }
    host_still_works(&h);
}

#[test]
fn abi_versions() {
    let h = host();
    let e = load(&h, "abi_v0_2").unwrap_err();
    assert!(matches!(e, PluginError::IncompatibleAbi { .. }), "{e}");
    assert!(e.to_string().contains("0.2.0"), "{e}");
    // A 0.1.1 plugin loads in this 0.1.0 host and works.
    let newer = load(&h, "abi_v0_1_1").unwrap();
    assert_eq!(newer.inspect().abi, "0.1.1");
    assert_eq!(call(&newer).unwrap().as_deref(), Some("1.1.0"));
    host_still_works(&h);
}

#[test]
fn wrong_kind_and_garbage_bytes() {
    let h = host();
    let filter = load(&h, "filter_reject_all").unwrap();
    let e = call(&filter).unwrap_err();
    assert!(matches!(e, PluginError::WrongKind { .. }), "{e}");
    let e = h.load("x.wasm", b"not wasm at all").unwrap_err();
    assert!(matches!(e, PluginError::NotAComponent { .. }), "{e}");
    // A core module (not a component): the smallest valid one.
    let e = h.load("core.wasm", b"\0asm\x01\0\0\0").unwrap_err();
    assert!(e.to_string().contains("core WebAssembly module"), "{e}");
    // Truncated component bytes.
    let semver = updraft_builtins::get("strategy-semver").unwrap().wasm;
    let e = h
        .load("truncated.wasm", &semver[..semver.len() / 2])
        .unwrap_err();
    assert!(matches!(e, PluginError::NotAComponent { .. }), "{e}");
    host_still_works(&h);
}

#[test]
fn filter_verdicts_carry_reasons() {
    let h = host();
    let filter = load(&h, "filter_reject_all").unwrap();
    let tags = vec!["a".to_string(), "b".to_string()];
    let out = filter.filter(&[], &tags).unwrap();
    assert_eq!(out.verdicts.len(), 2);
    assert!(out.fuel > 0);
}

#[test]
fn artifact_cache_is_reused_and_survives_corruption() {
    let dir = std::env::temp_dir().join(format!("updraft-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = || updraft_plugin_host::HostConfig {
        cache_dir: Some(dir.clone()),
        ..Default::default()
    };
    let semver = updraft_builtins::get("strategy-semver").unwrap();
    {
        let h = PluginHost::new(config()).unwrap();
        h.load(semver.name, semver.wasm).unwrap();
    }
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "one artifact per (sha256, engine)");
    let path = files[0].path();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(".cwasm"), "{name}");
    // A fresh host loads from the cache; a corrupted artifact is rebuilt.
    std::fs::write(&path, b"garbage").unwrap();
    let h = PluginHost::new(config()).unwrap();
    let plugin = h.load(semver.name, semver.wasm).unwrap();
    assert_eq!(call(&plugin).unwrap().as_deref(), Some("1.1.0"));
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);
    let _ = std::fs::remove_dir_all(&dir);
}
