//! Typed identifiers. Every id is a UUID (version 7, so ids sort by creation
//! time and make good cursors), wrapped so that an organization id can never
//! be passed where a membership id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies an [`crate::Account`]: one person.
    AccountId
);
id_type!(
    /// Identifies an [`crate::Organization`]: one tenant.
    OrganizationId
);
id_type!(
    /// Identifies a [`crate::Membership`]: an account's place in one organization.
    MembershipId
);
id_type!(
    /// Identifies a [`crate::Role`].
    RoleId
);
id_type!(
    /// Identifies an [`crate::invitation::Invitation`].
    InvitationId
);
id_type!(
    /// Identifies an [`crate::audit::AuditEvent`].
    AuditEventId
);
id_type!(
    /// Identifies a message of the mail outbox.
    MailId
);
id_type!(
    /// Identifies an API key of a host back end (the check API).
    ApiKeyId
);
id_type!(
    /// Identifies a webhook endpoint (see [`crate::webhook`]).
    WebhookEndpointId
);
id_type!(
    /// Identifies a webhook message: its `webhook-id` header, the same on
    /// every attempt, so that receivers recognise a retry.
    WebhookMessageId
);
