//! What colleagues and chat participants see (clause 5) and disclosures (clause 7).

use zeroize::Zeroizing;

use super::{Custodian, CustodianError};
use crate::data::{Category, DataKind, KindRef};
use crate::disclosure::{Disclosure, DisclosureError};
use crate::grant::Grant;
use crate::ids::RecordId;
use crate::ledger::{AuditEvent, AuditKind, LedgerChange};
use crate::policy::UsableFor;
use crate::purpose::{OwnerAccess, Purpose, PurposeRef};
use crate::sharing::{Audience, SharingPolicy};

impl Custodian {
    /// Sets what colleagues and chat participants may see (clause 5), in the subject's own
    /// session; recorded in the ledger, so every process applies it.
    ///
    /// # Errors
    /// Access refusals and store failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject()), err(level = "info", Display)))]
    pub async fn set_sharing(
        &self,
        grant: &Grant<OwnerAccess>,
        policy: SharingPolicy,
    ) -> Result<(), CustodianError> {
        let now = self.now();
        self.audited(grant, None, now, async {
            self.admit(grant, now).await?;
            let subject = grant.subject();
            let mut ev = AuditEvent::new(now, AuditKind::SharingChanged, subject);
            ev.grant = Some(grant.id());
            self.commit_change(LedgerChange::SharingSet { policy }, ev)
                .await
        })
        .await
    }

    /// The view of the grant's subject for `audience`: only the kinds the subject chose to
    /// share, read through a grant of the audience's purpose (`TeamCollaboration` for
    /// colleagues, `ChatSharing` for chat participants). Each read is audited. The same
    /// sharing check runs on every other read path too.
    ///
    /// # Errors
    /// [`CustodianError::WrongAudience`], access refusals, store and crypto failures.
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), purpose = P::NAME, audience = ?audience), err(level = "info", Display)))]
    pub async fn shared_view<P: Purpose>(
        &self,
        grant: &Grant<P>,
        audience: Audience,
    ) -> Result<Vec<(String, Zeroizing<String>)>, CustodianError> {
        if P::ID != PurposeRef::Builtin(audience.purpose()) {
            return Err(CustodianError::WrongAudience);
        }
        self.catch_up().await?;
        let subject = grant.subject();
        let policy = self.inner.state.sharing(subject);
        let mut out = Vec::new();
        for row in self.inner.records.list_subject(subject).await? {
            let Some(c) = Category::from_name(&row.kind) else {
                continue;
            };
            if policy.allows(audience, c) {
                out.push((
                    row.kind.clone(),
                    self.read_as_text(grant, row.record).await?,
                ));
            }
        }
        Ok(out)
    }

    /// Reads record `record` for a permitted [`Disclosure`] (clause 7) and passes it to
    /// `f`; the read and the disclosure, naming the recipient, are audited. A disclosure to
    /// an authority needs a legal-compliance grant issued on a recorded lawful request.
    ///
    /// # Errors
    /// [`DisclosureError::Mismatch`] when the disclosure is for another kind or purpose;
    /// the errors of [`with`](Self::with).
    #[cfg_attr(feature = "tracing", tracing::instrument(skip_all, fields(grant = %grant.id(), subject = %grant.subject(), record = %record, purpose = P::NAME, kind = K::KIND.name()), err(level = "info", Display)))]
    pub async fn disclose<K, P, R>(
        &self,
        grant: &Grant<P>,
        record: RecordId,
        disclosure: &Disclosure,
        f: impl FnOnce(&K) -> R,
    ) -> Result<R, CustodianError>
    where
        K: DataKind + UsableFor<P>,
        P: Purpose,
    {
        let matches = K::KIND == KindRef::Builtin(disclosure.kind())
            && P::ID == PurposeRef::Builtin(disclosure.purpose());
        if !matches {
            return Err(DisclosureError::Mismatch.into());
        }
        let out = self.with::<K, P, R>(grant, record, f).await?;
        let mut ev = AuditEvent::new(self.now(), AuditKind::Disclosed, grant.subject());
        ev.grant = Some(grant.id());
        ev.record = Some(record);
        ev.data_kind = Some(disclosure.kind().name().to_owned());
        ev.purpose = Some(disclosure.purpose().name().to_owned());
        ev.reference = Some(disclosure.audit_reference());
        self.commit(None, &[ev]).await?;
        Ok(out)
    }
}
