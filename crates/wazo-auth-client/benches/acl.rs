//! The ACL engine's cost against the length of the entries and of the required access:
//! both must grow linearly (the figures go to `docs/security.md`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wazo_auth_client::AccessCheck;

/// The hostile shape of issue 13: wildcards that can each swallow any run, then a literal
/// the required access never contains and a final wildcard (so the literal-ends check
/// cannot settle it), so the automaton runs over the whole text.
fn hostile_entry(len: usize) -> String {
    let mut entry = "#.".repeat(len / 2);
    entry.truncate(len.saturating_sub(2));
    entry.push_str("x*");
    entry
}

fn required(len: usize) -> String {
    "a.".repeat(len / 2)
}

fn by_entry_length(c: &mut Criterion) {
    let mut group = c.benchmark_group("acl_entry_length");
    let text = required(1_000);
    for len in [250, 500, 1_000, 2_000, 4_000] {
        let check = AccessCheck::new("123", "s", &[hostile_entry(len)]);
        group.throughput(Throughput::Elements(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &len, |b, _| {
            b.iter(|| black_box(check.matches_required_access(Some(black_box(&text)))));
        });
    }
    group.finish();
}

fn by_required_length(c: &mut Criterion) {
    let mut group = c.benchmark_group("acl_required_length");
    let check = AccessCheck::new("123", "s", &[hostile_entry(20)]);
    for len in [1_000, 2_000, 4_000, 8_000, 16_000] {
        let text = required(len);
        group.throughput(Throughput::Elements(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &len, |b, _| {
            b.iter(|| black_box(check.matches_required_access(Some(black_box(&text)))));
        });
    }
    group.finish();
}

/// The case of the issue: 200 entries `#.#.#.#.#.xN` against 8,000 characters (33 s per
/// check before; now settled by the literal-ends check).
fn issue_case(c: &mut Criterion) {
    let acl: Vec<String> = (0..200).map(|i| format!("#.#.#.#.#.x{i}")).collect();
    let check = AccessCheck::new("123", "s", &acl);
    let text = required(8_000);
    c.bench_function("acl_200_entries_8000_chars", |b| {
        b.iter(|| black_box(check.matches_required_access(Some(black_box(&text)))));
    });
}

criterion_group!(benches, by_entry_length, by_required_length, issue_case);
criterion_main!(benches);
