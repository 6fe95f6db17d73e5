//! Readers checking while a writer changes access: no read ever observes a
//! state that was never committed, and a role edit reaches all its holders at
//! one instant.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use gardien_authz::{
    AuthzIndex, Change, CheckRequest, MembershipSnapshot, RoleSnapshot, Snapshot, VersionedChange,
};
use gardien_core::evaluator::Reason;
use gardien_core::{AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, RoleId};
use support::{key, keys};

const HOLDERS: usize = 10_000;
const WRITES: u64 = 400;
/// Writers keep going until readers have read this often, so reads and
/// writes really interleave whatever the machine's speed.
const READS: u64 = 5_000;

struct World {
    index: Arc<AuthzIndex>,
    org: OrganizationId,
    role: RoleId,
    accounts: Vec<AccountId>,
    memberships: Vec<MembershipId>,
}

/// One organization of 10 000 holders of one role granting `mail.read`.
fn world() -> World {
    let org = OrganizationId::new();
    let role = RoleId::new();
    let accounts: Vec<AccountId> = (0..HOLDERS).map(|_| AccountId::new()).collect();
    let memberships: Vec<MembershipId> = (0..HOLDERS).map(|_| MembershipId::new()).collect();
    let snapshot = Snapshot {
        version: 1,
        roles: vec![RoleSnapshot {
            organization_id: org,
            role_id: role,
            permissions: keys(&["mail.read"]),
            scoped: false,
        }],
        memberships: accounts
            .iter()
            .zip(&memberships)
            .map(|(a, m)| MembershipSnapshot {
                organization_id: org,
                membership_id: *m,
                account_id: *a,
                kind: Kind::Staff,
                status: MembershipStatus::Active,
                role_id: role,
                overrides: Default::default(),
                assignments: vec![],
            })
            .collect(),
    };
    World {
        index: Arc::new(AuthzIndex::from_snapshot(snapshot)),
        org,
        role,
        accounts,
        memberships,
    }
}

fn role_edit(w: &World, version: u64, permission: &str) -> VersionedChange {
    VersionedChange {
        version,
        change: Change::RoleUpserted {
            organization_id: w.org,
            role_id: w.role,
            permissions: keys(&[permission]),
            scoped: false,
        },
    }
}

#[test]
fn role_edit_is_seen_by_all_ten_thousand_holders_at_once() {
    let w = world();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let index = Arc::clone(&w.index);
            let done = Arc::clone(&done);
            let reads = Arc::clone(&reads);
            let org = w.org;
            // Holders spread over the whole organization.
            let batch: Vec<CheckRequest> = w
                .accounts
                .iter()
                .skip(r)
                .step_by(HOLDERS / 500)
                .map(|a| CheckRequest {
                    account_id: *a,
                    organization_id: org,
                    permission: key("mail.read"),
                    resource: None,
                })
                .collect();
            thread::spawn(move || {
                let (mut granted, mut denied) = (0u64, 0u64);
                while !done.load(Ordering::Acquire) {
                    let answers = index.check_batch(&batch);
                    let allowed = answers.iter().filter(|d| d.allowed).count();
                    assert!(
                        allowed == 0 || allowed == answers.len(),
                        "{allowed} of {} holders saw the edit",
                        answers.len()
                    );
                    if allowed == 0 {
                        denied += 1
                    } else {
                        granted += 1
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                    let mine = index.effective_permissions(batch[0].account_id, org);
                    assert!(
                        mine == keys(&["mail.read"]) || mine == keys(&["invoices.read"]),
                        "{mine:?}"
                    );
                }
                (granted, denied)
            })
        })
        .collect();
    let mut version = 1;
    while (version < WRITES || reads.load(Ordering::Relaxed) < READS)
        && !readers.iter().any(|r| r.is_finished())
    {
        version += 1;
        let permission = if version % 2 == 0 {
            "invoices.read"
        } else {
            "mail.read"
        };
        assert_eq!(
            w.index.apply(&role_edit(&w, version, permission)),
            gardien_authz::ApplyOutcome::Applied
        );
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        let (granted, denied) = reader.join().expect("reader panicked");
        assert!(granted + denied > 0);
    }
}

#[test]
fn readers_never_see_a_state_that_was_never_committed() {
    let w = world();
    let target = w.accounts[0];
    let membership = w.memberships[0];
    let bystander = w.accounts[HOLDERS - 1];
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let index = Arc::clone(&w.index);
            let done = Arc::clone(&done);
            let reads = Arc::clone(&reads);
            let org = w.org;
            let ask = move |permission: &str, account| CheckRequest {
                account_id: account,
                organization_id: org,
                permission: key(permission),
                resource: None,
            };
            let batch = vec![
                ask("mail.read", target),
                ask("invoices.read", target),
                ask("mail.read", bystander),
                ask("invoices.read", bystander),
            ];
            thread::spawn(move || {
                let mut last_version = 0;
                let mut suspended_seen = 0u64;
                while !done.load(Ordering::Acquire) {
                    let version = index.version();
                    assert!(version >= last_version, "version went back");
                    last_version = version;
                    let d = index.check_batch(&batch);
                    // Committed states: role holds exactly one of the two keys; the
                    // target is active or suspended. Never both keys, never neither
                    // (while active), never a mix of the two roles across members.
                    match (&d[0].reason, &d[1].reason) {
                        (Reason::Suspended, Reason::Suspended) => suspended_seen += 1,
                        (Reason::GrantedByRole { .. }, Reason::NoPermission)
                        | (Reason::NoPermission, Reason::GrantedByRole { .. }) => {
                            assert_eq!(
                                (d[0].allowed, d[1].allowed),
                                (d[2].allowed, d[3].allowed),
                                "holders disagree"
                            );
                        }
                        other => panic!("uncommitted state observed: {other:?}"),
                    }
                    assert!(d[2].allowed != d[3].allowed, "bystander: {:?}", &d[2..]);
                    // A single check too: the target's effective permissions are
                    // one committed role, or nothing while suspended.
                    let mine = index.effective_permissions(target, org);
                    assert!(mine.len() <= 1, "{mine:?}");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                suspended_seen
            })
        })
        .collect();
    let mut version = 1;
    let mut next = |change: Change| {
        version += 1;
        assert_eq!(
            w.index.apply(&VersionedChange { version, change }),
            gardien_authz::ApplyOutcome::Applied
        );
    };
    let mut round = 0;
    while (round < WRITES / 4 || reads.load(Ordering::Relaxed) < READS)
        && !readers.iter().any(|r| r.is_finished())
    {
        round += 1;
        let permission = if round % 2 == 0 {
            "invoices.read"
        } else {
            "mail.read"
        };
        next(Change::RoleUpserted {
            organization_id: w.org,
            role_id: w.role,
            permissions: keys(&[permission]),
            scoped: false,
        });
        for status in [MembershipStatus::Suspended, MembershipStatus::Active] {
            next(Change::MembershipStatusChanged {
                organization_id: w.org,
                membership_id: membership,
                status,
            });
        }
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        reader.join().expect("reader panicked");
    }
}
