//! Signed grant tokens: `payload || tag`, where `tag` is HMAC-SHA256 over `payload` with the
//! key named inside it. Two forms carry the same bytes: the **binary** form is exactly
//! `payload || tag` (for hosts and the C ABI that can carry bytes), the **text** form is `g1.`
//! followed by the unpadded base64url of those bytes (for URLs and headers).
//!
//! Payload layout (big-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version (1) |
//! | 4 | key id |
//! | 1 + n | purpose: `0, code` (built-in) or `1, len, name` (host) |
//! | 16 | grant id |
//! | 16 | subject id |
//! | 1 + n | actor: `0, len, component` / `1, session id` / `2, staff id` |
//! | 8 + 8 | issued at, expires at (milliseconds since the epoch) |
//! | 1 (+16) | consent: `0` or `1, consent id` |
//! | 1 (+16) | lawful request: `0` or `1, request id` |
//!
//! The key that signs a token is the deployment's authority: a custodian opens only tokens
//! signed with one of its own keys, and accepts in-process grants only when they carry the
//! [`AuthorityId`] of one of its keys.

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock, PoisonError};

use std::cell::Cell;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::{Actor, GrantInfo, KeyError, TokenError};
use crate::ids::{ConsentId, GrantId, RequestId, SessionId, StaffId, SubjectId};
use crate::purpose::{PurposeId, PurposeRef};

const PREFIX: &str = "g1.";
const VERSION: u8 = 2;
const TAG_LEN: usize = 32;
/// Longest text token accepted before decoding (bounds work on hostile input).
const MAX_TOKEN_LEN: usize = 1024;
/// Longest binary token accepted (what the longest text token decodes to).
pub(crate) const MAX_TOKEN_BYTES: usize = (MAX_TOKEN_LEN - PREFIX.len()) / 4 * 3 + 2;
/// Component names interned for the open path, at most (see [`intern_component`]).
const MAX_INTERNED: usize = 256;

/// A key that signs grant tokens, with an id so keys can rotate.
pub struct TokenKey {
    id: u32,
    key: hmac::Key,
    /// Compared with the other keys' at build: one secret, one role.
    role: [u8; 16],
}

impl core::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// A key from a secret of at least 32 bytes (share it between processes that exchange
    /// tokens). The caller should zeroize its copy. Like every key constructor it refuses a
    /// constant, patterned or sequential secret (`[7; 32]`, `"tttt…"`, `0, 1, 2, …`): anyone
    /// who guesses the token key mints grants.
    ///
    /// # Errors
    /// [`KeyError::SecretTooShort`]; [`KeyError::WeakSecret`].
    pub fn from_secret(id: u32, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::SecretTooShort);
        }
        if crate::entropy::is_weak(secret) {
            return Err(KeyError::WeakSecret);
        }
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let role = crate::entropy::role_fingerprint(&key);
        Ok(Self { id, key, role })
    }

    /// A fresh random key.
    ///
    /// # Errors
    /// [`KeyError::Random`] if the system random source fails.
    pub fn generate(id: u32) -> Result<Self, KeyError> {
        let mut secret = Zeroizing::new([0_u8; 32]);
        SystemRandom::new()
            .fill(&mut secret[..])
            .map_err(|_| KeyError::Random)?;
        Self::from_secret(id, &secret[..])
    }

    /// The key id.
    #[must_use]
    pub const fn id(&self) -> u32 {
        self.id
    }

    pub(crate) const fn role(&self) -> [u8; 16] {
        self.role
    }
}

/// Names the deployment a grant or session belongs to: derived (HMAC) from a token key, so
/// only holders of the key — the host's composition root — share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AuthorityId([u8; 16]);

impl AuthorityId {
    fn of(key: &hmac::Key) -> Self {
        Self(crate::entropy::label_tag(key, b"crm-privacy authority v1"))
    }
}

#[derive(Debug)]
pub(crate) struct KeyRing {
    signing: TokenKey,
    accepted: Vec<TokenKey>,
    authorities: Vec<AuthorityId>,
}

impl KeyRing {
    pub(crate) fn new(signing: TokenKey, accepted: Vec<TokenKey>) -> Result<Self, KeyError> {
        let mut ids = vec![signing.id];
        for k in &accepted {
            if ids.contains(&k.id) {
                return Err(KeyError::DuplicateKeyId(k.id));
            }
            ids.push(k.id);
        }
        let authorities = std::iter::once(&signing)
            .chain(&accepted)
            .map(|k| AuthorityId::of(&k.key))
            .collect();
        Ok(Self {
            signing,
            accepted,
            authorities,
        })
    }

    /// Role fingerprints of the signing and accepted keys (the builder's one-secret-one-role
    /// check).
    pub(crate) fn role_fingerprints(&self) -> Vec<[u8; 16]> {
        std::iter::once(&self.signing)
            .chain(&self.accepted)
            .map(TokenKey::role)
            .collect()
    }

    /// The authority new grants are issued under (that of the signing key).
    pub(crate) fn authority(&self) -> AuthorityId {
        self.authorities
            .first()
            .copied()
            .unwrap_or(AuthorityId([0; 16]))
    }

    /// Whether `a` is the authority of one of this ring's keys.
    pub(crate) fn accepts(&self, a: AuthorityId) -> bool {
        self.authorities.contains(&a)
    }

    /// The key with id `id` and its authority (computed once, in [`new`](Self::new): the
    /// open path does not sign again to learn it).
    fn key(&self, id: u32) -> Option<(&hmac::Key, AuthorityId)> {
        std::iter::once(&self.signing)
            .chain(&self.accepted)
            .zip(&self.authorities)
            .find(|(k, _)| k.id == id)
            .map(|(k, a)| (&k.key, *a))
    }

    /// The text form: `g1.` and the base64url of [`seal_bytes`](Self::seal_bytes).
    pub(crate) fn seal(&self, info: &GrantInfo) -> String {
        let p = self.seal_bytes(info);
        let mut out = String::with_capacity(PREFIX.len() + BASE64URL_NOPAD.encode_len(p.len()));
        out.push_str(PREFIX);
        BASE64URL_NOPAD.encode_append(&p, &mut out);
        out
    }

    /// The binary form: `payload || tag`.
    pub(crate) fn seal_bytes(&self, info: &GrantInfo) -> Vec<u8> {
        let mut p = Vec::with_capacity(96);
        p.push(VERSION);
        p.extend_from_slice(&self.signing.id.to_be_bytes());
        match info.purpose {
            PurposeRef::Builtin(id) => p.extend_from_slice(&[0, id.code()]),
            PurposeRef::Host(name) => {
                p.push(1);
                push_short(&mut p, name.as_bytes());
            }
        }
        p.extend_from_slice(&info.id.to_bytes());
        p.extend_from_slice(&info.subject.to_bytes());
        match &info.actor {
            Actor::Service { component } => {
                p.push(0);
                push_short(&mut p, component.as_bytes());
            }
            Actor::Subject { session } => {
                p.push(1);
                p.extend_from_slice(&session.to_bytes());
            }
            Actor::Staff { staff } => {
                p.push(2);
                p.extend_from_slice(&staff.to_bytes());
            }
        }
        p.extend_from_slice(&info.issued_at.timestamp_millis().to_be_bytes());
        p.extend_from_slice(&info.expires_at.timestamp_millis().to_be_bytes());
        for id in [
            info.consent.map(|c| c.to_bytes()),
            info.request.map(|r| r.to_bytes()),
        ] {
            match id {
                None => p.push(0),
                Some(b) => {
                    p.push(1);
                    p.extend_from_slice(&b);
                }
            }
        }
        let tag = hmac::sign(&self.signing.key, &p);
        p.extend_from_slice(tag.as_ref());
        p
    }

    /// Opens a token for the purpose `expected`; any other purpose is
    /// [`TokenError::WrongPurpose`]. Returns the facts and the authority of the key that
    /// signed it.
    pub(crate) fn open(
        &self,
        token: &str,
        expected: PurposeRef,
    ) -> Result<(GrantInfo, AuthorityId), TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let body = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        // Decode on the stack: MAX_TOKEN_LEN base64 characters fit in 3/4 as many bytes.
        let mut buf = [0_u8; MAX_TOKEN_LEN / 4 * 3 + 3];
        let len = BASE64URL_NOPAD
            .decode_len(body.len())
            .map_err(|_| TokenError::Malformed)?;
        let out = buf.get_mut(..len).ok_or(TokenError::Malformed)?;
        let n = BASE64URL_NOPAD
            .decode_mut(body.as_bytes(), out)
            .map_err(|_| TokenError::Malformed)?;
        let raw = buf.get(..n).ok_or(TokenError::Malformed)?;
        self.open_bytes(raw, expected)
    }

    /// Opens the binary form (`payload || tag`) for the purpose `expected`, as
    /// [`open`](Self::open). Allocates nothing for names: the purpose is compared in place
    /// and a service component name is interned.
    pub(crate) fn open_bytes(
        &self,
        raw: &[u8],
        expected: PurposeRef,
    ) -> Result<(GrantInfo, AuthorityId), TokenError> {
        if raw.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let split = raw
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(TokenError::Malformed)?;
        let (payload, tag) = raw.split_at_checked(split).ok_or(TokenError::Malformed)?;
        let mut r = Cursor(payload);
        let version = r.u8()?;
        if version != VERSION {
            return Err(TokenError::UnsupportedVersion(version));
        }
        let kid = u32::from_be_bytes(r.array()?);
        let (key, authority) = self.key(kid).ok_or(TokenError::UnknownKey(kid))?;
        hmac::verify(key, payload, tag).map_err(|_| TokenError::BadSignature)?;
        // Authentic from here on; layout errors still get a typed error, never a panic.
        let same_purpose = match (r.u8()?, expected) {
            (0, PurposeRef::Builtin(want)) => {
                PurposeId::from_code(r.u8()?).ok_or(TokenError::Malformed)? == want
            }
            (0, PurposeRef::Host(_)) => {
                PurposeId::from_code(r.u8()?).ok_or(TokenError::Malformed)?;
                false
            }
            (1, want) => {
                let name = r.short()?;
                matches!(want, PurposeRef::Host(w) if w.as_bytes() == name)
            }
            _ => return Err(TokenError::Malformed),
        };
        let id = GrantId::from_bytes(r.array()?);
        let subject = SubjectId::from_bytes(r.array()?);
        let actor = match r.u8()? {
            0 => Actor::Service {
                component: intern_component(
                    std::str::from_utf8(r.short()?).map_err(|_| TokenError::Malformed)?,
                ),
            },
            1 => Actor::Subject {
                session: SessionId::from_bytes(r.array()?),
            },
            2 => Actor::Staff {
                staff: StaffId::from_bytes(r.array()?),
            },
            _ => return Err(TokenError::Malformed),
        };
        let issued_at = millis(i64::from_be_bytes(r.array()?))?;
        let expires_at = millis(i64::from_be_bytes(r.array()?))?;
        let consent = match r.u8()? {
            0 => None,
            1 => Some(ConsentId::from_bytes(r.array()?)),
            _ => return Err(TokenError::Malformed),
        };
        let request = match r.u8()? {
            0 => None,
            1 => Some(RequestId::from_bytes(r.array()?)),
            _ => return Err(TokenError::Malformed),
        };
        if !r.0.is_empty() {
            return Err(TokenError::Malformed);
        }
        if !same_purpose {
            return Err(TokenError::WrongPurpose);
        }
        Ok((
            GrantInfo {
                id,
                subject,
                actor,
                purpose: expected,
                issued_at,
                expires_at,
                consent,
                request,
            },
            authority,
        ))
    }
}

/// The interned names, filled in order (see [`intern_component`]).
static TABLE: [OnceLock<&'static str>; MAX_INTERNED] = [const { OnceLock::new() }; MAX_INTERNED];
/// Held while a slot of [`TABLE`] is filled.
static FILL: Mutex<()> = Mutex::new(());

/// The interned copy of a component name: the first [`MAX_INTERNED`] distinct names a
/// process opens tokens for are kept for the life of the process and shared by every later
/// token, so opening allocates nothing for them; later names are copied. Only names inside
/// a verified token reach here (the deployment's own components, a handful), and the table
/// is bounded, so a flood of names cannot grow it.
pub(crate) fn intern_component(name: &str) -> Cow<'static, str> {
    // Slots filled in order, each once, under `FILL`; read without a lock (one atomic load
    // per slot), so concurrent opens do not contend on a lock's counter. A scan of a few
    // short names is as fast as hashing, and each slot holds a pointer to the start of its
    // allocation — memcheck reports a hashbrown table held by a static (which points into
    // the middle of its allocation) as "possibly lost", and C hosts run us under valgrind.
    let find = || {
        for slot in &TABLE {
            match slot.get() {
                Some(known) if *known == name => return Ok(*known),
                Some(_) => {}
                None => return Err(false),
            }
        }
        Err(true)
    };
    let full = match find() {
        Ok(known) => return Cow::Borrowed(known),
        Err(full) => full,
    };
    if full {
        return Cow::Owned(name.to_owned());
    }
    let _fill = FILL.lock().unwrap_or_else(PoisonError::into_inner);
    // Another thread may have added it (or filled the table) since the scan.
    for slot in &TABLE {
        match slot.get() {
            Some(known) if *known == name => return Cow::Borrowed(known),
            Some(_) => {}
            None => {
                let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
                return Cow::Borrowed(slot.get_or_init(|| leaked));
            }
        }
    }
    Cow::Owned(name.to_owned())
}

fn push_short(p: &mut Vec<u8>, b: &[u8]) {
    let b = b.get(..b.len().min(255)).unwrap_or_default();
    p.push(u8::try_from(b.len()).unwrap_or(u8::MAX));
    p.extend_from_slice(b);
}

/// Milliseconds since the epoch as a `DateTime`, exactly as
/// `DateTime::from_timestamp_millis`. Most of chrono's conversion is the calendar date, and
/// the tokens a process opens carry few distinct days (issue and expiry of grants living at
/// most a day), so each thread keeps the last date of an even and of an odd day.
fn millis(ms: i64) -> Result<DateTime<Utc>, TokenError> {
    const DAY_MS: i64 = 86_400_000;
    thread_local! {
        static DATES: Cell<[Option<(i64, NaiveDate)>; 2]> = const { Cell::new([None; 2]) };
    }
    let day = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(
        u32::try_from(in_day / 1000).map_err(|_| TokenError::Malformed)?,
        u32::try_from(in_day % 1000 * 1_000_000).map_err(|_| TokenError::Malformed)?,
    )
    .ok_or(TokenError::Malformed)?;
    let slot = usize::from(day & 1 == 1);
    let mut dates = DATES.with(Cell::get);
    let date = match dates.get(slot).copied().flatten() {
        Some((d, date)) if d == day => date,
        _ => {
            let date = DateTime::from_timestamp(day * 86_400, 0)
                .ok_or(TokenError::Malformed)?
                .date_naive();
            if let Some(s) = dates.get_mut(slot) {
                *s = Some((day, date));
            }
            DATES.with(|c| c.set(dates));
            date
        }
    };
    Ok(NaiveDateTime::new(date, time).and_utc())
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Result<u8, TokenError> {
        let (&b, rest) = self.0.split_first().ok_or(TokenError::Malformed)?;
        self.0 = rest;
        Ok(b)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(TokenError::Malformed)?;
        self.0 = rest;
        Ok(*head)
    }
    fn short(&mut self) -> Result<&'a [u8], TokenError> {
        let n = usize::from(self.u8()?);
        let (head, rest) = self.0.split_at_checked(n).ok_or(TokenError::Malformed)?;
        self.0 = rest;
        Ok(head)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test")]
mod tests {
    use super::*;

    #[test]
    fn millis_is_chronos_conversion() {
        let mut edges = vec![0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001];
        edges.extend([i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1]);
        for bound in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let b = bound.timestamp_millis();
            edges.extend([b - 1, b, b + 1, b - 86_400_000, b + 86_400_000]);
        }
        // A walk across days, back and forth, so both cache slots hit and miss.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut walk = vec![];
        for i in 0..20_000_i64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let jitter = i64::try_from(x % 200_000_000).unwrap() - 100_000_000;
            walk.push(1_800_000_000_000 + (i % 7) * 43_200_000 + jitter);
            walk.push(i64::from_ne_bytes(x.to_ne_bytes()));
        }
        for ms in edges.into_iter().chain(walk) {
            assert_eq!(millis(ms).ok(), DateTime::from_timestamp_millis(ms), "{ms}");
        }
    }

    #[test]
    fn interning_shares_one_copy_per_name_and_stays_bounded() {
        let names: Vec<String> = (0..MAX_INTERNED + 40)
            .map(|i| format!("intern-test-{i}"))
            .collect();
        // Eight threads intern overlapping halves at once.
        std::thread::scope(|sc| {
            for t in 0..8 {
                let names = &names;
                sc.spawn(move || {
                    for n in names.iter().skip(t * 17).chain(names.iter().rev()) {
                        assert_eq!(intern_component(n), n.as_str());
                    }
                });
            }
        });
        let filled: Vec<&'static str> = TABLE.iter().filter_map(|s| s.get().copied()).collect();
        assert_eq!(
            filled.len(),
            MAX_INTERNED,
            "the table fills up to its bound"
        );
        let mut unique = filled.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), filled.len(), "a name is interned once");
        for n in &names {
            match (intern_component(n), intern_component(n)) {
                (Cow::Borrowed(a), Cow::Borrowed(b)) => {
                    assert!(core::ptr::eq(a, b));
                    assert!(filled.contains(&a));
                }
                (Cow::Owned(a), Cow::Owned(b)) => {
                    assert_eq!((a.as_str(), b.as_str()), (n.as_str(), n.as_str()));
                    assert!(!filled.contains(&n.as_str()));
                }
                _ => panic!("the same name interned and copied"),
            }
        }
    }
}
