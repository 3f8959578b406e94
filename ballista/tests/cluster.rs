//! A Ballista cluster on this machine: one scheduler and two executors, each its own process
//! (the binaries of this crate), all reading the shards of one brine dataset from a shared
//! folder. Every query's answer must equal single-process DataFusion's on the same table.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brine::dataset::{Dataset, DatasetOptions, DatasetWriter, SHARD_ENTRY};
use brine::frame::{Column, Frame};
use brine_ballista::BrineTable;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionConfig, SessionContext};

const ROWS: usize = 3_000;
const ROWS_PER_SHARD: u64 = 500;
const EXECUTORS: usize = 2;
/// How long the processes may take to listen, and a query to finish.
const READY: Duration = Duration::from_secs(60);
const QUERY: Duration = Duration::from_secs(120);

/// Queries with one answer (ordered); floats rounded, since partitions sum in any order.
const QUERIES: &[&str] = &[
    // group-by aggregate (two stages: partial aggregates on the executors, then a shuffle)
    "SELECT origin, count(*) AS n, count(delay) AS d, round(avg(delay), 6) AS a, \
     min(distance), max(distance), sum(id) FROM t GROUP BY origin ORDER BY origin",
    // filters
    "SELECT id, origin, distance FROM t WHERE distance BETWEEN 4000 AND 4100 ORDER BY id",
    "SELECT count(*), sum(distance) FROM t WHERE origin = 'ATL' AND NOT cancelled",
    "SELECT count(*) FROM t WHERE delay IS NULL",
    // projection and limit
    "SELECT id, distance FROM t ORDER BY id DESC LIMIT 7",
];

/// A child process killed when the test ends (pass or fail), its output in a file.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Cluster {
    procs: Vec<Proc>,
    scheduler_port: u16,
    work_dirs: Vec<PathBuf>,
}

impl Cluster {
    /// Every process's output, for a failure message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for p in &self.procs {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            out.push_str(&format!("----- {} ({})\n{text}\n", p.name, p.log.display()));
        }
        out
    }

    /// Panics with the processes' output.
    fn fail(&self, what: impl std::fmt::Display) -> ! {
        panic!("{what}\n{}", self.logs())
    }

    /// Fails if a process has exited.
    fn check_alive(&mut self) {
        let mut dead = Vec::new();
        for p in &mut self.procs {
            if let Ok(Some(status)) = p.child.try_wait() {
                dead.push(format!("{} exited: {status}", p.name));
            }
        }
        if !dead.is_empty() {
            self.fail(dead.join("; "));
        }
    }
}

/// A port nobody listens on now (the OS picks it; it stays free until a process binds it,
/// barring a race with another program on this machine).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn spawn(dir: &Path, name: &str, exe: &str, args: &[String]) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let out = File::create(&log).unwrap();
    let err = out.try_clone().unwrap();
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
    Proc {
        name: name.to_owned(),
        child,
        log,
    }
}

/// Waits until something listens on `port`, or fails with every process's output.
fn wait_listening(cluster: &mut Cluster, what: &str, port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        cluster.check_alive();
        if start.elapsed() > READY {
            cluster.fail(format!("{what} not listening on {addr} after {READY:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_cluster(dir: &Path) -> Cluster {
    let scheduler_port = free_port();
    let mut cluster = Cluster {
        procs: Vec::new(),
        scheduler_port,
        work_dirs: Vec::new(),
    };
    cluster.procs.push(spawn(
        dir,
        "scheduler",
        env!("CARGO_BIN_EXE_brine-ballista-scheduler"),
        &[
            "--bind-host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            scheduler_port.to_string(),
        ],
    ));
    wait_listening(&mut cluster, "the scheduler", scheduler_port);
    let mut ports = Vec::new();
    for i in 0..EXECUTORS {
        let (port, grpc) = (free_port(), free_port());
        let work = dir.join(format!("executor-{i}-work"));
        std::fs::create_dir_all(&work).unwrap();
        cluster.procs.push(spawn(
            dir,
            &format!("executor-{i}"),
            env!("CARGO_BIN_EXE_brine-ballista-executor"),
            &[
                "--bind-host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--grpc-port".into(),
                grpc.to_string(),
                "--scheduler-host".into(),
                "127.0.0.1".into(),
                "--scheduler-port".into(),
                scheduler_port.to_string(),
                "--concurrent-tasks".into(),
                "1".into(),
                "--work-dir".into(),
                work.to_str().unwrap().into(),
            ],
        ));
        cluster.work_dirs.push(work);
        ports.push(port);
    }
    for (i, port) in ports.into_iter().enumerate() {
        wait_listening(&mut cluster, &format!("executor {i}"), port);
    }
    cluster
}

/// A dataset of `ROWS / ROWS_PER_SHARD` shards in `dir/flights`.
fn write_dataset(dir: &Path) -> PathBuf {
    let origins = ["ATL", "JFK", "LAX", "ORD", "SFO"];
    let frame = Frame::builder()
        .column("id", Column::new((0..ROWS as i64).collect::<Vec<_>>()))
        .column(
            "origin",
            Column::strings((0..ROWS).map(|i| origins[(i * 7 + i / 13) % origins.len()])),
        )
        .column(
            "distance",
            Column::new(
                (0..ROWS as i64)
                    .map(|i| (i * 7919) % 10_000)
                    .collect::<Vec<_>>(),
            ),
        )
        .column(
            "delay",
            Column::from_options(
                (0..ROWS)
                    .map(|i| (i % 11 != 3).then_some((i % 97) as f64 * 1.25 - 20.0))
                    .collect::<Vec<_>>(),
            ),
        )
        .column("cancelled", Column::bools((0..ROWS).map(|i| i % 17 == 0)))
        .build()
        .unwrap();
    let root = dir.join("flights");
    let mut w =
        DatasetWriter::create(&root, DatasetOptions::new().max_rows(ROWS_PER_SHARD)).unwrap();
    w.write_frame(&frame).unwrap();
    w.finish().unwrap();
    root
}

/// The table of every shard of the dataset at `root`.
fn dataset_table(root: &Path) -> BrineTable {
    let ds = Dataset::open(root).unwrap();
    let shards: Vec<PathBuf> = ds.shards().iter().map(|s| root.join(s.path())).collect();
    assert_eq!(shards.len(), ROWS / ROWS_PER_SHARD as usize);
    BrineTable::open_many(&shards, Some(SHARD_ENTRY)).unwrap()
}

fn show(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

/// Sorted rows of a result, one string per row (values joined by `,`, independent of the
/// column widths a table rendering would pad to).
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let values: Vec<String> = b
                .columns()
                .iter()
                .map(|c| array_value_to_string(c, r).unwrap())
                .collect();
            rows.push(values.join(","));
        }
    }
    rows.sort();
    rows
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { files_under(&p) } else { 1 }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_executors_answer_like_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_dataset(dir.path());
    let mut cluster = start_cluster(dir.path());

    let local = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    local
        .register_table("t", Arc::new(dataset_table(&root)))
        .unwrap();

    let url = format!("df://127.0.0.1:{}", cluster.scheduler_port);
    let remote = match brine_ballista::remote_context(&url).await {
        Ok(c) => c,
        Err(e) => cluster.fail(format!("connecting to {url}: {e}")),
    };
    remote
        .register_table("t", Arc::new(dataset_table(&root)))
        .unwrap();

    async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
        tokio::time::timeout(QUERY, async { ctx.sql(sql).await?.collect().await })
            .await
            .unwrap_or_else(|_| {
                Err(datafusion::error::DataFusionError::Execution(format!(
                    "no answer after {QUERY:?}"
                )))
            })
    }

    for sql in QUERIES {
        let want = run(&local, sql).await.unwrap();
        let got = match run(&remote, sql).await {
            Ok(b) => b,
            Err(e) => cluster.fail(format!("{sql}\non the cluster: {e}")),
        };
        cluster.check_alive();
        if show(&got) != show(&want) {
            cluster.fail(format!(
                "{sql}\ncluster:\n{}\nDataFusion:\n{}",
                show(&got),
                show(&want)
            ));
        }
        assert!(!want.is_empty() && want.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    }

    // A limit without an order has many right answers: any 10 rows of the table.
    let sql = "SELECT id, origin FROM t LIMIT 10";
    let got = match run(&remote, sql).await {
        Ok(b) => rows(&b),
        Err(e) => cluster.fail(format!("{sql}\non the cluster: {e}")),
    };
    let all = rows(&run(&local, "SELECT id, origin FROM t").await.unwrap());
    assert_eq!(got.len(), 10, "{sql}: {got:?}");
    for r in &got {
        if all.binary_search(r).is_err() {
            cluster.fail(format!("{sql}: row {r} is not in the table"));
        }
    }

    // Both executors ran tasks: each wrote shuffle files of the jobs into its work folder.
    for (i, w) in cluster.work_dirs.iter().enumerate() {
        if files_under(w) == 0 {
            cluster.fail(format!(
                "executor {i} ran no task (nothing in {})",
                w.display()
            ));
        }
    }

    // The scan itself is spread: in a new group-by job, the first stage (the scan and the
    // partial aggregate, `JOB/1/PARTITION/data-TASK.arrow` in an executor's work folder) ran
    // as tasks on both executors, no task on both, and the answer is still right.
    let before: Vec<Vec<String>> = cluster.work_dirs.iter().map(|w| jobs(w)).collect();
    let sql = "SELECT origin, count(*) AS n, sum(id) AS s FROM t GROUP BY origin ORDER BY origin";
    let want = run(&local, sql).await.unwrap();
    let got = match run(&remote, sql).await {
        Ok(b) => b,
        Err(e) => cluster.fail(format!("{sql}\non the cluster: {e}")),
    };
    assert_eq!(show(&got), show(&want), "{sql}");
    let mut new_jobs: Vec<String> = cluster
        .work_dirs
        .iter()
        .zip(&before)
        .flat_map(|(w, old)| jobs(w).into_iter().filter(|j| !old.contains(j)))
        .collect();
    new_jobs.sort();
    new_jobs.dedup();
    let [job] = new_jobs.as_slice() else {
        cluster.fail(format!("expected one new job, found {new_jobs:?}"));
    };
    let tasks: Vec<Vec<String>> = cluster
        .work_dirs
        .iter()
        .map(|w| stage_tasks(&w.join(job).join("1")))
        .collect();
    if tasks.iter().any(Vec::is_empty) || tasks[0].iter().any(|t| tasks[1].contains(t)) {
        cluster.fail(format!(
            "the scan stage of job {job} was not spread over both executors: tasks {tasks:?}"
        ));
    }
    eprintln!("scan stage of job {job}: tasks per executor {tasks:?}");
    cluster.check_alive();
}

/// The job folders in an executor's work folder: those with stage folders (numbers) in them;
/// DataFusion's spill folders (`datafusion-*`) are not jobs.
fn jobs(work: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(work) else {
        return Vec::new();
    };
    let has_stages = |job: &Path| {
        std::fs::read_dir(job)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let mut jobs: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir() && has_stages(&e.path()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    jobs.sort();
    jobs
}

/// The tasks (`data-TASK.arrow`) that wrote shuffle files of one stage folder, sorted.
fn stage_tasks(stage: &Path) -> Vec<String> {
    let mut tasks = Vec::new();
    for partition in std::fs::read_dir(stage).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(partition.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if let Some(task) = name
                .strip_prefix("data-")
                .and_then(|n| n.strip_suffix(".arrow"))
            {
                tasks.push(task.to_owned());
            }
        }
    }
    tasks.sort();
    tasks.dedup();
    tasks
}
