//! The byte encoding of field values before they are sealed (see `crypto`).
//!
//! Length-prefixed, versionless (the cipher's associated data carries the kind), written into
//! zeroizing buffers so no plaintext copy outlives its use. Decoding re-validates, so a
//! truncated or corrupted plaintext can never build a value that breaks its type's invariant.

use zeroize::Zeroizing;

use super::{DataError, DataReason};

/// Writes length-prefixed fields into a zeroizing buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Zeroizing<Vec<u8>>,
}

impl Writer {
    /// An empty writer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one byte string with a 4-byte big-endian length prefix.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.reserve(4 + b.len());
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(b);
        self
    }

    /// Appends a string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends an optional string (presence byte first).
    pub fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s)
            }
            None => self.u8(0),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.reserve(1);
        self.buf.push(v);
        self
    }

    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.reserve(4);
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// The encoded bytes.
    #[must_use]
    pub fn finish(self) -> Zeroizing<Vec<u8>> {
        self.buf
    }

    // Grows by copying into a fresh zeroizing buffer so a reallocation never leaves a
    // plaintext copy behind in freed memory.
    fn reserve(&mut self, extra: usize) {
        let needed = self.buf.len().saturating_add(extra);
        if needed > self.buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(64).saturating_mul(2)));
            bigger.extend_from_slice(&self.buf);
            self.buf = bigger;
        }
    }
}

/// Reads what [`Writer`] wrote; every short read is a typed error.
#[derive(Debug)]
pub struct Reader<'a> {
    kind: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `bytes`, reporting errors for data kind `kind`.
    #[must_use]
    pub fn new(kind: &'static str, bytes: &'a [u8]) -> Self {
        Self { kind, rest: bytes }
    }

    fn err(&self) -> DataError {
        DataError::new(self.kind, DataReason::Corrupt)
    }

    /// Reads one length-prefixed byte string.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] if the input is truncated.
    pub fn bytes(&mut self) -> Result<&'a [u8], DataError> {
        let len = self.u32()? as usize;
        let (head, tail) = self.rest.split_at_checked(len).ok_or_else(|| self.err())?;
        self.rest = tail;
        Ok(head)
    }

    /// Reads one string.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] if truncated or not UTF-8.
    pub fn str(&mut self) -> Result<&'a str, DataError> {
        let b = self.bytes()?;
        core::str::from_utf8(b).map_err(|_| self.err())
    }

    /// Reads an optional string.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] if truncated or malformed.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>, DataError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(self.err()),
        }
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] if truncated.
    pub fn u8(&mut self) -> Result<u8, DataError> {
        let (&b, tail) = self.rest.split_first().ok_or_else(|| self.err())?;
        self.rest = tail;
        Ok(b)
    }

    /// Reads a big-endian u32.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] if truncated.
    pub fn u32(&mut self) -> Result<u32, DataError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<4>()
            .ok_or_else(|| self.err())?;
        self.rest = tail;
        Ok(u32::from_be_bytes(*head))
    }

    /// Checks that nothing is left over.
    ///
    /// # Errors
    /// [`DataReason::Corrupt`] on trailing bytes.
    pub fn finish(self) -> Result<(), DataError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }
}
