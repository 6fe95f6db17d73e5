//! How fast the index answers and changes:
//! `cargo bench -p gardien-authz --bench index`.
//!
//! The main index holds 1 000 organizations × 100 members (100 000
//! memberships); in the first organization one scoped member has 1 000
//! assignments and one member has a deny override. Writes are measured on a
//! separate organization of 10 000 members.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gardien_authz::{
    ApplyOutcome, AuthzIndex, Change, CheckRequest, MembershipSnapshot, RoleSnapshot, Snapshot,
    VersionedChange,
};
use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::permission::DEFAULT_CATALOG;
use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, PermissionKey, RoleId,
};

const ORGANIZATIONS: usize = 1_000;
const MEMBERS: usize = 100;
const ASSIGNMENTS: usize = 1_000;

fn key(k: &str) -> PermissionKey {
    PermissionKey::parse(k).expect("valid key")
}

fn order(i: usize) -> ResourceRef {
    ResourceRef {
        resource_type: "order".into(),
        resource_id: i.to_string(),
    }
}

/// Organizations with the built-in roles; member `i` holds role `i % roles`.
struct World {
    snapshot: Snapshot,
    organizations: Vec<OrganizationId>,
    /// accounts[org][member]
    accounts: Vec<Vec<AccountId>>,
    roles: Vec<Vec<RoleId>>,
    memberships: Vec<Vec<MembershipId>>,
}

fn world(organizations: usize, members: usize) -> World {
    let mut w = World {
        snapshot: Snapshot {
            version: 1,
            ..Snapshot::default()
        },
        organizations: Vec::new(),
        accounts: Vec::new(),
        roles: Vec::new(),
        memberships: Vec::new(),
    };
    for _ in 0..organizations {
        let org = OrganizationId::new();
        let roles: Vec<RoleId> = BUILT_IN_ROLES.iter().map(|_| RoleId::new()).collect();
        for (template, role_id) in BUILT_IN_ROLES.iter().zip(&roles) {
            w.snapshot.roles.push(RoleSnapshot {
                organization_id: org,
                role_id: *role_id,
                permissions: template.permissions(),
                scoped: template.scoped,
            });
        }
        let mut accounts = Vec::new();
        let mut memberships = Vec::new();
        for i in 0..members {
            let (account, membership) = (AccountId::new(), MembershipId::new());
            w.snapshot.memberships.push(MembershipSnapshot {
                organization_id: org,
                membership_id: membership,
                account_id: account,
                kind: if i % 3 == 0 {
                    Kind::Client
                } else {
                    Kind::Staff
                },
                status: MembershipStatus::Active,
                role_id: roles[i % roles.len()],
                overrides: BTreeMap::new(),
                assignments: Vec::new(),
            });
            accounts.push(account);
            memberships.push(membership);
        }
        w.organizations.push(org);
        w.accounts.push(accounts);
        w.roles.push(roles);
        w.memberships.push(memberships);
    }
    w
}

/// Index of the built-in role with this template key.
fn role_index(template: &str) -> usize {
    BUILT_IN_ROLES
        .iter()
        .position(|t| t.key == template)
        .expect("built-in role")
}

fn bench_reads(c: &mut Criterion) {
    let mut w = world(ORGANIZATIONS, MEMBERS);
    let admin = role_index("administrator");
    let user = role_index("user");
    // Member 0 of the first organization: administrator. Member 1: administrator
    // with a deny override on orders.place. Member 2: scoped user with 1 000 orders.
    let org = w.organizations[0];
    let members = &mut w.snapshot.memberships[..MEMBERS];
    members[0].role_id = w.roles[0][admin];
    members[1].role_id = w.roles[0][admin];
    members[1]
        .overrides
        .insert(key("orders.place"), OverrideEffect::Deny);
    members[2].role_id = w.roles[0][user];
    members[2].assignments = (0..ASSIGNMENTS).map(order).collect();
    let index = AuthzIndex::from_snapshot(w.snapshot.clone());
    let (admin_account, denied_account, scoped_account) =
        (w.accounts[0][0], w.accounts[0][1], w.accounts[0][2]);
    let stranger = AccountId::new();
    let (read, place) = (key("orders.read"), key("orders.place"));
    let (assigned, unassigned) = (order(500), order(5_000));

    assert!(index.check(admin_account, org, &read, None).allowed);
    assert!(!index.check(denied_account, org, &place, None).allowed);
    assert!(
        index
            .check(scoped_account, org, &read, Some(&assigned))
            .allowed
    );
    assert!(
        !index
            .check(scoped_account, org, &read, Some(&unassigned))
            .allowed
    );

    c.bench_function("check/role_allowed", |b| {
        b.iter(|| index.check(black_box(admin_account), org, black_box(&read), None))
    });
    c.bench_function("check/override_denied", |b| {
        b.iter(|| index.check(black_box(denied_account), org, black_box(&place), None))
    });
    c.bench_function("check/scoped_assigned_of_1000", |b| {
        b.iter(|| {
            index.check(
                black_box(scoped_account),
                org,
                &read,
                Some(black_box(&assigned)),
            )
        })
    });
    c.bench_function("check/scoped_not_assigned", |b| {
        b.iter(|| {
            index.check(
                black_box(scoped_account),
                org,
                &read,
                Some(black_box(&unassigned)),
            )
        })
    });
    c.bench_function("check/non_member", |b| {
        b.iter(|| index.check(black_box(stranger), org, black_box(&read), None))
    });

    // A batch of 1 000 spread over the whole index, with and without resources.
    let batch: Vec<CheckRequest> = (0..1_000)
        .map(|i| {
            let o = (i * 7919) % ORGANIZATIONS;
            CheckRequest {
                account_id: w.accounts[o][(i * 31) % MEMBERS],
                organization_id: w.organizations[o],
                permission: key(DEFAULT_CATALOG[i % DEFAULT_CATALOG.len()].key),
                resource: (i % 2 == 0).then(|| order(i)),
            }
        })
        .collect();
    c.bench_function("check_batch/1000", |b| {
        b.iter(|| index.check_batch(black_box(&batch)))
    });

    c.bench_function("visible_resources/unscoped_all", |b| {
        b.iter(|| index.visible_resources(black_box(admin_account), org, &read, "order"))
    });
    c.bench_function("visible_resources/scoped_1000_assigned", |b| {
        b.iter(|| index.visible_resources(black_box(scoped_account), org, &read, "order"))
    });
    c.bench_function("effective_permissions/administrator", |b| {
        b.iter(|| index.effective_permissions(black_box(admin_account), org))
    });
    c.bench_function("members_of_resource/one_holder", |b| {
        b.iter(|| index.members_of_resource(org, black_box(&assigned)))
    });

    // Checks per second with two threads reading at once (reported as time per
    // check: checks/s = 1e9 / ns).
    let requests: Vec<(AccountId, OrganizationId, PermissionKey)> = (0..4_096)
        .map(|i| {
            let o = (i * 7919) % ORGANIZATIONS;
            (
                w.accounts[o][(i * 31) % MEMBERS],
                w.organizations[o],
                key(DEFAULT_CATALOG[i % DEFAULT_CATALOG.len()].key),
            )
        })
        .collect();
    let mut group = c.benchmark_group("throughput");
    group.measurement_time(Duration::from_secs(5));
    for threads in [1usize, 2] {
        group.bench_function(format!("check_{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters / threads as u64 + 1;
                let start = Instant::now();
                thread::scope(|s| {
                    for t in 0..threads {
                        let (index, requests) = (&index, &requests);
                        s.spawn(move || {
                            let mut allowed = 0u64;
                            for i in 0..per_thread as usize {
                                let (a, o, p) = &requests[(i + t * 997) % requests.len()];
                                allowed += index.check(*a, *o, p, None).allowed as u64;
                            }
                            black_box(allowed)
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn bench_writes(c: &mut Criterion) {
    let w = world(1, 10_000);
    let index = AuthzIndex::from_snapshot(w.snapshot.clone());
    let org = w.organizations[0];
    let mail = w.roles[0][role_index("mail_management")];
    let member = w.memberships[0][0];

    let mut version = index.version();
    c.bench_function("apply/role_permissions_10000_members", |b| {
        b.iter_batched(
            || {
                version += 1;
                let extra = if version % 2 == 0 {
                    "mail.read"
                } else {
                    "invoices.read"
                };
                VersionedChange {
                    version,
                    change: Change::RoleUpserted {
                        organization_id: org,
                        role_id: mail,
                        permissions: [key("mail.download"), key(extra)].into(),
                        scoped: false,
                    },
                }
            },
            |change| index.apply(&change),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("apply/suspend_or_reactivate_in_10000_members", |b| {
        b.iter_batched(
            || {
                version += 1;
                let status = if version % 2 == 0 {
                    MembershipStatus::Suspended
                } else {
                    MembershipStatus::Active
                };
                VersionedChange {
                    version,
                    change: Change::MembershipStatusChanged {
                        organization_id: org,
                        membership_id: member,
                        status,
                    },
                }
            },
            |change| index.apply(&change),
            BatchSize::SmallInput,
        )
    });
    let small = world(1, MEMBERS);
    let small_index = AuthzIndex::from_snapshot(small.snapshot.clone());
    let mut small_version = small_index.version();
    c.bench_function("apply/suspend_or_reactivate_in_100_members", |b| {
        b.iter_batched(
            || {
                small_version += 1;
                let status = if small_version % 2 == 0 {
                    MembershipStatus::Suspended
                } else {
                    MembershipStatus::Active
                };
                VersionedChange {
                    version: small_version,
                    change: Change::MembershipStatusChanged {
                        organization_id: small.organizations[0],
                        membership_id: small.memberships[0][0],
                        status,
                    },
                }
            },
            |change| small_index.apply(&change),
            BatchSize::SmallInput,
        )
    });
    // Every change above was the next one.
    assert_eq!(index.version(), version);
    let stale = VersionedChange {
        version,
        change: Change::AccountDeleted {
            account_id: AccountId::new(),
        },
    };
    assert_eq!(index.apply(&stale), ApplyOutcome::Stale);

    let big = world(ORGANIZATIONS, MEMBERS);
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("100000_memberships", |b| {
        b.iter_batched(
            || big.snapshot.clone(),
            AuthzIndex::from_snapshot,
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_reads, bench_writes);
criterion_main!(benches);
