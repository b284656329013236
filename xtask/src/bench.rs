//! `cargo xtask bench`: what telemetry costs the person running archon, measured on the real
//! binary.
//!
//! It builds a release `archon` and `archon-telemetry-deliver` with a test key (into
//! `target/bench-keyed`, so no real build is touched) and an archon without telemetry
//! (`--no-default-features`, into `target/bench-no-telemetry`), then times `archon version` and a
//! one-node `archon workflow run` built without telemetry, and with telemetry off (by
//! `DO_NOT_TRACK=1`, and in config.yaml), undecided, and
//! on with a reachable server, a refused port and a host that accepts connections and never
//! answers (the servers run in this process on 127.0.0.1). The binaries timed are copies, as
//! installed, not the linker's output (see [`install`]). It reports medians as ratios to
//! "off", the peak memory of archon, the binaries' sizes, and then runs the runtime's
//! micro-benchmarks (`cargo bench -p telemetry-runtime`: recording
//! one event, the exit path, delivering 10,000 events).
//!
//! Numbers from a shared machine are noisy: compare ratios from one run, not runs from
//! different days.

use crate::failure::Failure;
use crate::workspace;
use capture_server::{CaptureServer, Reply};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The key the benchmark binary is built with; the servers it talks to are local.
const BENCH_KEY: &str = "phc_bench_key_local_servers_only";

/// How telemetry is set up for one series of runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// archon built without the `telemetry` feature: the true zero.
    NotBuiltIn,
    Off,
    /// Off in config.yaml, as `archon telemetry off` leaves it.
    OffByConfig,
    Undecided,
    OnReachable,
    OnRefused,
    OnSilent,
}

impl Setting {
    const ALL: [Setting; 7] = [
        Setting::NotBuiltIn,
        Setting::Off,
        Setting::OffByConfig,
        Setting::Undecided,
        Setting::OnReachable,
        Setting::OnRefused,
        Setting::OnSilent,
    ];

    fn label(self) -> &'static str {
        match self {
            Setting::NotBuiltIn => "not built in (`--no-default-features`)",
            Setting::Off => "off (DO_NOT_TRACK=1)",
            Setting::OffByConfig => "off (`archon telemetry off`)",
            Setting::Undecided => "undecided",
            Setting::OnReachable => "on, server reachable",
            Setting::OnRefused => "on, port refused",
            Setting::OnSilent => "on, host never answers",
        }
    }
}

/// One measured command.
struct Series {
    setting: Setting,
    command: &'static str,
    median: Duration,
    peak_rss_kib: Option<i64>,
}

/// Runs the benchmark.
pub fn run(runs: usize) -> Result<(), Failure> {
    let runs = runs.max(3);
    let built = build_keyed_binary()?;
    // Built before anything is timed, so that the compiler does not compete with the runs.
    let built_without_telemetry = build_binary_without_telemetry()?;
    let installs = tempfile::tempdir().map_err(|e| Failure::environment(e.to_string()))?;
    let binary = install(&built, &installs.path().join("with-telemetry"))?;
    let without_telemetry = install(
        &built_without_telemetry,
        &installs.path().join("without-telemetry"),
    )?;
    let reachable = CaptureServer::start();
    let silent = CaptureServer::start();
    silent.script(std::iter::repeat_n(Reply::NeverAnswer, 100_000));
    let refused = refused_url();

    let commands: [(&'static str, &[&str]); 2] = [
        ("archon version", &["version"]),
        ("archon workflow run", &["workflow", "run", "bench"]),
    ];
    let mut homes = Vec::new();
    for setting in Setting::ALL {
        let host = match setting {
            Setting::OnReachable => Some(reachable.url().to_owned()),
            Setting::OnRefused => Some(refused.clone()),
            Setting::OnSilent => Some(silent.url().to_owned()),
            Setting::NotBuiltIn | Setting::Off | Setting::OffByConfig | Setting::Undecided => None,
        };
        let home = Home::new(setting, host)?;
        let program = match setting {
            Setting::NotBuiltIn => &without_telemetry,
            _ => &binary,
        };
        // One unmeasured run of each command warms the file cache and, when on, creates the id.
        for (_, args) in &commands {
            home.run(program, args)?;
        }
        homes.push((setting, home, program));
    }
    // Round-robin over settings, so that load from elsewhere on the machine falls on all of
    // them alike rather than on whichever series ran at the time; each round in a new order,
    // so that no series always runs right after the same other one (a delivery process
    // started by one series would otherwise always weigh on the next).
    let series: Vec<_> = homes
        .iter()
        .flat_map(|(setting, home, program)| {
            commands
                .iter()
                .map(move |(command, args)| (*setting, home, *program, *command, *args))
        })
        .collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); series.len()];
    let mut order: Vec<usize> = (0..series.len()).collect();
    let mut random = Shuffle::new();
    for _ in 0..runs {
        random.shuffle(&mut order);
        for &index in &order {
            let (_, home, program, _, args) = series[index];
            samples[index].push(home.run(program, args)?);
        }
    }
    let results: Vec<Series> = series
        .iter()
        .zip(samples)
        .map(|(&(setting, home, program, command, args), mut times)| {
            times.sort();
            Series {
                setting,
                command,
                median: times[times.len() / 2],
                // Measured apart from the timed runs, which GNU time would slow down.
                peak_rss_kib: home.peak_rss_kib(program, args),
            }
        })
        .collect();
    print_table(&results, runs);
    print_size(&built, &built_without_telemetry);
    println!("\nMicro-benchmarks (cargo bench -p telemetry-runtime):\n");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .current_dir(workspace::root())
        .args(["bench", "-p", "telemetry-runtime"])
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `{cargo} bench`: {e}")))?;
    if !status.success() {
        return Err(Failure::check("the runtime's benchmarks failed"));
    }
    Ok(())
}

fn build_keyed_binary() -> Result<PathBuf, Failure> {
    build_release("bench-keyed", &[], "with a test key")
}

/// archon without the `telemetry` feature, as a distribution may build it: the binary-size
/// baseline. Built with the same key as the keyed one so that the feature is the only
/// difference (a build without telemetry never uses the key).
fn build_binary_without_telemetry() -> Result<PathBuf, Failure> {
    build_release(
        "bench-no-telemetry",
        &["--no-default-features"],
        "without telemetry",
    )
}

/// A release `archon`, built with [`BENCH_KEY`] and `extra` cargo arguments into
/// `target/<dir>`, so that no real build is touched.
fn build_release(dir: &str, extra: &[&str], what: &str) -> Result<PathBuf, Failure> {
    let target = workspace::root().join("target").join(dir);
    eprintln!(
        "building a release archon {what} into {} ...",
        target.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .current_dir(workspace::root())
        .args(["build", "--release", "--quiet", "-p", "archon-cli"])
        .args(extra)
        .env("CARGO_TARGET_DIR", &target)
        .env("ARCHON_POSTHOG_KEY", BENCH_KEY)
        .env_remove("ARCHON_POSTHOG_HOST")
        .status()
        .map_err(|e| Failure::environment(format!("cannot run `{cargo} build`: {e}")))?;
    if !status.success() {
        return Err(Failure::check(format!(
            "building the benchmark binary {what} failed"
        )));
    }
    Ok(target.join("release").join("archon"))
}

/// Copies the archon built at `built` (and the delivery program beside it, if there is one)
/// into `dir`, as an installation would, and returns the copy of archon.
///
/// The runs are timed on such copies, not on the linker's output: on this machine (Linux 6.18,
/// ext4) a binary just written by the linker starts about 0.25 ms slower than a copy of it,
/// every run, which would weigh on the rows of one build and not the other's. Copies are
/// written in one go, like an install or a package, and start alike.
fn install(built: &Path, dir: &Path) -> Result<PathBuf, Failure> {
    let cannot = |e: std::io::Error| {
        Failure::environment(format!(
            "cannot copy {} for the benchmark: {e}",
            built.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(cannot)?;
    for name in ["archon", "archon-telemetry-deliver"] {
        let from = built.with_file_name(name);
        if name != "archon" && !from.exists() {
            continue;
        }
        let to = dir.join(name);
        std::fs::write(&to, std::fs::read(&from).map_err(cannot)?).map_err(cannot)?;
        #[cfg(unix)]
        std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(cannot)?;
    }
    Ok(dir.join("archon"))
}

/// A small xorshift generator for the order of each round: it only has to differ from round to
/// round, not be unpredictable.
struct Shuffle(u64);

impl Shuffle {
    fn new() -> Shuffle {
        Shuffle(0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for last in (1..items.len()).rev() {
            items.swap(last, self.next(last + 1));
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens: a port taken and released again.
fn refused_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}")
}

/// A temporary `$ARCHON_HOME` and project for one setting.
struct Home {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl Home {
    fn new(setting: Setting, host: Option<String>) -> Result<Home, Failure> {
        let dir = tempfile::tempdir().map_err(|e| Failure::environment(e.to_string()))?;
        let archon_home = dir.path().join("archon-home");
        let workflows = dir.path().join("project/.archon/workflows");
        let setup = std::fs::create_dir_all(&archon_home)
            .and_then(|()| std::fs::create_dir_all(&workflows))
            .and_then(|()| std::fs::write(archon_home.join(".first-run-completed"), ""))
            .and_then(|()| {
                std::fs::write(
                    workflows.join("bench.yaml"),
                    "name: bench\ndescription: one small bash node\nnodes:\n  - id: hello\n    bash: echo hello\n",
                )
            });
        setup.map_err(|e| Failure::environment(format!("cannot prepare a benchmark home: {e}")))?;
        let mut env = vec![("ARCHON_HOME", archon_home.display().to_string())];
        match setting {
            Setting::Off => env.push(("DO_NOT_TRACK", "1".into())),
            // Not built in: nothing to turn off. Undecided: nothing set, on purpose.
            Setting::NotBuiltIn | Setting::Undecided => {}
            Setting::OffByConfig => {
                std::fs::write(
                    archon_home.join("config.yaml"),
                    "telemetry:\n  enabled: false\n",
                )
                .map_err(|e| Failure::environment(format!("cannot write config.yaml: {e}")))?;
            }
            Setting::OnReachable | Setting::OnRefused | Setting::OnSilent => {
                env.push(("ARCHON_TELEMETRY", "1".into()))
            }
        }
        if let Some(host) = host {
            env.push(("ARCHON_TELEMETRY_HOST", host));
        }
        Ok(Home { dir, env })
    }

    /// A command that runs `program` with `args` in this home's project, with only this
    /// setting's environment.
    fn command(&self, program: &Path, args: &[&OsStr]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.dir.path().join("project"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs archon once: wall time from start to exit.
    fn run(&self, binary: &Path, args: &[&str]) -> Result<Duration, Failure> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let start = Instant::now();
        let status = self
            .command(binary, &args)
            .status()
            .map_err(|e| Failure::environment(format!("cannot run {}: {e}", binary.display())))?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(Failure::check(format!(
                "archon {} exited with {status} during the benchmark",
                args.join(OsStr::new(" ")).to_string_lossy()
            )));
        }
        Ok(elapsed)
    }

    /// archon's peak resident memory in KiB over three runs, as GNU time reports it; `None`
    /// without `/usr/bin/time`.
    ///
    /// Not from `wait4` on the benchmark's own child: that child is started with `vfork`, and
    /// Linux carries the parent's (this benchmark's) peak over into the child's at `exec`.
    /// GNU time starts archon with `fork` from a process of a few hundred KiB.
    fn peak_rss_kib(&self, binary: &Path, args: &[&str]) -> Option<i64> {
        let time = Path::new(GNU_TIME);
        let report = self.dir.path().join("peak-rss.txt");
        let mut time_args: Vec<&OsStr> = vec![
            OsStr::new("-f"),
            OsStr::new("%M"),
            OsStr::new("-o"),
            report.as_os_str(),
            binary.as_os_str(),
        ];
        time_args.extend(args.iter().map(OsStr::new));
        let mut peak = None;
        for _ in 0..3 {
            if !self.command(time, &time_args).status().ok()?.success() {
                return None;
            }
            let kib = std::fs::read_to_string(&report)
                .ok()?
                .trim()
                .parse::<i64>()
                .ok()?;
            peak = peak.max(Some(kib));
        }
        peak
    }
}

/// GNU time (Debian's `time` package), used to measure archon's peak memory.
const GNU_TIME: &str = "/usr/bin/time";

fn print_table(results: &[Series], runs: usize) {
    println!("\nMedian wall time over {runs} runs, and as a ratio to telemetry off:\n");
    println!("| command | telemetry | median | ratio to off | difference | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for series in results {
        let off = results
            .iter()
            .find(|s| s.command == series.command && s.setting == Setting::Off)
            .map_or(series.median, |s| s.median);
        let ratio = series.median.as_secs_f64() / off.as_secs_f64().max(1e-9);
        let peak = series.peak_rss_kib.map_or_else(
            || "unknown".to_owned(),
            |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
        );
        println!(
            "| `{}` | {} | {:.2} ms | {:.2} | {:+.2} ms | {peak} |",
            series.command,
            series.setting.label(),
            series.median.as_secs_f64() * 1000.0,
            ratio,
            (series.median.as_secs_f64() - off.as_secs_f64()) * 1000.0,
        );
    }
    if results.iter().any(|series| series.peak_rss_kib.is_none()) {
        println!(
            "
Peak RSS is measured with GNU time ({GNU_TIME}, Debian's `time` package)."
        );
    }
}

/// The sizes: archon with telemetry, the delivery program next to it, and archon built without
/// telemetry, which is the measured cost; then, for the two archons, the share that symbol names
/// attribute to the telemetry crates and to the HTTP/TLS stack. That breakdown is an estimate
/// (`nm` sees only named code and data), but it shows that archon itself links no HTTP/TLS code:
/// only the delivery program does.
fn print_size(with: &Path, without: &Path) {
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    let size = |binary: &Path| std::fs::metadata(binary).map(|m| m.len()).ok();
    let deliver = with.with_file_name("archon-telemetry-deliver");
    let (Some(with_size), Some(without_size), Some(deliver_size)) =
        (size(with), size(without), size(&deliver))
    else {
        println!("\nBinary size: unknown (a binary cannot be read)");
        return;
    };
    let added = with_size as f64 - without_size as f64;
    println!(
        "\narchon with telemetry (and a key): {:.1} MiB; without (`--no-default-features`): {:.1} MiB; \
         telemetry adds {:.1} MiB ({:+.0} %) to archon",
        mib(with_size),
        mib(without_size),
        added / 1048576.0,
        added / (without_size as f64).max(1.0) * 100.0,
    );
    println!(
        "archon-telemetry-deliver, installed next to it and run only to send: {:.1} MiB",
        mib(deliver_size)
    );
    println!("  with:    {}", with.display());
    println!("  deliver: {}", deliver.display());
    println!("  without: {}", without.display());
    let (Some(with_symbols), Some(without_symbols)) = (symbol_sizes(with), symbol_sizes(without))
    else {
        println!("  (nm is not installed or failed: no breakdown by symbol names)");
        return;
    };
    println!("\nBy symbol names (an estimate):\n");
    println!("| | with telemetry | without |");
    println!("| --- | --- | --- |");
    println!(
        "| named symbols | {:.1} MiB | {:.1} MiB |",
        mib(with_symbols.named),
        mib(without_symbols.named)
    );
    for (i, (label, _)) in SYMBOL_GROUPS.iter().enumerate() {
        println!(
            "| {label} | {:.2} MiB | {:.2} MiB |",
            mib(with_symbols.groups[i]),
            mib(without_symbols.groups[i])
        );
    }
}

/// Symbol-name prefixes of what telemetry brings in. Without telemetry, `telemetry_runtime`
/// (its config.yaml code) and `telemetry_schema` (the event types) keep a small share.
const SYMBOL_GROUPS: [(&str, &[&str]); 2] = [
    (
        "telemetry crates",
        &["telemetry_runtime", "telemetry_schema", "posthog_rs"],
    ),
    (
        "HTTP/TLS stack used only for delivery",
        &[
            "reqwest", "hyper", "h2::", "rustls", "ring::", "aws_lc", "tokio", "http::", "webpki",
            "tower",
        ],
    ),
];

/// Bytes of named symbols in a binary, in all and per [`SYMBOL_GROUPS`] entry.
struct SymbolSizes {
    named: u64,
    groups: [u64; SYMBOL_GROUPS.len()],
}

/// Reads the symbols of `binary` with `nm`; `None` when nm cannot be run or fails.
fn symbol_sizes(binary: &Path) -> Option<SymbolSizes> {
    let output = Command::new("nm")
        .args(["--size-sort", "--print-size", "--demangle"])
        .arg(binary)
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut sizes = SymbolSizes {
        named: 0,
        groups: [0; SYMBOL_GROUPS.len()],
    };
    for line in text.lines() {
        let mut parts = line.splitn(4, ' ');
        let (Some(_address), Some(size), Some(_kind), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(size) = u64::from_str_radix(size, 16) else {
            continue;
        };
        sizes.named += size;
        let name = name.trim_start_matches('<');
        for (i, (_, prefixes)) in SYMBOL_GROUPS.iter().enumerate() {
            if prefixes.iter().any(|p| name.starts_with(p)) {
                sizes.groups[i] += size;
            }
        }
    }
    Some(sizes)
}

#[cfg(test)]
mod tests {
    use super::Shuffle;

    #[test]
    fn each_round_is_a_permutation_and_the_order_changes() {
        let mut random = Shuffle::new();
        let mut orders = Vec::new();
        for _ in 0..20 {
            let mut order: Vec<usize> = (0..12).collect();
            random.shuffle(&mut order);
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, (0..12).collect::<Vec<_>>());
            orders.push(order);
        }
        orders.sort();
        orders.dedup();
        assert!(orders.len() > 15, "only {} different orders", orders.len());
    }
}
