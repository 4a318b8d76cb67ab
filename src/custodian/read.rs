//! The checked read paths: typed ([`Custodian::with`]), masked
//! ([`Custodian::with_masked`]), runtime-typed ([`Custodian::read_as_text`]) and in-memory
//! values ([`Custodian::expose`]).

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::{Custodian, CustodianError};
use crate::crypto::DataKey;
use crate::data::{Category, DataKind, KindRef, Masked, Personal};
use crate::grant::{AccessError, Grant};
use crate::ids::{RecordId, SubjectId};
use crate::ledger::AuditKind;
use crate::policy::{MaskedFor, UsableFor};
use crate::purpose::{ConferenceCreation, Purpose, PurposeRef};
use crate::store::{SealedRecord, StoreError, VersionedRecord};

impl Custodian {
    pub(super) async fn data_key(&self, subject: SubjectId) -> Result<DataKey, CustodianError> {
        let wrapped = self.wrapped_key(subject).await?;
        Ok(self.inner.keyring.unwrap(subject, &wrapped).await?)
    }

    /// Refuses an id that was never registered (a made-up id, or the deployment's own):
    /// [`CustodianError::UnknownSubject`]. An erased subject passes (its key is shredded),
    /// so a retried erasure stays idempotent.
    pub(super) async fn ensure_registered(&self, subject: SubjectId) -> Result<(), CustodianError> {
        match self.wrapped_key(subject).await {
            Ok(_) | Err(CustodianError::Crypto(crate::crypto::CryptoError::Shredded)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The subject's wrapped data key: [`CustodianError::UnknownSubject`] for an id never
    /// registered, [`CryptoError::Shredded`](crate::crypto::CryptoError::Shredded) for an
    /// erased subject.
    pub(super) async fn wrapped_key(
        &self,
        subject: SubjectId,
    ) -> Result<crate::crypto::WrappedKey, CustodianError> {
        match self.inner.keys.get(subject).await {
            Ok(w) => Ok(w),
            Err(StoreError::NotFound { .. }) => Err(CustodianError::UnknownSubject(subject)),
            Err(StoreError::Shredded(_)) => Err(crate::crypto::CryptoError::Shredded.into()),
            Err(e) => Err(e.into()),
        }
    }

    /// The row `record` if the grant's subject owns it. A row of another subject is refused
    /// exactly like a missing one ([`AccessError::NotVisible`]).
    pub(super) async fn visible_row<P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
    ) -> Result<VersionedRecord, CustodianError> {
        let not_visible = AccessError::NotVisible {
            grant: grant.id(),
            record,
        };
        let row = match self.inner.records.get_versioned(record).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(not_visible.into()),
            Err(e) => return Err(e.into()),
        };
        if row.sealed.subject != grant.subject() {
            return Err(not_visible.into());
        }
        Ok(row)
    }

    /// The read path every record read shares: catch up with the ledger, run the gate on
    /// the grant, fetch the row, refuse a row of another subject exactly like a missing
    /// one, let `kind_of` accept its kind, check the kind's consent and sharing choice,
    /// open the ciphertext. Returns the subject, the kind and the plaintext.
    async fn open_checked<P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        now: DateTime<Utc>,
        kind_of: impl FnOnce(&SealedRecord) -> Result<KindRef, CustodianError>,
    ) -> Result<(SubjectId, KindRef, Zeroizing<Vec<u8>>), CustodianError> {
        // Authority and the grant's own basis first: a refused caller learns nothing about
        // which records exist.
        self.admit(grant, now).await?;
        let row = self.visible_row(grant, record).await?;
        let kind = kind_of(&row.sealed)?;
        if let KindRef::Builtin(c) = kind {
            self.inner.state.check_kind(grant.info(), c)?;
        }
        let key = self.data_key(row.sealed.subject).await?;
        let plain = key.open_row(&row.header(), &row.sealed.ciphertext)?;
        Ok((row.sealed.subject, kind, plain))
    }

    /// Reads record `record` as a `K` for purpose `P` and passes it to `f`.
    ///
    /// Compiles only when `K: UsableFor<P>`. At run time the custodian's gate runs: the
    /// grant must be its own, unexpired by its clock, unrevoked, its consent in force, the
    /// subject neither restricted nor erased, a kind collected under consent still
    /// consented, a sharing purpose limited to what the subject shares, a staff member's
    /// NDA on file. The read is audited before `f` runs; a refusal is audited too.
    ///
    /// # Errors
    /// [`CustodianError::Access`] for refusals (a record of another subject is
    /// [`AccessError::NotVisible`], like a missing one), [`CustodianError::WrongKind`],
    /// store, crypto (tampered, moved, shredded) and decode failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record, purpose = P::NAME, kind = K::KIND.name()), err(level = "info", Display)))]
    pub async fn with<K, P, R>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        f: impl FnOnce(&K) -> R,
    ) -> Result<R, CustodianError>
    where
        K: DataKind + UsableFor<P>,
        P: Purpose,
    {
        let value = self
            .read_typed::<K, P>(grant, record, AuditKind::Exposed)
            .await?;
        Ok(f(&value))
    }

    /// The typed read [`with`](Self::with) and [`with_masked`](Self::with_masked) share:
    /// the whole gate ([`open_checked`](Self::open_checked)), the kind check, the decode,
    /// and the audit entry `what` — written before the value is handed to anyone. A refusal
    /// is audited by [`audited`](Self::audited).
    async fn read_typed<K: DataKind, P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        what: AuditKind,
    ) -> Result<K, CustodianError> {
        let now = self.now();
        self.audited(grant, Some(record), now, async {
            let (subject, kind, plain) = self
                .open_checked(grant, record, now, |row| {
                    if let KindRef::Host(name) = K::KIND {
                        // A host kind named like a built-in one would decode built-in
                        // records past the policy table: never.
                        if Category::from_name(name).is_some() {
                            return Err(CustodianError::ReservedKindName(name));
                        }
                    }
                    if row.kind == K::KIND.name() {
                        Ok(K::KIND)
                    } else {
                        Err(CustodianError::WrongKind {
                            record,
                            expected: K::KIND.name(),
                            actual: row.kind.clone(),
                        })
                    }
                })
                .await?;
            let value = K::decode(&plain)?;
            self.audit_exposure(what, grant, subject, Some(record), kind, now)
                .await?;
            Ok(value)
        })
        .await
    }

    /// Reads the **masked view** of record `record` (a [`Masked<K>`], e.g. `a•••@example.com`
    /// or `+44 •••• 0958`, `docs/masked-views.md`) for purpose `P` and passes it to `f`.
    ///
    /// Compiles only when `K: MaskedFor<P>`: the policy table declares a masked view of `K`
    /// for `P`, or a full read (which implies the masked one). At run time the very same
    /// gate as [`with`](Self::with) runs, on the same path: authority, expiry, revocation,
    /// erasure, restriction, consent in force, sharing choice, NDA on file, the record's
    /// subject and kind. The value is decrypted and masked inside the custodian, and only the
    /// masked text reaches `f`; the decrypted value is dropped (zeroized) before `f` runs.
    /// The read is audited as [`AuditKind::ExposedMasked`] before `f` runs; a refusal is
    /// audited as for `with`.
    ///
    /// ```compile_fail
    /// # use crm_privacy::*;
    /// # async fn leak(c: &crm_privacy::custodian::Custodian, g: &Grant<Analytics>, r: RecordId) {
    /// // No masked view of a phone number for analytics either (clause 3.2).
    /// let _ = c.with_masked::<Phone, _, _>(g, r, |m| m.to_string()).await;
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`with`](Self::with).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record, purpose = P::NAME, kind = K::KIND.name(), masked = true), err(level = "info", Display)))]
    pub async fn with_masked<K, P, R>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        f: impl FnOnce(&Masked<K>) -> R,
    ) -> Result<R, CustodianError>
    where
        K: MaskedFor<P>,
        P: Purpose,
    {
        let masked = {
            let value = self
                .read_typed::<K, P>(grant, record, AuditKind::ExposedMasked)
                .await?;
            Masked::of(&value)
        };
        Ok(f(&masked))
    }

    /// The runtime-checked twin of [`with`](Self::with), for callers whose purpose and kind
    /// are values (the C ABI): the stored kind must be allowed for `P` by
    /// [`policy::permits`](crate::policy::permits), then every check of `with` runs and the
    /// read is audited. Returns the value as text (JSON for compound kinds, see the text
    /// forms in `docs/ffi.md`) in a zeroizing buffer; the Zoom access token is revealed only
    /// for [`ConferenceCreation`].
    ///
    /// # Errors
    /// [`CustodianError::PurposeNotPermitted`], and the errors of [`with`](Self::with).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record, purpose = P::NAME), err(level = "info", Display)))]
    pub async fn read_as_text<P: Purpose>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
    ) -> Result<Zeroizing<String>, CustodianError> {
        let now = self.now();
        self.audited(grant, Some(record), now, async {
            let mut category = None;
            let mut host = None;
            let (subject, kind, plain) = self
                .open_checked(grant, record, now, |row| {
                    let Some(c) = Category::from_name(&row.kind) else {
                        // A registered host kind, for a purpose its host_policy! declares.
                        let h = crate::policy::host::kind(&row.kind).ok_or(
                            CustodianError::WrongKind {
                                record,
                                expected: "a built-in or registered host kind",
                                actual: row.kind.clone(),
                            },
                        )?;
                        if !h.purposes().iter().any(|p| p.name == P::NAME) {
                            return Err(CustodianError::PurposeNotPermitted {
                                kind: h.name(),
                                purpose: P::NAME,
                            });
                        }
                        host = Some(h);
                        return Ok(KindRef::Host(h.name()));
                    };
                    let allowed = match P::ID {
                        PurposeRef::Builtin(p) => crate::policy::permits(c, p),
                        PurposeRef::Host(_) => false,
                    };
                    if !allowed {
                        return Err(CustodianError::PurposeNotPermitted {
                            kind: c.name(),
                            purpose: P::NAME,
                        });
                    }
                    category = Some(c);
                    Ok(KindRef::Builtin(c))
                })
                .await?;
            if let Some(h) = host {
                let text = (h.to_text)(&plain)?;
                self.audit_exposed(grant, subject, Some(record), kind, now)
                    .await?;
                return Ok(text);
            }
            let c = category.ok_or(CustodianError::WrongKind {
                record,
                expected: "a built-in kind",
                actual: kind.name().to_owned(),
            })?;
            let reveal = P::ID == ConferenceCreation::ID;
            let text = crate::data::text::render_text(c, &plain, reveal)?;
            self.audit_exposed(grant, subject, Some(record), kind, now)
                .await?;
            Ok(text)
        })
        .await
    }

    /// Reads a value held in memory for purpose `P`: the same gate as
    /// [`with`](Self::with) runs on its subject and the exposure is audited.
    ///
    /// Compiles only when `T: UsableFor<P>`:
    ///
    /// ```compile_fail
    /// # use crm_privacy::*;
    /// # async fn leak(c: &crm_privacy::custodian::Custodian, p: &Personal<Phone>, g: &Grant<Analytics>) {
    /// let _ = c.expose(p, g).await; // phone numbers are not for analytics
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`with`](Self::with).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = P::NAME, kind = T::KIND.name()), err(level = "info", Display)))]
    pub async fn expose<'a, T, P>(
        &self,
        value: &'a Personal<T>,
        grant: &Grant<P>,
    ) -> Result<&'a T, CustodianError>
    where
        T: DataKind + UsableFor<P>,
        P: Purpose,
    {
        let now = self.now();
        self.audited(grant, None, now, async {
            self.admit(grant, now).await?;
            if value.subject != grant.subject() {
                return Err(AccessError::WrongSubject { grant: grant.id() }.into());
            }
            if let KindRef::Host(name) = T::KIND {
                if Category::from_name(name).is_some() {
                    return Err(CustodianError::ReservedKindName(name));
                }
            }
            if let KindRef::Builtin(c) = T::KIND {
                self.inner.state.check_kind(grant.info(), c)?;
            }
            self.audit_exposed(grant, value.subject, None, T::KIND, now)
                .await
        })
        .await?;
        Ok(&value.value)
    }
}
