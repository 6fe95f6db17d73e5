//! [`AuthzIndex`]: the queries the check API answers, and the write side that
//! keeps them exact.
//!
//! Layout: `orgs` maps each organization to its own cell (`ArcSwap<OrgData>`).
//! A check is two atomic pointer loads and two hash lookups (organization,
//! then account), one more for the role, one for the permission's number, and
//! bit tests; nothing is locked, cloned or allocated.
//!
//! Writes are serialised by one mutex (the order is the version order anyway)
//! and never block readers: a writer copies the parts of one organization it
//! changes, then publishes the copy with one atomic store, so a reader sees
//! that organization wholly before or wholly after the change — a role edit
//! reaches its 10 000 holders at one instant. The map of organizations is
//! itself copied only when an organization appears or goes.
//!
//! Ordering rule: a writer interns a new permission *before* it publishes
//! organization data that uses its number, and each published organization
//! state carries the interner of its publication, so a reader decodes what
//! it reads with an interner that knows every number in it (one atomic load
//! per check instead of two). The interner is append-only, even across
//! [`AuthzIndex::load`].
//!
//! Each check reads one organization, so it sees one committed state. A batch
//! reads each organization once (all its requests about one organization see
//! the same state); a change spanning organizations (account deleted) is
//! published organization by organization.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use gardien_core::evaluator::{Decision, MemberFacts, Reason, ResourceRef};
use gardien_core::{AccountId, MembershipId, OrganizationId, PermissionKey};

use crate::change::{ApplyOutcome, Change, Snapshot, VersionedChange};
use crate::org::{deny, Member, OrgData, RoleEntry};
use crate::permset::Interner;

type OrgCell = ArcSwap<OrgData>;
type OrgMap = FxHashMap<OrganizationId, Arc<OrgCell>>;

/// The most requests the check API should accept in one batch.
pub const MAX_BATCH: usize = 1000;

/// One question of a batch: may `account_id` use `permission` in
/// `organization_id`, on `resource` when named?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub account_id: AccountId,
    pub organization_id: OrganizationId,
    pub permission: PermissionKey,
    #[serde(default)]
    pub resource: Option<ResourceRef>,
}

/// Which resources of one type a member may use with one permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visible {
    /// Every resource of the type: an unscoped role, or a grant override on
    /// an unscoped role, gives the permission.
    All,
    /// Only these resource ids (sorted): the member's role is scoped and these
    /// are the resources of the type assigned to them. May be empty.
    Only(Vec<String>),
    /// None: the member may not use the permission at all, for this reason.
    None { reason: Reason },
}

/// The in-memory authorization index of one Gardien instance.
///
/// Share it behind an `Arc`; every method takes `&self`.
pub struct AuthzIndex {
    orgs: ArcSwap<OrgMap>,
    interner: ArcSwap<Interner>,
    version: AtomicU64,
    writer: Mutex<Writer>,
}

/// What only writers touch.
#[derive(Default)]
struct Writer {
    version: u64,
    /// The interner as last published (shared with readers until it grows).
    interner: Arc<Interner>,
    /// Where each account has a membership, for `AccountDeleted`. May name an
    /// organization the account has since left; removal there is a no-op.
    account_orgs: FxHashMap<AccountId, SmallVec<[OrganizationId; 2]>>,
}

impl Default for AuthzIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AuthzIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthzIndex")
            .field("version", &self.version())
            .field("organizations", &self.orgs.load().len())
            .finish()
    }
}

impl AuthzIndex {
    /// An empty index at version 0: every check answers `not_a_member`.
    pub fn new() -> Self {
        Self {
            orgs: ArcSwap::from_pointee(OrgMap::default()),
            interner: ArcSwap::from_pointee(Interner::default()),
            version: AtomicU64::new(0),
            writer: Mutex::new(Writer::default()),
        }
    }

    /// An index holding `snapshot`.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let index = Self::new();
        index.load(snapshot);
        index
    }

    /// The version of the last change applied (or of the snapshot loaded).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    // ---------------------------------------------------------------- reads

    /// May `account` use `permission` in `organization` (on `resource`, when
    /// named)? The answer and its reason are those of
    /// [`gardien_core::evaluator::decide`] on the member's current facts.
    pub fn check(
        &self,
        account: AccountId,
        organization: OrganizationId,
        permission: &PermissionKey,
        resource: Option<&ResourceRef>,
    ) -> Decision {
        let orgs = self.orgs.load();
        let Some(cell) = orgs.get(&organization) else {
            return deny(Reason::NotAMember);
        };
        cell.load().evaluate(account, permission, resource)
    }

    /// Answers each request, in order. Requests about one organization are
    /// answered from one state of it.
    pub fn check_batch(&self, requests: &[CheckRequest]) -> Vec<Decision> {
        let orgs = self.orgs.load();
        let mut seen: FxHashMap<OrganizationId, Option<Arc<OrgData>>> = FxHashMap::default();
        let snapshots: Vec<Option<Arc<OrgData>>> = requests
            .iter()
            .map(|request| {
                seen.entry(request.organization_id)
                    .or_insert_with(|| orgs.get(&request.organization_id).map(|c| c.load_full()))
                    .clone()
            })
            .collect();
        requests
            .iter()
            .zip(snapshots)
            .map(|(request, org)| match org {
                Some(org) => org.evaluate(
                    request.account_id,
                    &request.permission,
                    request.resource.as_ref(),
                ),
                None => deny(Reason::NotAMember),
            })
            .collect()
    }

    /// Which resources of `resource_type` `account` may use `permission` on
    /// in `organization`. For every resource `r` of that type,
    /// `check(.., Some(r)).allowed` holds exactly when `r` is visible here.
    pub fn visible_resources(
        &self,
        account: AccountId,
        organization: OrganizationId,
        permission: &PermissionKey,
        resource_type: &str,
    ) -> Visible {
        self.with_member(organization, account, |member, role, interner| {
            let decision = member.evaluate(role, interner.get(permission), None);
            if !decision.allowed {
                return Visible::None {
                    reason: decision.reason,
                };
            }
            if !RoleEntry::is_scoped(role) {
                return Visible::All;
            }
            Visible::Only(member.assigned_ids(resource_type))
        })
        .unwrap_or(Visible::None {
            reason: Reason::NotAMember,
        })
    }

    /// The permissions `account` holds in `organization` after overrides;
    /// empty unless the membership is active.
    pub fn effective_permissions(
        &self,
        account: AccountId,
        organization: OrganizationId,
    ) -> BTreeSet<PermissionKey> {
        self.with_member(organization, account, |member, role, interner| {
            if member.status != gardien_core::MembershipStatus::Active {
                return BTreeSet::new();
            }
            let role_permissions = role.into_iter().flat_map(|r| r.permissions.iter());
            role_permissions
                .chain(member.grants.iter())
                .filter(|id| !member.denies.contains(*id))
                .filter_map(|id| interner.key(id).cloned())
                .collect()
        })
        .unwrap_or_default()
    }

    /// The memberships of `organization` that `resource` is assigned to,
    /// whatever their status, sorted by id.
    pub fn members_of_resource(
        &self,
        organization: OrganizationId,
        resource: &ResourceRef,
    ) -> Vec<MembershipId> {
        let orgs = self.orgs.load();
        orgs.get(&organization)
            .map(|cell| cell.load().members_of_resource(resource))
            .unwrap_or_default()
    }

    /// The member's facts in the core's plain form (what `decide` is given),
    /// or `None` when `account` has no membership in `organization`.
    pub fn member_facts(
        &self,
        account: AccountId,
        organization: OrganizationId,
    ) -> Option<MemberFacts> {
        self.with_member(organization, account, |member, role, interner| {
            member.facts(role, interner)
        })
    }

    fn with_member<R>(
        &self,
        organization: OrganizationId,
        account: AccountId,
        f: impl FnOnce(&Member, Option<&RoleEntry>, &Interner) -> R,
    ) -> Option<R> {
        let orgs = self.orgs.load();
        let org = orgs.get(&organization)?.load();
        let (member, role) = org.member(account)?;
        Some(f(member, role, &org.interner))
    }

    // --------------------------------------------------------------- writes

    /// Replaces the whole content with `snapshot`, at once for readers, and
    /// sets the version to the snapshot's.
    pub fn load(&self, snapshot: Snapshot) {
        let mut writer = self.lock_writer();
        // Append to the interner, never restart it: readers still holding
        // older organization data must keep decoding it.
        let interner = Arc::make_mut(&mut writer.interner);
        let mut data: FxHashMap<OrganizationId, OrgData> = FxHashMap::default();
        for role in &snapshot.roles {
            let entry = RoleEntry {
                permissions: interner.set_of(&role.permissions),
                scoped: role.scoped,
            };
            data.entry(role.organization_id)
                .or_default()
                .upsert_role(role.role_id, entry);
        }
        let mut account_orgs: FxHashMap<AccountId, SmallVec<[OrganizationId; 2]>> =
            FxHashMap::default();
        for m in &snapshot.memberships {
            let org = data.entry(m.organization_id).or_default();
            org.upsert_membership(m.membership_id, m.account_id, m.kind, m.status, m.role_id);
            for (key, effect) in &m.overrides {
                let id = interner.intern(key);
                org.edit_member(m.membership_id, |member| {
                    member.set_override(id, Some(*effect))
                });
            }
            for resource in &m.assignments {
                org.add_assignment(m.membership_id, resource);
            }
            let orgs = account_orgs.entry(m.account_id).or_default();
            if !orgs.contains(&m.organization_id) {
                orgs.push(m.organization_id);
            }
        }
        let orgs: OrgMap = data
            .into_iter()
            .map(|(id, mut org)| {
                org.interner = Arc::clone(&writer.interner);
                (id, Arc::new(ArcSwap::from_pointee(org)))
            })
            .collect();
        self.interner.store(Arc::clone(&writer.interner));
        self.orgs.store(Arc::new(orgs));
        writer.account_orgs = account_orgs;
        writer.version = snapshot.version;
        self.version.store(snapshot.version, Ordering::Release);
    }

    /// Applies one committed change if it is the next one (`version` = the
    /// index's version + 1). Once this returns `Applied`, every check that
    /// starts sees the change.
    pub fn apply(&self, change: &VersionedChange) -> ApplyOutcome {
        let mut writer = self.lock_writer();
        let expected = writer.version.saturating_add(1);
        if change.version < expected {
            return ApplyOutcome::Stale;
        }
        if change.version > expected {
            return ApplyOutcome::Gap {
                expected,
                got: change.version,
            };
        }
        self.apply_change(&mut writer, &change.change);
        writer.version = change.version;
        self.version.store(change.version, Ordering::Release);
        ApplyOutcome::Applied
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // Data is published only whole, so a writer that panicked left the
        // readers' view consistent; carry on rather than wedge every write.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn apply_change(&self, writer: &mut Writer, change: &Change) {
        match change {
            Change::MembershipUpserted {
                organization_id,
                membership_id,
                account_id,
                kind,
                status,
                role_id,
            } => {
                self.edit_org(*organization_id, true, |org, _| {
                    org.upsert_membership(*membership_id, *account_id, *kind, *status, *role_id)
                });
                let orgs = writer.account_orgs.entry(*account_id).or_default();
                if !orgs.contains(organization_id) {
                    orgs.push(*organization_id);
                }
            }
            Change::MembershipStatusChanged {
                organization_id,
                membership_id,
                status,
            } => self.edit_org(*organization_id, false, |org, _| {
                org.edit_member(*membership_id, |m| m.status = *status)
            }),
            Change::MembershipRoleChanged {
                organization_id,
                membership_id,
                role_id,
            } => self.edit_org(*organization_id, false, |org, _| {
                org.edit_member(*membership_id, |m| m.role_id = *role_id)
            }),
            Change::RoleUpserted {
                organization_id,
                role_id,
                permissions,
                scoped,
            } => {
                self.intern(writer, permissions.iter());
                self.edit_org(*organization_id, true, |org, interner| {
                    let mut entry = RoleEntry {
                        permissions: Default::default(),
                        scoped: *scoped,
                    };
                    for id in permissions.iter().filter_map(|k| interner.get(k)) {
                        entry.permissions.insert(id);
                    }
                    org.upsert_role(*role_id, entry)
                })
            }
            Change::RoleDeleted {
                organization_id,
                role_id,
            } => self.edit_org(*organization_id, false, |org, _| org.delete_role(*role_id)),
            Change::OverrideSet {
                organization_id,
                membership_id,
                permission,
                effect,
            } => {
                self.intern(writer, [permission]);
                self.edit_org(*organization_id, false, |org, interner| {
                    if let Some(id) = interner.get(permission) {
                        org.edit_member(*membership_id, |m| m.set_override(id, Some(*effect)))
                    }
                })
            }
            Change::OverrideCleared {
                organization_id,
                membership_id,
                permission,
            } => self.edit_org(*organization_id, false, |org, interner| {
                if let Some(id) = interner.get(permission) {
                    org.edit_member(*membership_id, |m| m.set_override(id, None))
                }
            }),
            Change::AssignmentAdded {
                organization_id,
                membership_id,
                resource,
            } => self.edit_org(*organization_id, false, |org, _| {
                org.add_assignment(*membership_id, resource)
            }),
            Change::AssignmentRemoved {
                organization_id,
                membership_id,
                resource,
            } => self.edit_org(*organization_id, false, |org, _| {
                org.remove_assignment(*membership_id, resource)
            }),
            Change::OrganizationRemoved { organization_id } => {
                let orgs = self.orgs.load_full();
                let Some(cell) = orgs.get(organization_id) else {
                    return;
                };
                let removed = cell.load_full();
                let mut next = OrgMap::clone(&orgs);
                next.remove(organization_id);
                self.orgs.store(Arc::new(next));
                for account in removed.account_ids() {
                    if let Some(list) = writer.account_orgs.get_mut(&account) {
                        list.retain(|o| o != organization_id);
                        if list.is_empty() {
                            writer.account_orgs.remove(&account);
                        }
                    }
                }
            }
            Change::AccountDeleted { account_id } => {
                for organization_id in writer.account_orgs.remove(account_id).unwrap_or_default() {
                    self.edit_org(organization_id, false, |org, _| {
                        org.remove_account(*account_id)
                    });
                }
            }
        }
    }

    /// Gives numbers to keys never seen, publishing the grown interner before
    /// any data that uses them.
    fn intern<'a>(&self, writer: &mut Writer, keys: impl IntoIterator<Item = &'a PermissionKey>) {
        let mut grown = false;
        for key in keys {
            if writer.interner.get(key).is_none() {
                Arc::make_mut(&mut writer.interner).intern(key);
                grown = true;
            }
        }
        if grown {
            self.interner.store(Arc::clone(&writer.interner));
        }
    }

    /// Copies `organization`'s data, lets `edit` change the copy, publishes it.
    /// An unknown organization is created when `create`, else left alone.
    fn edit_org(
        &self,
        organization: OrganizationId,
        create: bool,
        edit: impl FnOnce(&mut OrgData, &Interner),
    ) {
        let interner = self.interner.load();
        let orgs = self.orgs.load();
        match orgs.get(&organization) {
            Some(cell) => {
                let mut data = OrgData::clone(&cell.load());
                edit(&mut data, &interner);
                data.interner = Arc::clone(&interner);
                cell.store(Arc::new(data));
            }
            None if create => {
                let mut data = OrgData::default();
                edit(&mut data, &interner);
                data.interner = Arc::clone(&interner);
                let mut next = OrgMap::clone(&orgs);
                next.insert(organization, Arc::new(ArcSwap::from_pointee(data)));
                self.orgs.store(Arc::new(next));
            }
            None => {}
        }
    }
}
