#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Canary test: run the quickstart (the README's main job) on a SQLite file and look for its
//! plaintext values in everything it printed and in every file it wrote — the database,
//! its WAL, the key file — while the store is still open, and again after it closed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const CANARIES: &[&str] = &[
    "alice.quickstart@example.com",
    "Alice Quickstart",
    "Alice Q. Start",
    "+41446681800",
    "zoom-token-qs-8e2f",
    "zoom-user-42",
    "google-1093",
    "Bob Contact",
    "bob.quickstart@example.com",
    "Pixel 9",
    "203.0.113.9",
];

fn scan(what: &str, bytes: &[u8]) {
    for c in CANARIES {
        let needle = c.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{what} contains the plaintext {c:?}"
        );
    }
}

fn scan_dir(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        scan(&p.display().to_string(), &std::fs::read(&p).unwrap());
        n += 1;
    }
    n
}

#[test]
fn quickstart_leaves_no_plaintext_on_disk_or_in_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.db");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args([
            "run",
            "-q",
            "--example",
            "quickstart",
            "--",
            "--hold",
            "--db",
        ])
        .arg(&db)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        out.push_str(&line);
        if line.starts_with("holding the store open") {
            // The store is open: the WAL files exist and hold the latest pages.
            let files = scan_dir(dir.path());
            assert!(
                files >= 3,
                "expected the database, its WAL and the key file, found {files}"
            );
            child.stdin.take().unwrap().write_all(b"\n").unwrap();
        }
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "quickstart failed: {err}");
    assert!(
        out.contains("both chains verify"),
        "quickstart did not finish: {out}"
    );
    assert!(out.contains("after disconnecting zoom"));
    scan("quickstart output", out.as_bytes());
    scan("quickstart stderr", err.as_bytes());
    scan_dir(dir.path());
}
