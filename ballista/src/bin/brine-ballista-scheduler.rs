//! Ballista's scheduler with the brine codecs: it decodes the brine tables of clients' plans
//! (reopening their files) and sends brine scans to the executors.
//!
//! ```text
//! brine-ballista-scheduler [--bind-host 127.0.0.1] [--port 50050]
//! ```

#[path = "../args.rs"]
mod args;

use std::process::ExitCode;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use brine_ballista::{BrineLogicalCodec, BrinePhysicalCodec};

fn main() -> ExitCode {
    let args = match args::Args::parse(&["bind-host", "port"]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("brine-ballista-scheduler: {e}");
            return ExitCode::from(2);
        }
    };
    let run = || -> Result<(), String> {
        let host = args.get("bind-host", "127.0.0.1");
        let port: u16 = args.number("port", 50050)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(serve(host, port))
            .map_err(|e| e.to_string())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brine-ballista-scheduler: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(host: String, port: u16) -> ballista_core::error::Result<()> {
    let addr = format!("{host}:{port}").parse().map_err(|e| {
        ballista_core::error::BallistaError::Configuration(format!("{host}:{port}: {e}"))
    })?;
    let mut config = SchedulerConfig::default()
        .with_hostname(host.clone())
        .with_port(port);
    config.bind_host = host;
    config.override_logical_codec = Some(Arc::new(BrineLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(BrinePhysicalCodec::default()));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    eprintln!("brine-ballista-scheduler: listening on {addr}");
    start_server(cluster, addr, Arc::new(config)).await
}
