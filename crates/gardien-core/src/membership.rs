//! Memberships and their lifecycle:
//!
//! ```text
//! invited ──accept──▶ pending_activation ──activate──▶ active ◀──reactivate── suspended
//!    │       └──────────(no activation needed)────────▶   │  ──suspend──────────▶ │
//!    └──────────────▶ removed ◀───────────────────────────┴───────────────────────┘
//!                        └──restore──▶ active
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, MembershipId, OrganizationId, RoleId, ValidationError};

/// Whether the account works for the organization or is a client contact of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Staff,
    Client,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Staff => "staff",
            Kind::Client => "client",
        }
    }
}

impl FromStr for Kind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "staff" => Ok(Kind::Staff),
            "client" => Ok(Kind::Client),
            _ => Err(ValidationError::UnknownValue(
                s.to_owned(),
                "kind (staff, client)",
            )),
        }
    }
}

/// Where a membership stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Invited,
    PendingActivation,
    Active,
    Suspended,
    Removed,
}

impl MembershipStatus {
    pub const ALL: [MembershipStatus; 5] = [
        Self::Invited,
        Self::PendingActivation,
        Self::Active,
        Self::Suspended,
        Self::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::PendingActivation => "pending_activation",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Removed => "removed",
        }
    }

    /// Applies `change`, or says why the move is illegal.
    pub fn apply(self, change: StatusChange) -> Result<MembershipStatus, LifecycleError> {
        use MembershipStatus::*;
        use StatusChange::*;
        let next = match (self, change) {
            (
                Invited,
                Accept {
                    requires_activation: true,
                },
            ) => PendingActivation,
            (
                Invited,
                Accept {
                    requires_activation: false,
                },
            ) => Active,
            (PendingActivation, Activate) => Active,
            (Active, Suspend) => Suspended,
            (Suspended, Reactivate) => Active,
            (Invited | PendingActivation | Active | Suspended, Remove) => Removed,
            (Removed, Restore) => Active,
            (from, change) => return Err(LifecycleError::IllegalMove { from, change }),
        };
        Ok(next)
    }
}

impl fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MembershipStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| ValidationError::UnknownValue(s.to_owned(), "membership status"))
    }
}

/// A move in the membership lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// The invitee accepted; some organizations then require an administrator's activation.
    Accept {
        requires_activation: bool,
    },
    Activate,
    Suspend,
    Reactivate,
    Remove,
    Restore,
}

impl StatusChange {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusChange::Accept { .. } => "accept",
            StatusChange::Activate => "activate",
            StatusChange::Suspend => "suspend",
            StatusChange::Reactivate => "reactivate",
            StatusChange::Remove => "remove",
            StatusChange::Restore => "restore",
        }
    }
}

/// Why a lifecycle move is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("cannot {action} a membership that is {from}", action = change.as_str())]
    IllegalMove {
        from: MembershipStatus,
        change: StatusChange,
    },
    #[error("this is the organization's last active administrator: make someone else an administrator first")]
    LastAdministrator,
    #[error("this member owns the organization: they stay an active administrator until they hand the ownership over")]
    OwnerMustHandOver,
}

/// An account's place in one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub id: MembershipId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub kind: Kind,
    pub role_id: RoleId,
    pub status: MembershipStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The facts the last-administrator rule needs about one proposed change.
#[derive(Debug, Clone, Copy)]
pub struct AdministratorCount {
    /// The member is an active administrator now.
    pub target_is_active_administrator: bool,
    /// After the change, the member would still be an active administrator.
    pub target_stays_active_administrator: bool,
    /// Active administrators of the organization other than the member.
    pub other_active_administrators: usize,
    /// The member owns the organization.
    pub target_is_owner: bool,
}

/// "The last active administrator cannot be removed, suspended or demoted":
/// a change is refused when it would leave the organization without one.
///
/// The owner, too, stays an active administrator: to step down they hand
/// the ownership over first (which another administrator cannot undo for
/// them).
pub fn ensure_an_administrator_remains(facts: AdministratorCount) -> Result<(), LifecycleError> {
    let loses_one =
        facts.target_is_active_administrator && !facts.target_stays_active_administrator;
    if loses_one && facts.target_is_owner {
        Err(LifecycleError::OwnerMustHandOver)
    } else if loses_one && facts.other_active_administrators == 0 {
        Err(LifecycleError::LastAdministrator)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use MembershipStatus::*;
    use StatusChange::*;

    #[test]
    fn the_documented_path_works() {
        let s = Invited
            .apply(Accept {
                requires_activation: true,
            })
            .unwrap();
        assert_eq!(s, PendingActivation);
        let s = s.apply(Activate).unwrap();
        assert_eq!(s, Active);
        assert_eq!(s.apply(Suspend).unwrap(), Suspended);
        assert_eq!(Suspended.apply(Reactivate).unwrap(), Active);
        assert_eq!(Active.apply(Remove).unwrap(), Removed);
        assert_eq!(Removed.apply(Restore).unwrap(), Active);
        assert_eq!(
            Invited
                .apply(Accept {
                    requires_activation: false
                })
                .unwrap(),
            Active
        );
    }

    #[test]
    fn illegal_moves_are_refused() {
        assert!(Invited.apply(Activate).is_err());
        assert!(Active.apply(Activate).is_err());
        assert!(Removed.apply(Suspend).is_err());
        assert!(Removed.apply(Remove).is_err());
        assert!(Active.apply(Restore).is_err());
        assert!(PendingActivation.apply(Suspend).is_err());
        assert!(Suspended
            .apply(Accept {
                requires_activation: false
            })
            .is_err());
        let err = Active.apply(Reactivate).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot reactivate a membership that is active"
        );
    }

    #[test]
    fn last_administrator_cannot_leave() {
        let last = AdministratorCount {
            target_is_active_administrator: true,
            target_stays_active_administrator: false,
            other_active_administrators: 0,
            target_is_owner: false,
        };
        assert_eq!(
            ensure_an_administrator_remains(last),
            Err(LifecycleError::LastAdministrator)
        );
        assert!(ensure_an_administrator_remains(AdministratorCount {
            other_active_administrators: 1,
            ..last
        })
        .is_ok());
        assert!(ensure_an_administrator_remains(AdministratorCount {
            target_stays_active_administrator: true,
            ..last
        })
        .is_ok());
        assert!(ensure_an_administrator_remains(AdministratorCount {
            target_is_active_administrator: false,
            ..last
        })
        .is_ok());
    }

    #[test]
    fn the_owner_hands_over_before_stepping_down() {
        let owner = AdministratorCount {
            target_is_active_administrator: true,
            target_stays_active_administrator: false,
            other_active_administrators: 3,
            target_is_owner: true,
        };
        assert_eq!(
            ensure_an_administrator_remains(owner),
            Err(LifecycleError::OwnerMustHandOver)
        );
        assert!(ensure_an_administrator_remains(AdministratorCount {
            target_stays_active_administrator: true,
            ..owner
        })
        .is_ok());
        assert!(ensure_an_administrator_remains(AdministratorCount {
            target_is_owner: false,
            ..owner
        })
        .is_ok());
    }

    fn any_status() -> impl Strategy<Value = MembershipStatus> {
        prop::sample::select(MembershipStatus::ALL.to_vec())
    }
    fn any_change() -> impl Strategy<Value = StatusChange> {
        prop::sample::select(vec![
            Accept {
                requires_activation: true,
            },
            Accept {
                requires_activation: false,
            },
            Activate,
            Suspend,
            Reactivate,
            Remove,
            Restore,
        ])
    }

    proptest! {
        /// Only an accepted invitation can leave `invited` other than by removal,
        /// and nothing but `restore` leaves `removed`.
        #[test]
        fn lifecycle_invariants(from in any_status(), changes in prop::collection::vec(any_change(), 0..20)) {
            let mut status = from;
            for change in changes {
                if let Ok(next) = status.apply(change) {
                    if status == Invited && next != Removed {
                        let accepted = matches!(change, Accept { .. });
                        prop_assert!(accepted);
                    }
                    if status == Removed {
                        prop_assert_eq!(change, Restore);
                    }
                    prop_assert_ne!(next, Invited);
                    status = next;
                }
            }
        }

        #[test]
        fn status_names_round_trip(status in any_status()) {
            prop_assert_eq!(status.as_str().parse::<MembershipStatus>().unwrap(), status);
        }
    }
}
