//! Seal + open of the recorded `user-login` request (serde included), next to a bare
//! AES-128-CBC + HMAC-SHA256 of the same bytes as the floor the envelope adds to.

use std::hint::black_box;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use authnz_proto::{FernetEnvelope, FernetKey, Request, UserLogin};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const VECTORS: &str = include_str!("../tests/data/vectors.json");

fn user_login() -> (FernetEnvelope, Request<UserLogin>) {
    let v: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors");
    let key = FernetKey::from_text(v["wire_example"]["key"].as_str().expect("key")).expect("key");
    let step = v["roundtrip_transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .find(|s| s["request"]["request"] == "user-login")
        .expect("a user-login step");
    let request = serde_json::from_value(step["request"].clone()).expect("typed user-login");
    (FernetEnvelope::new(key), request)
}

fn envelope(c: &mut Criterion) {
    let (env, request) = user_login();
    let mut group = c.benchmark_group("authnz");
    group.bench_function("seal_open_user_login", |b| {
        b.iter(|| {
            let plain = serde_json::to_vec(black_box(&request)).expect("serialise");
            let sealed = env.seal(&plain);
            let opened = env.open(black_box(&sealed)).expect("open");
            let back: Request<UserLogin> = serde_json::from_slice(&opened).expect("parse");
            black_box(back)
        });
    });

    // The parts, to see where the time goes.
    group.bench_function("serde_only_user_login", |b| {
        b.iter(|| {
            let plain = serde_json::to_vec(black_box(&request)).expect("serialise");
            let back: Request<UserLogin> = serde_json::from_slice(&plain).expect("parse");
            black_box(back)
        });
    });
    let plain = serde_json::to_vec(&request).expect("serialise");
    group.bench_function("seal_only_user_login", |b| {
        b.iter(|| black_box(env.seal(black_box(&plain))));
    });
    let sealed = env.seal(&plain);
    group.bench_function("open_only_user_login", |b| {
        b.iter(|| black_box(env.open(black_box(&sealed)).expect("open")));
    });

    let enc_key = [7u8; 16];
    let mac_key = [9u8; 16];
    let iv = [3u8; 16];
    group.bench_function("aes_cbc_hmac_baseline", |b| {
        b.iter(|| {
            let ct = cbc::Encryptor::<aes::Aes128>::new(&enc_key.into(), &iv.into())
                .encrypt_padded_vec_mut::<Pkcs7>(black_box(&plain));
            let mut mac = <Hmac<Sha256>>::new_from_slice(&mac_key).expect("key");
            mac.update(&iv);
            mac.update(&ct);
            let tag = mac.finalize().into_bytes();
            let mut check = <Hmac<Sha256>>::new_from_slice(&mac_key).expect("key");
            check.update(&iv);
            check.update(black_box(&ct));
            check.verify_slice(&tag).expect("tag");
            let pt = cbc::Decryptor::<aes::Aes128>::new(&enc_key.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(&ct)
                .expect("decrypt");
            black_box(pt)
        });
    });
    group.finish();
}

criterion_group!(benches, envelope);
criterion_main!(benches);
