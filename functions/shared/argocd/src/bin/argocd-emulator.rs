//! The in-tree Argo CD API emulator as a process, for the demo and manual
//! trials where no Kubernetes (and so no Argo CD) can run: it serves the
//! Argo CD API paths Updraft uses on 127.0.0.1, with the Applications of
//! the YAML files given, and writes its URL and admin token to a file.
//! It is an emulator, not Argo CD: nothing is deployed anywhere.
//!
//! Usage: `argocd-emulator ENV_FILE APPS.yaml... [--rollout APP=NAMESPACE/NAME]...`
//! ENV_FILE gets `ARGOCD_URL=…` and `ARGOCD_TOKEN=…`. Runs until killed.

use std::process::ExitCode;

use updraft_argocd::emulator::{Emulator, EmulatorConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("argocd-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: argocd-emulator ENV_FILE APPS.yaml... [--rollout APP=NAMESPACE/NAME]...";
    let env_file = args.next().ok_or(usage)?;
    let mut files = Vec::new();
    let mut rollouts = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--rollout" {
            let spec = args.next().ok_or(usage)?;
            let (app, rollout) = spec.split_once('=').ok_or(usage)?;
            let (namespace, name) = rollout.split_once('/').ok_or(usage)?;
            rollouts.push((app.to_string(), namespace.to_string(), name.to_string()));
        } else {
            files.push(arg);
        }
    }
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        emulator
            .load_yaml(&text)
            .map_err(|e| format!("{file}: {e}"))?;
    }
    for (app, namespace, name) in &rollouts {
        emulator
            .add_rollout(app, namespace.clone(), name.clone())
            .map_err(|e| format!("--rollout {app}: {e}"))?;
    }
    std::fs::write(
        &env_file,
        format!(
            "ARGOCD_URL={}\nARGOCD_TOKEN={}\n",
            emulator.url, emulator.token
        ),
    )
    .map_err(|e| format!("cannot write {env_file}: {e}"))?;
    eprintln!(
        "argocd-emulator: serving {} (an emulator of the Argo CD API, not Argo CD)",
        emulator.url
    );
    // Serve until killed.
    std::future::pending::<()>().await;
    Ok(())
}
