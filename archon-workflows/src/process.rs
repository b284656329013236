//! Running one node's process: its output streamed live, each line prefixed with the node id,
//! the end of its output kept for classifying a failure, and an optional interrupt flag.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::output::{self, Output};

/// How much of the end of a node's output is kept for classifying its failure.
const TAIL_BYTES: usize = 16 * 1024;

/// A line longer than this is written out in pieces, so that output with no newline (a progress
/// bar, a binary blob) cannot grow memory without bound.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// How often a process is checked while an interrupt flag is watched.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How long a node asked to stop (SIGTERM) has to clean up before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long to wait, after the process exited, for the rest of its output. A process that left
/// a background child holding the output pipes (`server &`) would otherwise hold the workflow
/// forever; after this grace period its remaining output is still copied, in the background.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// How a node's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (Unix).
    Signal(i32),
    /// The interrupt flag was raised and archon stopped it.
    Interrupted,
    /// Its status could not be read.
    Unknown,
}

/// A process that ran.
#[derive(Debug)]
pub(crate) struct Finished {
    pub exit: Exit,
    /// The end of its stdout and stderr, interleaved as they arrived (lossy UTF-8).
    pub output_tail: String,
}

/// Runs `command` to its end. Its stdin is empty (a node cannot wait for input that never comes),
/// and each line of its stdout and stderr goes to `output` prefixed with `prefix`. `running` is
/// called once the process has started, before waiting for it. The error is the process could
/// not be started.
pub(crate) fn run(
    mut command: Command,
    prefix: &str,
    output: &Output,
    interrupt: Option<&AtomicBool>,
    running: &mut dyn FnMut(),
) -> io::Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let spawned_at = Instant::now();

    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_BYTES)));
    let (done_tx, done_rx) = mpsc::channel();
    let mut copiers = 0;
    let streams: [(Option<Box<dyn Read + Send>>, _); 2] = [
        (
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            output.stdout(),
        ),
        (
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            output.stderr(),
        ),
    ];
    for (stream, to) in streams {
        let Some(stream) = stream else { continue };
        let (prefix, tail, done) = (
            prefix.as_bytes().to_vec(),
            Arc::clone(&tail),
            done_tx.clone(),
        );
        let spawned = thread::Builder::new()
            .name("archon-node-output".into())
            .spawn(move || {
                copy_lines(stream, &to, &prefix, &tail);
                let _ = done.send(());
            });
        // Without a thread the pipe is dropped here: the node sees a closed pipe if it writes.
        if spawned.is_ok() {
            copiers += 1;
        }
    }

    running();
    let exit = wait(&mut child, interrupt, spawned_at);

    // Let the copiers finish the output already in the pipes, up to a deadline.
    let deadline = Instant::now()
        + if exit == Exit::Interrupted {
            POLL_INTERVAL * 5
        } else {
            DRAIN_GRACE
        };
    for _ in 0..copiers {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }

    let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
    let (a, b) = tail.as_slices();
    let output_tail = String::from_utf8_lossy(&[a, b].concat()).into_owned();
    Ok(Finished { exit, output_tail })
}

/// Waits for `child`, started at `spawned_at`; with an interrupt flag, polls it and kills the
/// child when it is raised.
fn wait(child: &mut Child, interrupt: Option<&AtomicBool>, spawned_at: Instant) -> Exit {
    let Some(interrupt) = interrupt else {
        return child.wait().map(exit_of).unwrap_or(Exit::Unknown);
    };
    // Start polling fast and slow down, so a node that ends quickly costs about a millisecond
    // of waiting rather than a whole interval. The checks are timed from the spawn, so what the
    // caller did meanwhile (see `running`) shortens the first pause instead of delaying them all.
    let mut pause = Duration::from_millis(1);
    let mut next_check = spawned_at + pause;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return exit_of(status),
            Ok(None) => {}
            Err(_) => return Exit::Unknown,
        }
        if interrupt.load(Ordering::SeqCst) {
            stop(child);
            return Exit::Interrupted;
        }
        thread::sleep(next_check.saturating_duration_since(Instant::now()));
        pause = (pause * 2).min(POLL_INTERVAL);
        next_check += pause;
    }
}

/// Stops `child` for an interrupted workflow: asks with SIGTERM, as `kill` would, so that it can
/// clean up (a shell script's `trap`, an assistant's own shutdown), and kills it if it has not
/// ended within [`STOP_GRACE`]. Only the direct child is signalled: programs it started are
/// usually in archon's process group and got the same Ctrl-C that raised the flag.
#[cfg(unix)]
#[allow(unsafe_code)]
fn stop(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a valid signal on the pid of our own child, which has not been
        // waited for yet (so the pid cannot have been reused).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Elsewhere there is no asking: the child is killed.
#[cfg(not(unix))]
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn exit_of(status: ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Exit::Signal(signal);
        }
    }
    Exit::Unknown
}

/// Copies `from` to `to` line by line, each line prefixed, and keeps the last `TAIL_BYTES` in
/// `tail`. Works on bytes, so output that is not UTF-8 passes through untouched. A last line
/// without a newline gets one, so the next prefix starts a line.
fn copy_lines(
    mut from: impl Read,
    to: &Arc<Mutex<Box<dyn io::Write + Send>>>,
    prefix: &[u8],
    tail: &Mutex<VecDeque<u8>>,
) {
    let mut buffer = [0u8; 8192];
    let mut line: Vec<u8> = prefix.to_vec();
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => &buffer[..n],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        keep_tail(tail, read);
        for piece in read.split_inclusive(|&b| b == b'\n') {
            line.extend_from_slice(piece);
            let complete = piece.ends_with(b"\n");
            if complete || line.len() - prefix.len() >= MAX_LINE_BYTES {
                if !complete {
                    line.push(b'\n');
                }
                output::write_line(to, &line);
                line.truncate(prefix.len());
            }
        }
    }
    if line.len() > prefix.len() {
        line.push(b'\n');
        output::write_line(to, &line);
    }
}

fn keep_tail(tail: &Mutex<VecDeque<u8>>, bytes: &[u8]) {
    let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
    let bytes = &bytes[bytes.len().saturating_sub(TAIL_BYTES)..];
    let overflow = (tail.len() + bytes.len()).saturating_sub(TAIL_BYTES);
    tail.drain(..overflow);
    tail.extend(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn copy(input: &[u8]) -> (String, String) {
        let captured = Captured::default();
        let to: Arc<Mutex<Box<dyn io::Write + Send>>> =
            Arc::new(Mutex::new(Box::new(captured.clone())));
        let tail = Mutex::new(VecDeque::new());
        copy_lines(input, &to, b"[n] ", &tail);
        let tail: Vec<u8> = tail.into_inner().unwrap().into();
        let out = captured.0.lock().unwrap().clone();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(tail).unwrap(),
        )
    }

    #[test]
    fn every_line_is_prefixed_and_a_last_partial_line_is_ended() {
        let (out, tail) = copy(b"one\ntwo\n\nthree");
        assert_eq!(out, "[n] one\n[n] two\n[n] \n[n] three\n");
        assert_eq!(tail, "one\ntwo\n\nthree");
    }

    #[test]
    fn a_huge_line_is_split_and_the_tail_is_bounded() {
        let input = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let (out, tail) = copy(&input);
        assert_eq!(out.matches("[n] ").count(), 3);
        assert_eq!(tail.len(), TAIL_BYTES);
    }
}
