//! Telemetry's own files: the input is split at the first three `\0\0` into queue.jsonl,
//! recent.jsonl, state.json and telemetry-id. Reading them never panics, the queue keeps every
//! line that is a wire object, and recording afterwards adds exactly one event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use telemetry_runtime::wire::WireEvent;
use telemetry_runtime::{control, queue, store::Store, Environment, Telemetry};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0).map(<[u8]>::to_vec);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    std::fs::create_dir_all(store.dir()).unwrap();
    for name in ["queue.jsonl", "recent.jsonl", "state.json"] {
        if let Some(part) = parts.next() {
            std::fs::write(store.dir().join(name), part).unwrap();
        }
    }
    if let Some(part) = parts.next() {
        std::fs::write(store.identity_path(), part).unwrap();
    }
    let env = Environment {
        archon_home: Some(dir.path().into()),
        archon_telemetry: Some("1".into()),
        ..Environment::default()
    };

    let before = queue::read(&store).unwrap();
    let bytes = std::fs::read(store.dir().join("queue.jsonl")).unwrap_or_default();
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let valid = lines
        .iter()
        .filter(|line| serde_json::from_slice::<WireEvent>(line).is_ok())
        .count();
    assert_eq!(before.events.len(), valid);
    assert_eq!(before.unreadable_lines as usize, lines.len() - valid);
    let _ = control::status(&env);
    let _ = control::inspect(&env, 10);

    let telemetry = Telemetry::start_with_key(env.clone(), Some("phc_fuzz"));
    telemetry.record(&telemetry_schema::BinaryStartup);
    telemetry.flush();
    let after = queue::read(&store).unwrap();
    assert_eq!(after.events.len(), before.events.len() + 1);
    assert_eq!(after.events[..before.events.len()], before.events[..]);
});
