//! Writes (registration, storing values) and blind-index lookups.

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::grants::LookupGrant;
use super::{Custodian, CustodianError, MAX_VALUE_BYTES};
use crate::data::{Category, DataKind, Email, KindRef, Phone};
use crate::ids::{RecordId, SubjectId};
use crate::ledger::{AuditEvent, AuditKind};
use crate::policy::UsableFor;
use crate::purpose::ServicePurpose;
use crate::store::{SealedRecord, VersionedRecord};

/// A value ready to seal: its kind, encoding and lookup key.
pub(super) struct Plain {
    pub(super) kind: KindRef,
    pub(super) bytes: Zeroizing<Vec<u8>>,
    pub(super) lookup: Option<Zeroizing<String>>,
}

impl Plain {
    pub(super) fn of<K: DataKind>(value: &K) -> Self {
        Self {
            kind: K::KIND,
            bytes: value.encode(),
            lookup: value.lookup_key(),
        }
    }
}

impl Custodian {
    /// Registers a new subject: creates its data key (wrapped by the KEK) and returns its id.
    ///
    /// # Errors
    /// Store or key failures.
    #[cfg_attr(
        feature = "tracing",
        tracing::instrument(skip_all, err(level = "info", Display))
    )]
    pub async fn register_subject(&self) -> Result<SubjectId, CustodianError> {
        let now = self.now();
        let subject = SubjectId::new_random();
        let (material, wrapped) = self.inner.keyring.new_data_key(subject).await?;
        // Audit first: a failure after it leaves an entry for a subject with no key (its
        // operations fail with `UnknownSubject`), never a live key no entry accounts for.
        self.commit(
            None,
            &[AuditEvent::new(now, AuditKind::SubjectRegistered, subject)],
        )
        .await?;
        self.put_fresh_key(subject, &material, wrapped).await?;
        Ok(subject)
    }

    /// Seals and stores a value of `subject` (clause 1: data the subject entered). Email
    /// and phone values also get a blind index for lookups. A kind collected only under
    /// consent (provider account ids, the Zoom token, imported contacts, cookie
    /// preferences) is refused unless that consent is in force (3.3, 3.5, 3.6, 3.7).
    ///
    /// # Errors
    /// [`CustodianError::CollectionWithoutConsent`], [`CustodianError::Erased`],
    /// [`CustodianError::UnknownSubject`], [`CustodianError::TooLarge`],
    /// [`CustodianError::ReservedKindName`], store or crypto failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject, kind = K::KIND.name()), err(level = "info", Display)))]
    pub async fn store<K: DataKind>(
        &self,
        subject: SubjectId,
        value: K,
    ) -> Result<RecordId, CustodianError> {
        let record = RecordId::new_random();
        let now = self.now();
        self.write(
            subject,
            record,
            &Plain::of(&value),
            now,
            now,
            1,
            AuditKind::Stored,
        )
        .await?;
        Ok(record)
    }

    /// Stores a value given in its text form (the value, or a JSON object for compound
    /// kinds; see `docs/ffi.md`), for callers whose kind is a value (the C ABI): a built-in
    /// kind, or a registered host kind (`KindRef::Host(K::NAME)`, parsed by its
    /// [`HostKind::from_text`](crate::HostKind::from_text)).
    ///
    /// # Errors
    /// [`CustodianError::Data`] for a value that does not parse, and the errors of
    /// [`store`](Self::store).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(subject = %subject), err(level = "info", Display)))]
    pub async fn store_text(
        &self,
        subject: SubjectId,
        kind: impl Into<KindRef>,
        text: &str,
    ) -> Result<RecordId, CustodianError> {
        let kind = kind.into();
        if text.len() > MAX_VALUE_BYTES {
            return Err(CustodianError::TooLarge {
                kind: kind.name(),
                max: MAX_VALUE_BYTES,
            });
        }
        let enc = crate::policy::host::parse_kind(kind, text)?;
        let plain = Plain {
            kind,
            bytes: enc.bytes,
            lookup: enc.lookup,
        };
        let record = RecordId::new_random();
        let now = self.now();
        self.write(subject, record, &plain, now, now, 1, AuditKind::Stored)
            .await?;
        Ok(record)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one write path for store and rectify; the row's columns are its arguments"
    )]
    pub(super) async fn write(
        &self,
        subject: SubjectId,
        record: RecordId,
        value: &Plain,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
        version: u64,
        kind: AuditKind,
    ) -> Result<(), CustodianError> {
        match value.kind {
            KindRef::Host(name) if Category::from_name(name).is_some() => {
                return Err(CustodianError::ReservedKindName(name));
            }
            _ => {}
        }
        if value.bytes.len() > MAX_VALUE_BYTES {
            return Err(CustodianError::TooLarge {
                kind: value.kind.name(),
                max: MAX_VALUE_BYTES,
            });
        }
        self.catch_up().await?;
        if self.inner.state.is_erased(subject) {
            return Err(CustodianError::Erased(subject));
        }
        if let KindRef::Host(name) = value.kind {
            // A host kind collected under a host consent scope, like a built-in one.
            if let Some(scope) = crate::policy::host::scope_of_kind(name) {
                if self
                    .inner
                    .state
                    .host_consent(subject, scope.name())
                    .is_none()
                {
                    return Err(CustodianError::CollectionWithoutConsent {
                        kind: name,
                        scope: scope.name(),
                    });
                }
            }
        }
        // Clause 4: a kind collected through a device capability needs that permission's
        // consent whenever a value is written — stored, or rectified (a rectified device
        // contact can be a whole other person: outside review of issue 19).
        {
            let device = match value.kind {
                KindRef::Builtin(c) => crate::policy::device_permission_for(c),
                KindRef::Host(name) => crate::policy::host::device_permission_of(name),
            };
            if let Some(permission) = device {
                let scope = crate::consent::ConsentScope::Device(permission);
                if self.inner.state.active_consent(subject, scope).is_none() {
                    return Err(CustodianError::CollectionWithoutConsent {
                        kind: value.kind.name(),
                        scope: scope.name(),
                    });
                }
            }
        }
        if let KindRef::Builtin(c) = value.kind {
            if let Some(scope) = crate::policy::scopes::scope_of_kind(c) {
                if self.inner.state.active_consent(subject, scope).is_none() {
                    return Err(CustodianError::CollectionWithoutConsent {
                        kind: c.name(),
                        scope: scope.name(),
                    });
                }
            }
        }
        let key = self.data_key(subject).await?;
        let blind_index = match (&value.lookup, value.kind) {
            (Some(v), KindRef::Builtin(c)) => Some(self.inner.keyring.blind_index(c, v)),
            _ => None,
        };
        let index_version = self.inner.keyring.index_version;
        let mut row = VersionedRecord {
            sealed: SealedRecord {
                record,
                subject,
                kind: value.kind.name().to_owned(),
                ciphertext: Vec::new(),
                blind_index,
                index_version,
                created_at,
                updated_at: now,
            },
            version,
        };
        // Every column a decision rests on (subject, kind, timestamps, version, blind
        // index) is bound into the ciphertext's associated data.
        row.sealed.ciphertext = key.seal_row(&row.header(), &value.bytes)?;
        // The audit entry first: a write that fails after it leaves an entry naming a
        // record that is not there (reported as failed), never a stored record no audit
        // entry accounts for.
        let mut ev = AuditEvent::new(now, kind, subject);
        ev.record = Some(record);
        ev.data_kind = Some(value.kind.name().to_owned());
        ev.reference = Some(format!("version {version}"));
        self.commit(None, &[ev]).await?;
        self.inner.records.put_versioned(row).await?;
        self.recheck_collection_consent(subject, record, value.kind)
            .await
    }

    /// A withdrawal racing this write may have listed the subject's records before the row
    /// above landed; so look again once it has: if the consent the kind is collected under
    /// is no longer in force, the row goes (3.7: disconnecting removes the stored data).
    async fn recheck_collection_consent(
        &self,
        subject: SubjectId,
        record: RecordId,
        kind: KindRef,
    ) -> Result<(), CustodianError> {
        let KindRef::Builtin(c) = kind else {
            return Ok(());
        };
        let Some(scope) = crate::policy::scopes::scope_of_kind(c) else {
            return Ok(());
        };
        self.sync().await?;
        if self.inner.state.active_consent(subject, scope).is_none() {
            self.inner.records.delete(record).await?;
            return Err(CustodianError::CollectionWithoutConsent {
                kind: c.name(),
                scope: scope.name(),
            });
        }
        Ok(())
    }

    /// Subjects whose stored email equals `email` (through the blind index, keyed by
    /// [`Email::lookup_key`]: domain and local part case-insensitive), for a lookup
    /// grant of a purpose email serves. Erased subjects are never returned; the lookup is
    /// audited (purpose, component, count — not the address).
    ///
    /// # Errors
    /// Access refusals of the lookup grant, store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), purpose = P::NAME, kind = "email"), err(level = "info", Display)))]
    pub async fn find_by_email<P>(
        &self,
        grant: &LookupGrant<P>,
        email: &Email,
    ) -> Result<Vec<SubjectId>, CustodianError>
    where
        P: ServicePurpose,
        Email: UsableFor<P>,
    {
        self.find(grant, Category::Email, &email.lookup_key()).await
    }

    /// Subjects whose stored phone equals `phone` (through the blind index); as
    /// [`find_by_email`](Self::find_by_email).
    ///
    /// # Errors
    /// As [`find_by_email`](Self::find_by_email).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), purpose = P::NAME, kind = "phone"), err(level = "info", Display)))]
    pub async fn find_by_phone<P>(
        &self,
        grant: &LookupGrant<P>,
        phone: &Phone,
    ) -> Result<Vec<SubjectId>, CustodianError>
    where
        P: ServicePurpose,
        Phone: UsableFor<P>,
    {
        self.find(grant, Category::Phone, phone.as_e164()).await
    }

    async fn find<P: ServicePurpose>(
        &self,
        grant: &LookupGrant<P>,
        c: Category,
        v: &str,
    ) -> Result<Vec<SubjectId>, CustodianError> {
        let now = self.now();
        self.catch_up().await?;
        if let Err(e) = grant.check(self, now) {
            let e = CustodianError::from(e);
            let nobody = SubjectId::from_uuid(uuid::Uuid::nil());
            self.audit_refusal(nobody, Some(grant.id()), None, P::NAME, &e, now)
                .await;
            return Err(e);
        }
        // During a blind-index rotation both versions' indexes are queried, the previous
        // first (see `KeyHierarchy::lookup_indexes`), and the results merged.
        let mut found = Vec::new();
        for idx in self.inner.keyring.lookup_indexes(c, v) {
            found.extend(self.inner.records.find_by_index(&idx).await?);
        }
        let mut out: Vec<_> = found
            .into_iter()
            .map(|r| r.subject)
            // Erased subjects are gone; restricted ones are not processed (9.1), lookups
            // included, except for legal compliance.
            .filter(|s| {
                !self.inner.state.is_erased(*s)
                    && (P::ID
                        == crate::purpose::PurposeRef::Builtin(crate::PurposeId::LegalCompliance)
                        || !self.inner.state.is_restricted(*s))
            })
            .collect();
        out.sort();
        out.dedup();
        let mut ev = AuditEvent::new(
            now,
            AuditKind::Lookup,
            SubjectId::from_uuid(uuid::Uuid::nil()),
        );
        ev.grant = Some(grant.id());
        ev.data_kind = Some(c.name().to_owned());
        ev.purpose = Some(P::NAME.to_owned());
        ev.reference = Some(format!("{} result(s)", out.len()));
        self.commit(None, &[ev]).await?;
        Ok(out)
    }
}
