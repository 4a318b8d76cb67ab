//! [`Personal`]: a value of personal data bound to its subject.

use core::fmt;

use super::DataKind;
use crate::ids::SubjectId;

/// A value of personal data together with the subject it belongs to.
///
/// The value can only be read through
/// [`Custodian::expose`](crate::custodian::Custodian::expose) with a grant the custodian
/// issued, whose purpose the policy table allows for this kind (checked by the compiler),
/// for this subject, and which passes the custodian's gate (checked at run time; the read
/// is audited). `Debug` prints a redaction.
pub struct Personal<T: DataKind> {
    pub(crate) subject: SubjectId,
    pub(crate) value: T,
}

impl<T: DataKind> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Personal")
            .field("subject", &self.subject)
            .field("kind", &T::KIND.name())
            .field("value", &"<redacted>")
            .finish()
    }
}

impl<T: DataKind> Personal<T> {
    /// Binds `value` to its subject.
    #[must_use]
    pub const fn new(subject: SubjectId, value: T) -> Self {
        Self { subject, value }
    }

    /// The subject the value belongs to.
    #[must_use]
    pub const fn subject(&self) -> SubjectId {
        self.subject
    }
}
