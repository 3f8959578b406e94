//! Ballista's executor with the brine codecs: it decodes the brine scans the scheduler sends
//! (reopening their files, which must be at the same paths here) and runs them.
//!
//! ```text
//! brine-ballista-executor [--bind-host 127.0.0.1] [--port 50051] [--grpc-port 50052]
//!     [--scheduler-host 127.0.0.1] [--scheduler-port 50050] [--concurrent-tasks N]
//!     [--work-dir DIR]
//! ```

#[path = "../args.rs"]
mod args;

use std::process::ExitCode;
use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use brine_ballista::{BrineLogicalCodec, BrinePhysicalCodec};

const FLAGS: &[&str] = &[
    "bind-host",
    "port",
    "grpc-port",
    "scheduler-host",
    "scheduler-port",
    "concurrent-tasks",
    "work-dir",
];

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let args = args::Args::parse(FLAGS)?;
        let mut config = ExecutorProcessConfig::default();
        config.bind_host = args.get("bind-host", "127.0.0.1");
        config.external_host = Some(config.bind_host.clone());
        config.port = args.number("port", 50051)?;
        config.grpc_port = args.number("grpc-port", 50052)?;
        config.scheduler_host = args.get("scheduler-host", "127.0.0.1");
        config.scheduler_port = args.number("scheduler-port", 50050)?;
        config.vcores = args.number("concurrent-tasks", config.vcores)?;
        let work_dir = args.get("work-dir", "");
        if !work_dir.is_empty() {
            config.work_dir = Some(work_dir);
        }
        config.override_logical_codec = Some(Arc::new(BrineLogicalCodec::default()));
        config.override_physical_codec = Some(Arc::new(BrinePhysicalCodec::default()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        eprintln!(
            "brine-ballista-executor: {}:{} (scheduler {}:{})",
            config.bind_host, config.port, config.scheduler_host, config.scheduler_port
        );
        runtime
            .block_on(start_executor_process(Arc::new(config)))
            .map_err(|e| e.to_string())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brine-ballista-executor: {e}");
            ExitCode::FAILURE
        }
    }
}
