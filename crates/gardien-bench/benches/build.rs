//! The start-up index build on issue 5's data set, and the memory the index
//! holds: `cargo bench -p gardien-bench --bench build`.
//!
//! Memory is counted by this binary's global allocator (bytes live = bytes
//! allocated − bytes freed, so exact and independent of the allocator's
//! caching), read before the build and after it with the snapshot dropped:
//! what the running instance keeps. The peak during the build (snapshot and
//! index both alive) is reported too.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc as System;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gardien_authz::AuthzIndex;
use gardien_bench::{counts, DataSet, Shape, SEED};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the `gardien` binary's allocator (mimalloc), only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn bench_build(c: &mut Criterion) {
    let data = DataSet::generate(Shape::ISSUE_5, SEED);
    let (roles, memberships, assignments, overrides) = counts(&data.snapshot);
    eprintln!(
        "data set: {} accounts, {} organizations, {roles} roles, {memberships} memberships, \
         {assignments} assignments, {overrides} overrides",
        data.accounts.len(),
        data.organizations.len(),
    );

    // Memory: what the index keeps once the snapshot is gone.
    let snapshot = data.snapshot.clone();
    let with_snapshot = LIVE.load(Ordering::Relaxed);
    drop(snapshot);
    let without = LIVE.load(Ordering::Relaxed);
    let snapshot_bytes = with_snapshot - without;
    let snapshot = data.snapshot.clone();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    // Consumes the snapshot: it is freed before this returns.
    let index = AuthzIndex::from_snapshot(snapshot);
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - without;
    let held = LIVE.load(Ordering::Relaxed) - without;
    eprintln!(
        "index built in {took:.2?}; the snapshot (as read from the store) takes {:.0} MiB; \
         the index holds {:.0} MiB ({:.0} bytes per membership); peak during the build \
         {:.0} MiB (snapshot + index)",
        mib(snapshot_bytes),
        mib(held),
        held as f64 / memberships as f64,
        mib(peak),
    );
    assert!(index.version() == data.snapshot.version);
    drop(index);

    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("from_snapshot/issue_5_data_set", |b| {
        b.iter_batched(
            || data.snapshot.clone(),
            |snapshot| black_box(AuthzIndex::from_snapshot(snapshot)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_build);
criterion_main!(benches);
