//! Input generators for the fuzz tests (`tests/fuzz_*.rs` here and in `archon-workflows`, which
//! includes this file by path): arbitrary bytes, arbitrary text, and valid inputs mutated the
//! way files really get damaged or crafted (cut short, lines doubled or dropped, bytes flipped,
//! tokens of the format inserted, nesting, huge numbers, control characters, invalid UTF-8).
//!
//! Also the proptest configuration they share: bounded cases, each in a child process with a
//! time limit, so that a hang or a crash (a stack overflow aborts the process) is a reported,
//! shrunk and persisted failure instead of a stuck or dead test run.

#![allow(dead_code)] // each fuzz file uses a different part

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence};

/// A case taking longer than this is a failure (it is a hang: real cases take milliseconds).
/// Generous, for debug builds on a busy machine.
pub const CASE_TIMEOUT_MS: u32 = 20_000;

/// The configuration of a fuzz property: `default_cases` cases unless `PROPTEST_CASES` says
/// otherwise, each case run in a forked child with [`CASE_TIMEOUT_MS`], failures persisted in
/// `proptest-regressions/<file>.txt` of the crate (committed: they are replayed first on every
/// run).
pub fn config(default_cases: u32, regressions: &'static str) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        fork: true,
        timeout: CASE_TIMEOUT_MS,
        // Shrinking a hang costs a timeout per step: keep it bounded.
        max_shrink_time: 120_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

/// Byte sequences that break parsers of text: invalid UTF-8 (a lone continuation byte, a
/// truncated sequence, an encoded surrogate, an overlong form), NUL and other control
/// characters, the byte order mark, Unicode line separators, a terminal escape.
pub const HOSTILE_BYTES: &[&[u8]] = &[
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xff\xfe",
    b"\x00",
    b"\x01",
    b"\x07",
    b"\x0b",
    b"\x0c",
    b"\x1b[31m",
    b"\x7f",
    b"\r",
    b"\r\n",
    b"\t",
    "\u{feff}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{2029}".as_bytes(),
    "\u{202e}".as_bytes(),
    "\u{fffd}".as_bytes(),
    "\u{10ffff}".as_bytes(),
    "é".as_bytes(),
    "😀".as_bytes(),
    b"99999999999999999999999999999999999999999999",
    b"-9223372036854775809",
    b"18446744073709551616",
    b"1e999999",
    b"-0.0",
    b"0x7fffffffffffffff",
];

/// Openers that nest when repeated (`[[[[`, `- - - -`, `{"a":{"a":`), for deep-nesting inputs.
pub const NESTING: &[&str] = &["[", "{", "- ", "{a: ", "[{\"a\":", "{\"a\":", "&a [", "? "];

/// One change to an input.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Cut the input short here (a write interrupted, a disk full).
    Truncate(Index),
    /// Remove up to `n` bytes here.
    Delete(Index, usize),
    /// Insert these bytes here.
    Insert(Index, Vec<u8>),
    /// Replace the byte here with itself XOR this mask.
    Flip(Index, u8),
    /// Copy up to `n` bytes from here right after themselves.
    DuplicateSpan(Index, usize),
    /// Repeat up to `n` bytes from here `times` more times (nesting, huge values).
    Repeat(Index, usize, u16),
    /// Write the line here twice (a duplicated key, a duplicated event).
    DuplicateLine(Index),
    /// Remove the line here.
    DeleteLine(Index),
    /// Exchange two lines.
    SwapLines(Index, Index),
    /// Give the line here this indentation (spaces, or a tab when 0).
    Reindent(Index, usize),
}

/// Something to insert: a token of the format (`dictionary`), a hostile byte sequence, or a
/// few arbitrary bytes.
pub fn insertion(dictionary: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::sample::select(dictionary).prop_map(<[u8]>::to_vec),
        2 => proptest::sample::select(HOSTILE_BYTES).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 1..8),
        1 => (proptest::sample::select(NESTING), 1..20_000usize)
            .prop_map(|(opener, depth)| opener.repeat(depth).into_bytes()),
    ]
}

/// One edit, inserting tokens of `dictionary`.
pub fn edit(dictionary: &'static [&'static [u8]]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), 1..16usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        3 => (any::<Index>(), insertion(dictionary)).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        1 => (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Edit::Flip(at, mask)),
        1 => (any::<Index>(), 1..64usize).prop_map(|(at, n)| Edit::DuplicateSpan(at, n)),
        1 => (any::<Index>(), 1..8usize, 1..400u16).prop_map(|(at, n, times)| Edit::Repeat(at, n, times)),
        1 => any::<Index>().prop_map(Edit::DuplicateLine),
        1 => any::<Index>().prop_map(Edit::DeleteLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        1 => (any::<Index>(), 0..12usize).prop_map(|(at, n)| Edit::Reindent(at, n)),
    ]
}

/// `input` with `edits` applied in order.
pub fn apply(mut input: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        apply_one(&mut input, edit);
    }
    input
}

/// A position in `0..=len`.
fn position(at: &Index, len: usize) -> usize {
    at.index(len + 1)
}

/// The byte ranges of the lines of `input`, each with its newline.
fn lines(input: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, byte) in input.iter().enumerate() {
        if *byte == b'\n' {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < input.len() {
        ranges.push(start..input.len());
    }
    ranges
}

fn apply_one(input: &mut Vec<u8>, edit: &Edit) {
    let len = input.len();
    match edit {
        Edit::Truncate(at) => input.truncate(position(at, len)),
        Edit::Delete(at, n) => {
            let start = position(at, len);
            input.drain(start..(start + n).min(len));
        }
        Edit::Insert(at, bytes) => {
            let start = position(at, len);
            input.splice(start..start, bytes.iter().copied());
        }
        Edit::Flip(at, mask) if len > 0 => input[at.index(len)] ^= mask,
        Edit::DuplicateSpan(at, n) | Edit::Repeat(at, n, _) if len > 0 => {
            let start = at.index(len);
            let span = input[start..(start + n).min(len)].to_vec();
            let times = match edit {
                Edit::Repeat(_, _, times) => usize::from(*times),
                _ => 1,
            };
            let end = start + span.len();
            input.splice(
                end..end,
                span.iter().copied().cycle().take(span.len() * times),
            );
        }
        Edit::DuplicateLine(at) | Edit::DeleteLine(at) | Edit::Reindent(at, _) => {
            let lines = lines(input);
            if lines.is_empty() {
                return;
            }
            let line = lines[at.index(lines.len())].clone();
            match edit {
                Edit::DuplicateLine(_) => {
                    let mut copy = input[line.clone()].to_vec();
                    if copy.last() != Some(&b'\n') {
                        copy.insert(0, b'\n');
                    }
                    input.splice(line.end..line.end, copy);
                }
                Edit::DeleteLine(_) => {
                    input.drain(line);
                }
                Edit::Reindent(_, n) => {
                    let text = &input[line.clone()];
                    let indent = text.iter().take_while(|b| **b == b' ' || **b == b'\t');
                    let old = indent.count();
                    let new = if *n == 0 { vec![b'\t'] } else { vec![b' '; *n] };
                    input.splice(line.start..line.start + old, new);
                }
                _ => unreachable!(),
            }
        }
        Edit::SwapLines(a, b) => {
            let lines = lines(input);
            if lines.len() < 2 {
                return;
            }
            let (mut a, mut b) = (a.index(lines.len()), b.index(lines.len()));
            if a == b {
                return;
            }
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            let mut output = Vec::with_capacity(len);
            for (i, line) in lines.iter().enumerate() {
                let which = match i {
                    i if i == a => &lines[b],
                    i if i == b => &lines[a],
                    _ => line,
                };
                let mut text = input[which.clone()].to_vec();
                if text.last() != Some(&b'\n') && i + 1 < lines.len() {
                    text.push(b'\n');
                }
                output.extend_from_slice(&text);
            }
            *input = output;
        }
        _ => {}
    }
}

/// `seeds` with 1 to `max_edits` edits that insert tokens of `dictionary`.
pub fn mutated(
    seeds: impl Strategy<Value = Vec<u8>>,
    dictionary: &'static [&'static [u8]],
    max_edits: usize,
) -> impl Strategy<Value = Vec<u8>> {
    (
        seeds,
        proptest::collection::vec(edit(dictionary), 1..=max_edits),
    )
        .prop_map(|(seed, edits)| apply(seed, &edits))
}

/// Arbitrary bytes, up to `max` of them.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max)
}

/// Arbitrary text (any `char`, control characters included), up to `max` characters.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// Arbitrary text as bytes.
pub fn text_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    text(max).prop_map(String::into_bytes)
}

/// Shows bytes in test failures as text where they are text.
pub struct Shown<'a>(pub &'a [u8]);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.0))
    }
}
