//! Fuzzing the readers of telemetry's own files: the queue (`queue.jsonl`, read by
//! `queue::read`, `status`, `inspect`, the recorder and delivery), the recent events
//! (`recent.jsonl`, read by `inspect` and `status`), the state (`state.json`) and the anonymous id
//! (`telemetry-id`), all through the public API, each file absent, valid, damaged or garbage.
//!
//! Properties: nothing panics or hangs (each case runs in a child process with a time limit);
//! every valid queue line is read, in order, whatever garbage surrounds it, and every other
//! non-empty line is counted as unreadable; `status` and `inspect` report exactly what the files
//! hold; recording after the damage still works (the new event is queued, the old ones kept,
//! and `inspect` shows it waiting); an id file holding a UUID is kept, any other is replaced;
//! delivery sends every valid queued event, whatever garbage and counters surround it.
//!
//! Inputs: arbitrary bytes, arbitrary text, valid lines, and valid lines damaged by a few edits
//! (see `fuzzing/mod.rs`). Longer run, replaying `proptest-regressions/` first:
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test --release -p telemetry-runtime --test fuzz_queue
//! ```

mod common;
mod fuzzing;

use capture_server::CaptureServer;
use common::*;
use fuzzing::{Edit, Shown};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashSet;
use std::path::Path;
use telemetry_posthog::deliver;
use telemetry_runtime::recent::{DeliveryStatus, RecentEntry, Recorded, Waiting};
use telemetry_runtime::state::TelemetryState;
use telemetry_runtime::store::Store;
use telemetry_runtime::wire::WireEvent;
use telemetry_runtime::{control, identity, queue, state, Telemetry};
use telemetry_schema::BaseProperties;
use uuid::Uuid;

/// Tokens inserted into JSON lines by the mutating generator.
const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\udc00",
    b"\\\"",
    b"null",
    b"true",
    b"1e999",
    b"-1",
    b"18446744073709551616",
    b"0.1e-999",
    b"\"uuid\":\"00000000-0000-0000-0000-000000000000\",",
    b"\"uuid\":",
    b"\"event\":\"cli.command_invoked\",",
    b"\"distinct_id\":null,",
    b"\"properties\":{},",
    b"\"properties\":[],",
    b"\"timestamp\":\"not a time\",",
    b"\"timestamp\":\"9999-12-31T23:59:59.999Z\",",
    b"\"timestamp\":\"1970-01-01T00:00:00Z\",",
    b"\"$process_person_profile\":true,",
    b"{\"recorded\":\"queued\",\"event\":",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\n\n",
];

/// Fixed ids, so that a case replays exactly: valid lines get `VALID | n`, the lines damaged into
/// garbage start from `GARBAGE`, so a damaged line that still parses never takes a valid id.
const VALID: u128 = 0xa1a1_a1a1_0000_4000_8000_0000_0000_0000;
const GARBAGE: u128 = 0xbad0_bad0_0000_4000_8000_0000_0000_0001;

/// The anonymous id the generated events carry.
const ANONYMOUS_ID: u128 = 0x1d1d_1d1d_0000_4000_8000_0000_0000_0000;

/// Makes [`ANONYMOUS_ID`] the current id of `store`, as it is for the events it queued: a
/// delivery sends only events under the current id.
fn own_the_events(store: &Store) {
    write(
        &store.identity_path(),
        &Some(format!("{}\n", Uuid::from_u128(ANONYMOUS_ID)).into_bytes()),
    );
}

/// A wire event as the recorder makes it, with the id `uuid`.
fn wire_event(uuid: u128, startup: bool) -> WireEvent {
    let base = BaseProperties::for_this_build(false);
    let id = Some(Uuid::from_u128(ANONYMOUS_ID));
    let mut event = if startup {
        WireEvent::new(&common::startup(), &base, id, chrono::Utc::now())
    } else {
        WireEvent::new(&invoked(), &base, id, chrono::Utc::now())
    };
    event.uuid = Uuid::from_u128(uuid);
    event
}

fn queue_line(event: &WireEvent) -> Vec<u8> {
    serde_json::to_vec(event).unwrap()
}

fn recent_line(recorded: Recorded, event: &WireEvent) -> Vec<u8> {
    serde_json::to_vec(&RecentEntry {
        recorded,
        event: event.clone(),
    })
    .unwrap()
}

/// Lines that are JSON, or nearly, but not a wire object.
const OTHER_JSON: &[&[u8]] = &[
    b"{}",
    b"[]",
    b"null",
    b"\"text\"",
    b"   ",
    b"\r",
    b"{\"uuid\":\"a1a1a1a1-0000-4000-8000-000000000001\"}",
    b"\xef\xbb\xbf{}",
];

/// Garbage lines made from `template` (a valid line of the file): damaged by a few edits, cut
/// short, glued to a copy, or other JSON; and arbitrary bytes or text.
fn garbage(template: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let cut = template.clone();
    let glued = [template.clone(), template.clone()].concat();
    prop_oneof![
        4 => fuzzing::mutated(Just(template), JSON_TOKENS, 4),
        2 => any::<Index>().prop_map(move |at| cut[..at.index(cut.len())].to_vec()),
        1 => Just(glued),
        1 => proptest::sample::select(OTHER_JSON)
        .prop_map(<[u8]>::to_vec),
        1 => fuzzing::bytes(200),
        1 => fuzzing::text_bytes(100),
    ]
}

/// One line of a generated file.
#[derive(Debug, Clone)]
enum Piece {
    /// A valid line (a `startup` or `invoked` event), written as is, with `\r` before its
    /// newline, or with spaces around it: `style` 0 to 3.
    Valid { startup: bool, style: u8 },
    /// Anything else; it may hold newlines of its own.
    Garbage(Vec<u8>),
}

/// A generated file: its lines, whether the last one ends with a newline, and optionally edits
/// of the whole file (after which only the oracle knows which lines are valid).
#[derive(Debug, Clone)]
struct GeneratedFile {
    pieces: Vec<Piece>,
    final_newline: bool,
    damage: Vec<Edit>,
}

fn generated_file(template: Vec<u8>) -> impl Strategy<Value = GeneratedFile> {
    let piece = prop_oneof![
        2 => (any::<bool>(), 0..4u8).prop_map(|(startup, style)| Piece::Valid { startup, style }),
        2 => garbage(template).prop_map(Piece::Garbage),
    ];
    (
        proptest::collection::vec(piece, 0..12),
        any::<bool>(),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec(fuzzing::edit(JSON_TOKENS), 1..4),
        ],
    )
        .prop_map(|(pieces, final_newline, damage)| GeneratedFile {
            pieces,
            final_newline,
            damage,
        })
}

/// A file that is not made of lines at all, or not there.
#[derive(Debug, Clone)]
enum FileInput {
    Absent,
    Lines(GeneratedFile),
    Bytes(Vec<u8>),
}

fn file_input(template: Vec<u8>) -> impl Strategy<Value = FileInput> {
    prop_oneof![
        1 => Just(FileInput::Absent),
        6 => generated_file(template).prop_map(FileInput::Lines),
        1 => fuzzing::bytes(400).prop_map(FileInput::Bytes),
        1 => fuzzing::text_bytes(200).prop_map(FileInput::Bytes),
    ]
}

/// The bytes of a generated file, and the valid lines it holds in order (unless the whole file
/// was damaged). `line` renders the valid line of an event.
fn render(
    input: &FileInput,
    first_uuid: u128,
    line: impl Fn(&WireEvent) -> Vec<u8>,
) -> (Option<Vec<u8>>, Option<Vec<Uuid>>) {
    let file = match input {
        FileInput::Absent => return (None, Some(Vec::new())),
        FileInput::Bytes(bytes) => return (Some(bytes.clone()), None),
        FileInput::Lines(file) => file,
    };
    let mut bytes = Vec::new();
    let mut valid = Vec::new();
    for (i, piece) in file.pieces.iter().enumerate() {
        match piece {
            Piece::Valid { startup, style } => {
                let event = wire_event(first_uuid + i as u128, *startup);
                valid.push(event.uuid);
                let text = line(&event);
                match style {
                    1 => bytes.extend_from_slice(&[&text[..], b"\r"].concat()),
                    2 => bytes.extend_from_slice(&[b"  ", &text[..]].concat()),
                    3 => bytes.extend_from_slice(&[&text[..], b" \t "].concat()),
                    _ => bytes.extend_from_slice(&text),
                }
            }
            Piece::Garbage(garbage) => bytes.extend_from_slice(garbage),
        }
        bytes.push(b'\n');
    }
    if !file.final_newline && bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    if file.damage.is_empty() {
        (Some(bytes), Some(valid))
    } else {
        (Some(fuzzing::apply(bytes, &file.damage)), None)
    }
}

/// The non-empty lines of `bytes` (what the readers split on).
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .collect()
}

fn write(path: &Path, bytes: &Option<Vec<u8>>) {
    if let Some(bytes) = bytes {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Checks that `uuids` appear in `events` in this order (other events may come between).
fn in_order(events: &[WireEvent], uuids: &[Uuid]) -> bool {
    let mut wanted = uuids.iter().peekable();
    for event in events {
        if wanted.peek() == Some(&&event.uuid) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

/// State files: valid ones (with counters near their limits), damaged ones, garbage.
fn state_input() -> impl Strategy<Value = Option<Vec<u8>>> {
    let valid = (
        any::<u64>(),
        any::<u32>(),
        proptest::option::of(proptest::sample::select(
            &[
                "2020-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999Z",
                "not a time",
                "",
            ][..],
        )),
    )
        .prop_map(|(big, failures, opted_in_at)| {
            let state = TelemetryState {
                opted_in_at: opted_in_at.map(str::to_owned),
                consecutive_failures: failures,
                delivered: big,
                dropped_queue_full: u64::MAX - big % 4,
                dropped_unreadable: u64::MAX,
                ..TelemetryState::default()
            };
            serde_json::to_vec_pretty(&state).unwrap()
        });
    prop_oneof![
        1 => Just(None),
        2 => valid.clone().prop_map(Some),
        3 => fuzzing::mutated(valid, JSON_TOKENS, 4).prop_map(Some),
        1 => fuzzing::bytes(200).prop_map(Some),
    ]
}

/// Id files: a UUID in its several spellings, damaged ones, garbage.
fn identity_input() -> impl Strategy<Value = Option<Vec<u8>>> {
    let id = "0f0e0d0c-0b0a-4908-8706-050403020100";
    let spellings = proptest::sample::select(vec![
        format!("{id}\n"),
        id.to_owned(),
        format!("  {id}\r\n\n"),
        id.to_uppercase(),
        id.replace('-', ""),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        "00000000-0000-0000-0000-000000000000".to_owned(),
        format!("{id}{id}"),
        format!("{id}\n{}", " ".repeat(200)),
        // The id the generated events carry: they are then waiting, not under a deleted id.
        format!("{}\n", Uuid::from_u128(ANONYMOUS_ID)),
    ])
    .prop_map(String::into_bytes);
    prop_oneof![
        1 => Just(None),
        2 => spellings.clone().prop_map(Some),
        2 => fuzzing::mutated(spellings, JSON_TOKENS, 3).prop_map(Some),
        1 => fuzzing::bytes(160).prop_map(Some),
    ]
}

/// What `state::read` makes of `bytes`: the state, or the default for anything unreadable.
fn expected_state(bytes: &Option<Vec<u8>>) -> TelemetryState {
    bytes
        .as_ref()
        .filter(|bytes| bytes.len() <= 64 * 1024)
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or_default()
}

/// What `identity::read` makes of `bytes`: the id, if the file holds one.
fn expected_id(bytes: &Option<Vec<u8>>) -> Option<Uuid> {
    let bytes = bytes.as_ref().filter(|bytes| bytes.len() <= 128)?;
    Uuid::try_parse(std::str::from_utf8(bytes).ok()?.trim()).ok()
}

/// Everything a case writes into `$ARCHON_HOME`.
#[derive(Debug, Clone)]
struct Files {
    queue: FileInput,
    recent: FileInput,
    state: Option<Vec<u8>>,
    identity: Option<Vec<u8>>,
}

fn files() -> impl Strategy<Value = Files> {
    let queue_template = queue_line(&wire_event(GARBAGE, false));
    let recent_template = recent_line(Recorded::Queued, &wire_event(GARBAGE, true));
    (
        file_input(queue_template),
        file_input(recent_template),
        state_input(),
        identity_input(),
    )
        .prop_map(|(queue, recent, state, identity)| Files {
            queue,
            recent,
            state,
            identity,
        })
}

proptest! {
    #![proptest_config(fuzzing::config(256, "proptest-regressions/fuzz_queue.txt"))]

    /// Whatever telemetry's files hold: the readers report exactly that, keep every valid
    /// line, count the rest, and recording afterwards still works.
    #[test]
    fn damaged_files_are_read_exactly_and_recording_goes_on(
        files in files(),
        recorded in proptest::sample::select(vec![
            Recorded::Queued,
            Recorded::LocalOnly,
            Recorded::Sent,
            Recorded::Dropped,
        ]),
    ) {
        let home = Home::new();
        let store = home.store();
        let dir = store.dir();
        let queue_path = dir.join("queue.jsonl");
        let recent_path = dir.join("recent.jsonl");
        let state_path = dir.join("state.json");

        let (queue_bytes, valid_queued) = render(&files.queue, VALID, queue_line);
        let (recent_bytes, valid_recent) =
            render(&files.recent, VALID + 100, |event| recent_line(recorded, event));
        write(&queue_path, &queue_bytes);
        write(&recent_path, &recent_bytes);
        write(&state_path, &files.state);
        write(&store.identity_path(), &files.identity);
        std::fs::create_dir_all(&dir).unwrap();

        // The queue: exactly the lines that are wire objects, in order; the rest counted.
        let queue_lines = queue_bytes.as_deref().map(lines).unwrap_or_default();
        let expected: Vec<WireEvent> = queue_lines
            .iter()
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect();
        let contents = queue::read(&store).unwrap();
        prop_assert_eq!(&contents.events, &expected);
        prop_assert_eq!(
            contents.unreadable_lines as usize + contents.events.len(),
            queue_lines.len()
        );
        if let Some(valid) = &valid_queued {
            prop_assert!(
                in_order(&contents.events, valid),
                "a valid line was lost: {}",
                Shown(queue_bytes.as_deref().unwrap_or_default())
            );
        }

        // The recent events as the test reads what it wrote: the model `inspect` is held to
        // below. It must keep every line the generator made valid, or the model, not archon,
        // would be wrong (this checks the test, not the library).
        let entries: Vec<RecentEntry> = recent_bytes
            .as_deref()
            .map(lines)
            .unwrap_or_default()
            .iter()
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect();
        if let Some(valid) = &valid_recent {
            let events: Vec<WireEvent> = entries.iter().map(|entry| entry.event.clone()).collect();
            prop_assert!(in_order(&events, valid), "the model lost a valid line");
        }
        // `inspect`: the last ten of the events kept there, then those waiting in the queue
        // (an event in both is waiting), each with what became of it. A queued event under an
        // id other than the one in the id file will be discarded, not sent.
        let id_before = expected_id(&files.identity);
        let under = |id: Option<Uuid>| {
            move |event: &WireEvent| {
                event.distinct_id.is_none() || event.distinct_id == id.map(|id| id.to_string())
            }
        };
        let waiting: HashSet<Uuid> = expected.iter().map(|event| event.uuid).collect();
        let model: Vec<(RecentEntry, DeliveryStatus)> = entries
            .iter()
            .filter(|entry| !waiting.contains(&entry.event.uuid))
            .map(|entry| {
                let status = match (entry.recorded, entry.event.distinct_id.is_some()) {
                    (Recorded::LocalOnly, false) => DeliveryStatus::WithoutId,
                    (Recorded::LocalOnly, true) => DeliveryStatus::KeptLocal,
                    (Recorded::Queued, _) => DeliveryStatus::LeftQueue,
                    (Recorded::Sent, _) => DeliveryStatus::Sent,
                    (Recorded::Dropped, _) => DeliveryStatus::Dropped,
                };
                (entry.clone(), status)
            })
            .chain(expected.iter().map(|event| {
                let entry = RecentEntry { recorded: Recorded::Queued, event: event.clone() };
                let status = if under(id_before)(event) {
                    DeliveryStatus::Waiting
                } else {
                    DeliveryStatus::UnderDeletedId
                };
                (entry, status)
            }))
            .collect();
        let last_ten = &model[model.len().saturating_sub(10)..];
        let shown = control::inspect(&home.env_on(), 100).unwrap();
        prop_assert_eq!(&shown[..], last_ten);

        // Status: the queue's length, the last event, the state, the id.
        let status = control::status(&home.env_on());
        let waiting_under = |id: Option<Uuid>, more: usize| {
            let to_send = expected.iter().filter(|event| under(id)(event)).count();
            Ok(Waiting { to_send: to_send + more, under_deleted_id: expected.len() - to_send })
        };
        prop_assert_eq!(status.waiting.clone(), waiting_under(id_before, 0));
        prop_assert_eq!(
            status.last_event.clone(),
            model.last().map(|(entry, _)| (entry.event.event.clone(), entry.event.timestamp.clone()))
        );
        prop_assert_eq!(&status.state, &expected_state(&files.state));
        prop_assert_eq!(state::read(&store), expected_state(&files.state));
        prop_assert_eq!(status.identity.map(|identity| identity.id), id_before);

        // Recording still works: one more event queued, nothing else changed; the id kept if
        // the file held one, else a new one; `inspect` shows the new event waiting.
        let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
        prop_assert!(telemetry.is_sending());
        telemetry.record(&invoked());
        telemetry.flush();
        let after = queue::read(&store).unwrap();
        prop_assert_eq!(after.events.len(), expected.len() + 1, "queue: {}", Shown(&std::fs::read(&queue_path).unwrap()));
        prop_assert_eq!(&after.events[..expected.len()], &expected[..]);
        prop_assert_eq!(after.unreadable_lines, contents.unreadable_lines);
        let new = after.events.last().unwrap();
        prop_assert!(!waiting.contains(&new.uuid));
        let id = identity::read(&store).map(|identity| identity.id);
        prop_assert!(id.is_some());
        if let Some(kept) = id_before {
            prop_assert_eq!(id, Some(kept));
            prop_assert_eq!(std::fs::read(store.identity_path()).ok(), files.identity.clone());
        } else {
            prop_assert_eq!(id.unwrap().get_version_num(), 4);
        }
        prop_assert_eq!(new.distinct_id.clone(), id.map(|id| id.to_string()));

        let shown = control::inspect(&home.env_on(), 10).unwrap();
        let Some((entry, status)) = shown.last() else {
            return Err(TestCaseError::fail("inspect shows nothing after an event was recorded"));
        };
        prop_assert_eq!(&entry.event, new);
        prop_assert_eq!(*status, DeliveryStatus::Waiting);
        prop_assert_eq!(control::status(&home.env_on()).waiting, waiting_under(id, 1));
    }
}

proptest! {
    #![proptest_config(fuzzing::config(32, "proptest-regressions/fuzz_queue_delivery.txt"))]

    /// Delivery reads the queue too (and removes what it sent with a reader of its own): every
    /// valid queued event reaches the server, whatever garbage lines and counters surround it,
    /// and the queue is left without events.
    #[test]
    fn delivery_sends_every_valid_event_among_garbage(
        queue in generated_file(queue_line(&wire_event(GARBAGE, false))),
        big in any::<u64>(),
    ) {
        let queue = GeneratedFile { damage: Vec::new(), ..queue };
        let home = Home::new();
        let store = home.store();
        let (bytes, valid) = render(&FileInput::Lines(queue), VALID, queue_line);
        let valid = valid.unwrap();
        write(&store.dir().join("queue.jsonl"), &bytes);
        let counters = TelemetryState {
            delivered: u64::MAX - big % 1000,
            dropped_rejected: u64::MAX,
            dropped_before_opt_in: u64::MAX,
            dropped_unreadable: u64::MAX - big % 3,
            dropped_queue_full: u64::MAX,
            consecutive_failures: u32::MAX,
            ..TelemetryState::default()
        };
        write(&store.dir().join("state.json"), &Some(serde_json::to_vec(&counters).unwrap()));
        own_the_events(&store);

        let server = CaptureServer::start();
        let report = deliver(&store, &home.env_on(), &fast_config(server.url()));
        prop_assert_eq!(report.gave_up.clone(), None);
        let received: HashSet<String> = server
            .accepted_events()
            .iter()
            .filter_map(|event| event["uuid"].as_str().map(str::to_owned))
            .collect();
        for uuid in &valid {
            prop_assert!(received.contains(&uuid.to_string()), "{} not delivered: {:?}", uuid, report);
        }
        prop_assert!(queue::read(&store).unwrap().events.is_empty());
        let _ = control::status(&home.env_on());
    }
}

// Regressions: what fuzzing found, kept as plain tests (the seeds are also in
// `proptest-regressions/`, but a seed only replays while the generators stay the same).

/// Counters in state.json at their limit: adding to them saturates (it overflowed, which
/// panics in a debug build and wraps around to small numbers in a release build), both in
/// delivery and when a full queue is compacted.
#[test]
fn counters_at_their_limit_saturate() {
    let full = TelemetryState {
        delivered: u64::MAX,
        dropped_rejected: u64::MAX,
        dropped_before_opt_in: u64::MAX,
        dropped_unreadable: u64::MAX,
        dropped_queue_full: u64::MAX,
        consecutive_failures: u32::MAX,
        ..TelemetryState::default()
    };
    let state_json = Some(serde_json::to_vec(&full).unwrap());

    // Delivery, with an unreadable line for `queue::remove` to count.
    let home = Home::new();
    let store = home.store();
    let line = queue_line(&wire_event(VALID, false));
    write(
        &store.dir().join("queue.jsonl"),
        &Some([&b"{\n"[..], &line, b"\n"].concat()),
    );
    write(&store.dir().join("state.json"), &state_json);
    own_the_events(&store);
    let server = CaptureServer::start();
    let report = deliver(&store, &home.env_on(), &fast_config(server.url()));
    assert_eq!(report.delivered, 1);
    let after = state::read(&store);
    assert_eq!(
        (after.delivered, after.dropped_unreadable),
        (u64::MAX, u64::MAX)
    );

    // Compaction: a queue past its cap, with an unreadable line.
    let home = Home::new();
    let store = home.store();
    let mut queue = vec![b'x'; queue::MAX_QUEUE_BYTES as usize];
    queue.push(b'\n');
    write(&store.dir().join("queue.jsonl"), &Some(queue));
    write(&store.dir().join("state.json"), &state_json);
    Telemetry::start_with_key(home.env_on(), Some(TEST_KEY)).record(&invoked());
    assert_eq!(queue::read(&store).unwrap().events.len(), 1);
    assert_eq!(state::read(&store), full);
}
