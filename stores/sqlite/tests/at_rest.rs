#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! At-rest guarantees on SQLite: moved ciphertext, wrong key, truncated row and a shredded
//! subject read from a copy of the database taken before erasure — each a typed error.

use std::sync::Arc;

use crm_privacy::crypto::{CryptoError, Kek, Keyring};
use crm_privacy::custodian::{Custodian, CustodianError};
use crm_privacy::store::{RecordStore, StoreError};
use crm_privacy::*;
use crm_privacy_sqlite::SqliteStore;

fn keyring(kek: u8) -> Keyring {
    Keyring::new(
        Kek::from_bytes(1, &crm_privacy::crypto::test_secret(kek)).unwrap(),
        &crm_privacy::crypto::test_secret(3),
    )
    .unwrap()
}

/// One deployment's token key: grants survive a reopen of the store, as they would a
/// restart of the process.
fn token_key() -> TokenKey {
    TokenKey::from_secret(1, &crm_privacy::crypto::test_secret(104)).unwrap()
}

async fn open(path: &std::path::Path, kek: u8) -> (Custodian, Arc<SqliteStore>) {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    (
        Custodian::builder(keyring(kek))
            .store(store.clone())
            .token_key(token_key())
            .build()
            .await
            .unwrap(),
        store,
    )
}

#[tokio::test]
async fn moved_ciphertext_and_truncated_rows_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (c, store) = open(&dir.path().join("crm.db"), 1).await;
    let alice = c.register_subject().await.unwrap();
    let a = c
        .store(alice, Email::parse("a@example.com").unwrap())
        .await
        .unwrap();
    let b = c
        .store(alice, Email::parse("b@example.com").unwrap())
        .await
        .unwrap();
    let g = c.grant::<Notification>(alice, "mailer").await.unwrap();
    // Move a's ciphertext into b's row.
    let mut row_b = store.get(b).await.unwrap();
    row_b.ciphertext = store.get(a).await.unwrap().ciphertext;
    store.put(row_b.clone()).await.unwrap();
    let r = c.with::<Email, _, _>(&g, b, |_| ()).await;
    assert!(
        matches!(r, Err(CustodianError::Crypto(CryptoError::Authentication))),
        "{r:?}"
    );
    // Truncate it.
    row_b.ciphertext.truncate(10);
    store.put(row_b.clone()).await.unwrap();
    let r = c.with::<Email, _, _>(&g, b, |_| ()).await;
    assert!(
        matches!(
            r,
            Err(CustodianError::Crypto(
                CryptoError::Truncated | CryptoError::Authentication
            ))
        ),
        "{r:?}"
    );
    // A corrupt row (a 3-byte record id) is a typed store error, never a panic.
    drop(c);
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("crm.db")).unwrap();
    conn.execute(
        "UPDATE records SET subject = x'0102' WHERE id = ?1",
        [a.to_bytes().as_slice()],
    )
    .unwrap();
    drop(conn);
    let (c, _store) = open(&dir.path().join("crm.db"), 1).await;
    let r = c.with::<Email, _, _>(&g, a, |_| ()).await;
    assert!(
        matches!(r, Err(CustodianError::Store(StoreError::Corrupt { .. }))),
        "{r:?}"
    );
}

#[tokio::test]
async fn wrong_kek_is_refused_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let (c, store) = open(&path, 1).await;
    let alice = c.register_subject().await.unwrap();
    c.store(alice, Phone::parse("+14155550100").unwrap())
        .await
        .unwrap();
    drop(c);
    drop(store);
    // The key check value stored at the first build refuses another KEK before any read
    // (and before a new subject could be registered under the wrong key).
    let r = Custodian::builder(keyring(9))
        .store(Arc::new(SqliteStore::open(&path).unwrap()))
        .token_key(token_key())
        .build()
        .await;
    assert!(
        matches!(r, Err(CustodianError::Crypto(CryptoError::WrongKek { .. }))),
        "{:?}",
        r.err()
    );
}

#[tokio::test]
async fn copy_of_the_database_taken_before_erasure_stays_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.db");
    let (c, store) = open(&path, 1).await;
    let alice = c.register_subject().await.unwrap();
    let rec = c
        .store(alice, Email::parse("alice.backup@example.com").unwrap())
        .await
        .unwrap();
    use crm_privacy::store::KeyStore;
    let wrapped = KeyStore::get(&*store, alice).await.unwrap();
    store.checkpoint().unwrap();
    let backup = dir.path().join("backup.db");
    std::fs::copy(&path, &backup).unwrap();
    c.erase(alice).await.unwrap();
    drop(c);
    drop(store);
    // Restore the old data file next to the live key file.
    let keys = dir.path().join("crm.db.keys");
    let restored = Arc::new(SqliteStore::open_with_key_file(&backup, &keys).unwrap());
    // The restored data file is behind what the live key file witnessed: the custodian
    // refuses to start on it (cross-anchoring), rather than serve a ledger that predates
    // the erasure.
    let r = Custodian::builder(keyring(1))
        .store(restored.clone())
        .token_key(token_key())
        .build()
        .await;
    assert!(
        matches!(r, Err(CustodianError::Store(StoreError::RolledBack { .. }))),
        "{:?}",
        r.err()
    );
    // And underneath, the subject's key is destroyed: nothing can open the old ciphertext.
    assert!(matches!(
        KeyStore::get(&*restored, alice).await,
        Err(StoreError::Shredded(_))
    ));
    let _ = rec;
    // The key file (and its WAL, if any) holds no trace of the wrapped key.
    let needle = wrapped.as_bytes();
    assert!(needle.len() > 40);
    for f in [keys.clone(), dir.path().join("crm.db.keys-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "wrapped key still in {}",
                f.display()
            );
        }
    }
}
