//! The demo deployment's key file: the KEK and the blind-index secret, made from the system
//! random source at first start and written with mode 0600 beside the database, so the
//! demo keeps its data across restarts (and the browser test can reopen the store with the
//! SDK afterwards). A real host keeps these in its secret manager or a KMS
//! (`docs/keys.md`); never a constant: `Kek::from_bytes` refuses low-entropy bytes.

use std::io::Write as _;
use std::path::Path;

use crm_privacy::crypto::{Kek, Keyring};
use crm_privacy::zeroize::Zeroizing;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The key file's name inside the data directory.
pub(crate) const KEY_FILE: &str = "privacy-center.keys";

/// Opens the keyring of the key file in `dir`, creating the file (0600) at first start.
pub(crate) fn load_or_create(dir: &Path) -> Result<Keyring, Error> {
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        create(&path)?;
    }
    load(&path)
}

/// Reads the keyring of an existing key file; refuses one others can read.
pub(crate) fn load(path: &Path) -> Result<Keyring, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err("the key file is readable by group or others: chmod 600 it".into());
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    let mut kek = None;
    let mut index = None;
    for line in text.lines() {
        let (name, hex) = line.split_once('=').ok_or("malformed key file")?;
        let bytes = Zeroizing::new(
            data_encoding::HEXLOWER
                .decode(hex.trim().as_bytes())
                .map_err(|_| "malformed key file")?,
        );
        match name.trim() {
            "kek" => kek = Some(bytes),
            "index" => index = Some(bytes),
            _ => return Err("malformed key file".into()),
        }
    }
    let (Some(kek), Some(index)) = (kek, index) else {
        return Err("the key file lacks a key".into());
    };
    Ok(Keyring::new(Kek::from_bytes(1, &kek)?, &index)?)
}

fn create(path: &Path) -> Result<(), Error> {
    let rng = ring::rand::SystemRandom::new();
    let mut kek = Zeroizing::new([0_u8; 32]);
    let mut index = Zeroizing::new([0_u8; 32]);
    ring::rand::SecureRandom::fill(&rng, &mut kek[..]).map_err(|_| "random source failed")?;
    ring::rand::SecureRandom::fill(&rng, &mut index[..]).map_err(|_| "random source failed")?;
    let text = Zeroizing::new(format!(
        "kek={}\nindex={}\n",
        data_encoding::HEXLOWER.encode(&kek[..]),
        data_encoding::HEXLOWER.encode(&index[..])
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
