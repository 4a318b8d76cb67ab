//! Full verification of both hash chains, and the audit log's checkpoint, export and
//! pruning (issue 18), as a small command-line tool over a SQLite store.
//!
//! `Custodian::build` verifies the audit chain only from its last checkpoint; this tool runs
//! the explicit full check (`verify_chains`: every retained entry, every link, every event
//! decodes, the checkpoint's tag and head), optionally exports the segment that ends at the
//! checkpoint as JSON lines with its proof, and optionally prunes entries before the
//! checkpoint that are older than the host's retention for audit evidence.
//!
//! Run: `cargo run --example verify_chains` (a demo on a temporary database), or
//! `CRM_KEK_HEX=<64 hex> CRM_INDEX_HEX=<64 hex> cargo run --example verify_chains --
//! --db crm.db [--export segment.jsonl] [--prune-days N]` on a real store (KEK id 1). Exits
//! non-zero with the typed error if any check fails.
#![allow(clippy::print_stdout, reason = "a command-line tool prints its report")]

use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeDelta;
use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::custodian::Custodian;
use crm_privacy::{Email, Notification};
use crm_privacy_sqlite::SqliteStore;

fn secret(var: &str, demo: u8) -> Result<[u8; 32], Box<dyn std::error::Error>> {
    match std::env::var(var) {
        Ok(hex) => {
            let bytes = data_encoding::HEXLOWER_PERMISSIVE.decode(hex.trim().as_bytes())?;
            Ok(<[u8; 32]>::try_from(bytes.as_slice())?)
        }
        Err(_) => Ok([demo; 32]),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut db, mut export, mut prune_days) = (None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--export" => export = args.next().map(PathBuf::from),
            "--prune-days" => prune_days = args.next().map(|d| d.parse::<i64>()).transpose()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let tmp = tempfile::tempdir()?;
    let demo = db.is_none();
    let path = db.unwrap_or_else(|| tmp.path().join("demo.db"));
    let keyring = || -> Result<Keyring, Box<dyn std::error::Error>> {
        Ok(Keyring::new(
            Kek::from_bytes(1, &secret("CRM_KEK_HEX", 1)?)?,
            &secret("CRM_INDEX_HEX", 2)?,
        )?)
    };
    let open = || SqliteStore::open(&path).map(Arc::new);
    if demo {
        // A few audited reads, then a second build, which leaves a checkpoint at the head.
        let c = Custodian::builder(keyring()?)
            .store(open()?)
            .build()
            .await?;
        let s = c.register_subject().await?;
        let r = c.store(s, Email::parse("demo@example.com")?).await?;
        let g = c.grant::<Notification>(s, "mailer").await?;
        for _ in 0..5 {
            c.with::<Email, _, _>(&g, r, |_| ()).await?;
        }
        prune_days.get_or_insert(0);
        export.get_or_insert_with(|| tmp.path().join("segment.jsonl"));
    }
    // Build: verifies the audit chain from the last checkpoint, takes a new one.
    let c = Custodian::builder(keyring()?)
        .store(open()?)
        .build()
        .await?;
    let report = c.verify_chains().await?;
    println!(
        "verified: {} ledger entries, {} audit entries (full check)",
        report.ledger_entries, report.audit_entries
    );
    if let Some(file) = export {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let seg = c.export_audit_segment(&mut out).await?;
        println!(
            "exported audit entries {}..={} with checkpoint {} to {}",
            seg.first,
            seg.checkpoint.seq,
            seg.checkpoint.seq,
            file.display()
        );
    }
    if let Some(days) = prune_days {
        let n = c.prune_audit(TimeDelta::days(days)).await?;
        println!("pruned {n} audit entries older than {days} days before the checkpoint");
        let report = c.verify_chains().await?;
        println!(
            "verified again: {} audit entries retained",
            report.audit_entries
        );
    }
    Ok(())
}
