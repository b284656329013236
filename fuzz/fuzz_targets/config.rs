//! config.yaml: reading never panics; an edit either succeeds and reads back, or leaves the
//! file byte for byte as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use telemetry_runtime::config::{self, ConfigValue};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, data).unwrap();
    let settings = config::read_settings(&path);
    let _ = config::read_word(&path, "assistant", "default");
    let result = config::set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true));
    let after = std::fs::read(&path).unwrap();
    match result {
        Err(_) => assert_eq!(after, data, "a refused edit changed the file"),
        Ok(()) => {
            assert!(settings.is_ok(), "edited a file the reader refuses");
            assert_eq!(config::read_settings(&path).unwrap().enabled, Some(true));
        }
    }
});
