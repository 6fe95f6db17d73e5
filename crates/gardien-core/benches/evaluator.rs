//! How long one permission decision takes in process (the check API's core):
//! `cargo bench -p gardien-core --bench evaluator`.

use std::collections::{BTreeMap, BTreeSet};

use criterion::{criterion_group, criterion_main, Criterion};
use gardien_core::evaluator::{decide, MemberFacts, OverrideEffect, ResourceRef};
use gardien_core::permission::DEFAULT_CATALOG;
use gardien_core::{MembershipStatus, PermissionKey, RoleId};

fn facts(scoped: bool, assignments: usize) -> MemberFacts {
    let key = |k: &str| PermissionKey::parse(k).expect("valid key");
    MemberFacts {
        status: MembershipStatus::Active,
        role_id: RoleId::new(),
        role_permissions: DEFAULT_CATALOG.iter().map(|e| key(e.key)).collect(),
        role_scoped: scoped,
        overrides: BTreeMap::from([(key("orders.place"), OverrideEffect::Deny)]),
        assignments: (0..assignments)
            .map(|i| ResourceRef {
                resource_type: "order".into(),
                resource_id: i.to_string(),
            })
            .collect::<BTreeSet<_>>(),
    }
}

fn bench(c: &mut Criterion) {
    let read = PermissionKey::parse("orders.read").expect("valid key");
    let unscoped = facts(false, 0);
    let scoped = facts(true, 1_000);
    let assigned = ResourceRef {
        resource_type: "order".into(),
        resource_id: "500".into(),
    };
    let other = ResourceRef {
        resource_type: "order".into(),
        resource_id: "5000".into(),
    };
    c.bench_function("decide/role", |b| {
        b.iter(|| decide(Some(&unscoped), &read, None))
    });
    c.bench_function("decide/scoped_assigned_of_1000", |b| {
        b.iter(|| decide(Some(&scoped), &read, Some(&assigned)))
    });
    c.bench_function("decide/scoped_not_assigned", |b| {
        b.iter(|| decide(Some(&scoped), &read, Some(&other)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
