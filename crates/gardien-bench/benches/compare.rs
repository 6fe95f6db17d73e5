//! Gardien's index against casbin and cedar-policy on the same decisions, in
//! one run: `cargo bench -p gardien-bench --bench compare`.
//!
//! The data set is `gardien_bench::DataSet` (issue 5's size). Our index
//! holds all of it. casbin and cedar hold the first `ENGINE_ORGANIZATIONS`
//! organizations (`GARDIEN_BENCH_ENGINE_ORGS` overrides it), which contain
//! every organization the queries ask about; their per-check cost does not
//! grow with the number of organizations (both look the member up by key),
//! only their load time and memory do.
//!
//! Before timing, every query of the mix is asked of the three engines and
//! their answers must be equal (and be the index's, which its own tests hold
//! equal to `gardien_core::evaluator::decide`).
//!
//! The models (written down in bench/README.md):
//! - casbin: RBAC with domains (`g = _, _, _`, the organization is the
//!   domain) holding every fact as a role link, and ONE policy line, so that
//!   an enforce evaluates its matcher once (casbin scans policy lines one by
//!   one): account → role, role → `perm:<key>` (or `scoped:<key>` for a
//!   scoped role), grant override account → `perm:`/`scoped:<key>`, deny
//!   override account → `deny:<key>`, assignment `res:<type>/<id>` →
//!   account, and account → `status:<status>` for every member so that a
//!   member is always a node. Only active memberships get role, override and
//!   assignment links.
//! - cedar: one `Member` entity per membership (uid `<account>@<org>`, built
//!   by the caller from the request) with `active`, `role` (a `Role` entity
//!   with `perms`, a set of actions, and `scoped`), `grants`, `denies` and
//!   `assigned`; actions are the permission keys; the resource is the
//!   `Org` when none is named, else `Resource::"<type>/<id>"`; three
//!   policies (role or grant permit, for the organization and for a
//!   resource; deny-override forbid).

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;

use casbin::prelude::*;
use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicySet, Request, RestrictedExpression,
};
use criterion::{criterion_group, criterion_main, Criterion};
use gardien_authz::{AuthzIndex, Snapshot, Visible};
use gardien_bench::{counts, DataSet, Query, QueryKind, Shape, SEED};
use gardien_core::evaluator::OverrideEffect;
use gardien_core::{MembershipStatus, OrganizationId, PermissionKey};

/// The allocator of the `gardien` binary, so that what allocates (casbin,
/// cedar, listing resources) costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Organizations loaded into casbin and cedar (the first ones).
const ENGINE_ORGANIZATIONS: usize = 1_000;

// ------------------------------------------------------------------ casbin

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = !g(r.sub, "deny:" + r.act, r.dom) && (g(r.sub, "perm:" + r.act, r.dom) || (g(r.sub, "scoped:" + r.act, r.dom) && (r.obj == "" || g("res:" + r.obj, r.sub, r.dom))))
"#;

fn casbin_links(snapshot: &Snapshot) -> Vec<Vec<String>> {
    let scoped: HashMap<_, bool> = snapshot
        .roles
        .iter()
        .map(|r| (r.role_id, r.scoped))
        .collect();
    let mut links = Vec::new();
    for role in &snapshot.roles {
        let dom = role.organization_id.to_string();
        let prefix = if role.scoped { "scoped" } else { "perm" };
        for p in &role.permissions {
            links.push(vec![
                role.role_id.to_string(),
                format!("{prefix}:{p}"),
                dom.clone(),
            ]);
        }
    }
    for m in &snapshot.memberships {
        let (sub, dom) = (m.account_id.to_string(), m.organization_id.to_string());
        links.push(vec![
            sub.clone(),
            format!("status:{}", m.status.as_str()),
            dom.clone(),
        ]);
        if m.status != MembershipStatus::Active {
            continue;
        }
        links.push(vec![sub.clone(), m.role_id.to_string(), dom.clone()]);
        let prefix = if scoped.get(&m.role_id).copied().unwrap_or(true) {
            "scoped"
        } else {
            "perm"
        };
        for (p, effect) in &m.overrides {
            let target = match effect {
                OverrideEffect::Grant => format!("{prefix}:{p}"),
                OverrideEffect::Deny => format!("deny:{p}"),
            };
            links.push(vec![sub.clone(), target, dom.clone()]);
        }
        for r in &m.assignments {
            links.push(vec![
                format!("res:{}/{}", r.resource_type, r.resource_id),
                sub.clone(),
                dom.clone(),
            ]);
        }
    }
    links
}

async fn casbin_enforcer(snapshot: &Snapshot) -> Enforcer {
    let model = DefaultModel::from_str(CASBIN_MODEL)
        .await
        .expect("casbin model");
    let mut adapter = MemoryAdapter::default();
    casbin::Adapter::add_policies(&mut adapter, "p", "p", vec![vec!["allow".to_owned()]])
        .await
        .expect("policy");
    casbin::Adapter::add_policies(&mut adapter, "g", "g", casbin_links(snapshot))
        .await
        .expect("links");
    Enforcer::new(model, adapter).await.expect("enforcer")
}

/// A query as casbin is asked it (strings built once, before timing).
struct CasbinQuery {
    sub: String,
    dom: String,
    obj: String,
    act: String,
}

fn casbin_query(q: &Query) -> CasbinQuery {
    CasbinQuery {
        sub: q.account.to_string(),
        dom: q.organization.to_string(),
        obj: q
            .resource
            .as_ref()
            .map(|r| format!("{}/{}", r.resource_type, r.resource_id))
            .unwrap_or_default(),
        act: q.permission.to_string(),
    }
}

fn casbin_check(e: &Enforcer, q: &CasbinQuery) -> bool {
    e.enforce((&q.sub, &q.dom, &q.obj, &q.act))
        .expect("casbin enforce")
}

// ------------------------------------------------------------------- cedar

const CEDAR_POLICIES: &str = r#"
permit (principal is Gardien::Member, action, resource is Gardien::Org)
when {
  principal has active && principal.active &&
  (principal.grants.contains(action) || principal.role.perms.contains(action))
};
permit (principal is Gardien::Member, action, resource is Gardien::Resource)
when {
  principal has active && principal.active &&
  (principal.grants.contains(action) || principal.role.perms.contains(action)) &&
  (!principal.role.scoped || principal.assigned.contains(resource))
};
forbid (principal is Gardien::Member, action, resource)
when { principal has denies && principal.denies.contains(action) };
"#;

struct CedarTypes {
    member: EntityTypeName,
    role: EntityTypeName,
    action: EntityTypeName,
    org: EntityTypeName,
    resource: EntityTypeName,
}

impl CedarTypes {
    fn new() -> Self {
        let t = |s: &str| EntityTypeName::from_str(s).expect("type name");
        Self {
            member: t("Gardien::Member"),
            role: t("Gardien::Role"),
            action: t("Gardien::Action"),
            org: t("Gardien::Org"),
            resource: t("Gardien::Resource"),
        }
    }
    fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }
    fn member(&self, account: impl std::fmt::Display, org: OrganizationId) -> EntityUid {
        Self::uid(&self.member, &format!("{account}@{org}"))
    }
    fn action(&self, p: &PermissionKey) -> EntityUid {
        Self::uid(&self.action, p.as_str())
    }
    fn action_set(&self, keys: impl Iterator<Item = PermissionKey>) -> RestrictedExpression {
        RestrictedExpression::new_set(
            keys.map(|p| RestrictedExpression::new_entity_uid(self.action(&p))),
        )
    }
}

fn cedar_entities(types: &CedarTypes, snapshot: &Snapshot) -> Entities {
    let mut entities = Vec::with_capacity(snapshot.roles.len() + snapshot.memberships.len());
    for role in &snapshot.roles {
        let attrs = HashMap::from([
            (
                "perms".to_owned(),
                types.action_set(role.permissions.iter().cloned()),
            ),
            (
                "scoped".to_owned(),
                RestrictedExpression::new_bool(role.scoped),
            ),
        ]);
        let uid = CedarTypes::uid(&types.role, &role.role_id.to_string());
        entities.push(Entity::new(uid, attrs, HashSet::new()).expect("role entity"));
    }
    for m in &snapshot.memberships {
        let effect = |want: OverrideEffect| {
            types.action_set(
                m.overrides
                    .iter()
                    .filter(move |(_, e)| **e == want)
                    .map(|(p, _)| p.clone()),
            )
        };
        let assigned = RestrictedExpression::new_set(m.assignments.iter().map(|r| {
            RestrictedExpression::new_entity_uid(CedarTypes::uid(
                &types.resource,
                &format!("{}/{}", r.resource_type, r.resource_id),
            ))
        }));
        let attrs = HashMap::from([
            (
                "active".to_owned(),
                RestrictedExpression::new_bool(m.status == MembershipStatus::Active),
            ),
            (
                "role".to_owned(),
                RestrictedExpression::new_entity_uid(CedarTypes::uid(
                    &types.role,
                    &m.role_id.to_string(),
                )),
            ),
            ("grants".to_owned(), effect(OverrideEffect::Grant)),
            ("denies".to_owned(), effect(OverrideEffect::Deny)),
            ("assigned".to_owned(), assigned),
        ]);
        let uid = types.member(m.account_id, m.organization_id);
        entities.push(Entity::new(uid, attrs, HashSet::new()).expect("member entity"));
    }
    Entities::from_entities(entities, None).expect("cedar entities")
}

fn cedar_request(types: &CedarTypes, q: &Query) -> Request {
    let resource = match &q.resource {
        Some(r) => CedarTypes::uid(
            &types.resource,
            &format!("{}/{}", r.resource_type, r.resource_id),
        ),
        None => CedarTypes::uid(&types.org, &q.organization.to_string()),
    };
    Request::new(
        types.member(q.account, q.organization),
        types.action(&q.permission),
        resource,
        Context::empty(),
        None,
    )
    .expect("cedar request")
}

struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
}

impl Cedar {
    fn check(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == CedarDecision::Allow
    }
}

// ------------------------------------------------------------------- bench

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn bench_compare(c: &mut Criterion) {
    let started = Instant::now();
    let data = DataSet::generate(Shape::ISSUE_5, SEED);
    let (roles, memberships, assignments, overrides) = counts(&data.snapshot);
    eprintln!(
        "data set: {} accounts, {} organizations, {roles} roles, {memberships} memberships, \
         {assignments} assignments, {overrides} overrides, {} queries ({:.1?})",
        data.accounts.len(),
        data.organizations.len(),
        data.queries.len(),
        started.elapsed()
    );
    let index = AuthzIndex::from_snapshot(data.snapshot.clone());

    let engine_orgs = std::env::var("GARDIEN_BENCH_ENGINE_ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ENGINE_ORGANIZATIONS)
        .clamp(data.shape.query_organizations, data.organizations.len());
    let subset = data.subset(engine_orgs);
    let (roles, memberships, assignments, _) = counts(&subset);
    eprintln!(
        "casbin and cedar hold {engine_orgs} organizations: {roles} roles, {memberships} \
         memberships, {assignments} assignments"
    );

    let rss = rss_kib();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let enforcer = runtime.block_on(casbin_enforcer(&subset));
    eprintln!(
        "casbin loaded in {:.1?}, RSS +{} MiB",
        started.elapsed(),
        rss_kib().saturating_sub(rss) / 1024
    );

    let rss = rss_kib();
    let started = Instant::now();
    let types = CedarTypes::new();
    let cedar = Cedar {
        authorizer: Authorizer::new(),
        policies: CEDAR_POLICIES.parse().expect("cedar policies"),
        entities: cedar_entities(&types, &subset),
    };
    eprintln!(
        "cedar loaded in {:.1?}, RSS +{} MiB",
        started.elapsed(),
        rss_kib().saturating_sub(rss) / 1024
    );
    drop(subset);

    // The same answers from all three, on every query of the mix.
    let casbin_queries: Vec<CasbinQuery> = data.queries.iter().map(casbin_query).collect();
    let cedar_requests: Vec<Request> = data
        .queries
        .iter()
        .map(|q| cedar_request(&types, q))
        .collect();
    let mut allowed = 0;
    for (i, q) in data.queries.iter().enumerate() {
        let ours = index.check(
            q.account,
            q.organization,
            &q.permission,
            q.resource.as_ref(),
        );
        assert!(q.kind.matches(&ours), "{q:?}: {ours:?}");
        assert_eq!(ours.allowed, q.allowed, "{q:?}");
        assert_eq!(
            casbin_check(&enforcer, &casbin_queries[i]),
            ours.allowed,
            "casbin differs on {q:?} ({ours:?})"
        );
        assert_eq!(
            cedar.check(&cedar_requests[i]),
            ours.allowed,
            "cedar differs on {q:?} ({ours:?})"
        );
        allowed += ours.allowed as usize;
    }
    eprintln!(
        "{} queries, {allowed} allowed: gardien, casbin and cedar agree on every one",
        data.queries.len()
    );

    // One check per iteration, walking the shuffled mix.
    let n = data.queries.len();
    let mut group = c.benchmark_group("check_mixed");
    group.bench_function("gardien", |b| {
        let mut i = 0;
        b.iter(|| {
            let q = &data.queries[i % n];
            i += 1;
            index.check(
                black_box(q.account),
                q.organization,
                &q.permission,
                q.resource.as_ref(),
            )
        })
    });
    group.bench_function("casbin", |b| {
        let mut i = 0;
        b.iter(|| {
            let q = &casbin_queries[i % n];
            i += 1;
            casbin_check(&enforcer, black_box(q))
        })
    });
    group.bench_function("cedar", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &cedar_requests[i % n];
            i += 1;
            cedar.check(black_box(r))
        })
    });
    group.finish();

    // Each kind alone, for the three engines.
    for kind in QueryKind::ALL {
        let picked: Vec<usize> = (0..n).filter(|&i| data.queries[i].kind == kind).collect();
        let m = picked.len();
        let mut group = c.benchmark_group(format!("check_{kind:?}"));
        group.bench_function("gardien", |b| {
            let mut i = 0;
            b.iter(|| {
                let q = &data.queries[picked[i % m]];
                i += 1;
                index.check(
                    black_box(q.account),
                    q.organization,
                    &q.permission,
                    q.resource.as_ref(),
                )
            })
        });
        group.bench_function("casbin", |b| {
            let mut i = 0;
            b.iter(|| {
                let q = &casbin_queries[picked[i % m]];
                i += 1;
                casbin_check(&enforcer, black_box(q))
            })
        });
        group.bench_function("cedar", |b| {
            let mut i = 0;
            b.iter(|| {
                let r = &cedar_requests[picked[i % m]];
                i += 1;
                cedar.check(black_box(r))
            })
        });
        group.finish();
    }

    // List the visible resources of the member with 1 000 assignments.
    let (account, org) = data.heavy;
    let read = PermissionKey::parse("orders.read").expect("key");
    match index.visible_resources(account, org, &read, "order") {
        Visible::Only(ids) => assert_eq!(ids.len(), data.shape.heavy_assignments),
        other => panic!("the heavy member sees {other:?}"),
    }
    c.bench_function("visible_resources/scoped_1000_assigned", |b| {
        b.iter(|| index.visible_resources(black_box(account), org, &read, "order"))
    });
}

criterion_group!(benches, bench_compare);
criterion_main!(benches);
