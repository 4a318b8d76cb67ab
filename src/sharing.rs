//! Sharing with colleagues and external chat participants (clause 5): the subject decides,
//! per kind of data, what each audience may see. Nothing is visible by default.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::data::Category;
use crate::purpose::PurposeId;

/// Who may see shared data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Colleagues in the team (read through `TeamCollaboration` grants).
    Colleagues,
    /// External participants in a chat (read through `ChatSharing` grants).
    ExternalChat,
}

impl Audience {
    /// The purpose a view for this audience is read under.
    #[must_use]
    pub const fn purpose(self) -> PurposeId {
        match self {
            Self::Colleagues => PurposeId::TeamCollaboration,
            Self::ExternalChat => PurposeId::ChatSharing,
        }
    }
}

/// Why a sharing choice was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SharingError {
    /// The policy table does not allow this kind for the audience's purpose.
    #[error("{kind} cannot be shared with {audience:?}")]
    NotShareable {
        /// Kind.
        kind: &'static str,
        /// Audience.
        audience: Audience,
    },
}

/// The subject's choices: which kinds each audience sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingPolicy {
    colleagues: BTreeSet<Category>,
    external_chat: BTreeSet<Category>,
}

impl SharingPolicy {
    /// Nothing shared.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, audience: Audience) -> &mut BTreeSet<Category> {
        match audience {
            Audience::Colleagues => &mut self.colleagues,
            Audience::ExternalChat => &mut self.external_chat,
        }
    }

    /// Lets `audience` see `kind`.
    ///
    /// # Errors
    /// [`SharingError::NotShareable`] when the policy table does not allow the kind for the
    /// audience's purpose (device contacts, provider ids and tokens are never shared).
    pub fn allow(&mut self, audience: Audience, kind: Category) -> Result<&mut Self, SharingError> {
        if !crate::policy::permits(kind, audience.purpose()) {
            return Err(SharingError::NotShareable {
                kind: kind.name(),
                audience,
            });
        }
        self.set(audience).insert(kind);
        Ok(self)
    }

    /// Stops sharing `kind` with `audience`.
    pub fn hide(&mut self, audience: Audience, kind: Category) -> &mut Self {
        self.set(audience).remove(&kind);
        self
    }

    /// Whether `audience` may see `kind`.
    #[must_use]
    pub fn allows(&self, audience: Audience, kind: Category) -> bool {
        match audience {
            Audience::Colleagues => self.colleagues.contains(&kind),
            Audience::ExternalChat => self.external_chat.contains(&kind),
        }
    }

    /// Whether `audience` may see anything at all.
    #[must_use]
    pub fn shares_any(&self, audience: Audience) -> bool {
        match audience {
            Audience::Colleagues => !self.colleagues.is_empty(),
            Audience::ExternalChat => !self.external_chat.is_empty(),
        }
    }
}
