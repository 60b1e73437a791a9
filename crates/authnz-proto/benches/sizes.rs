//! Seal + open across body sizes (100 B to 64 KiB), next to a bare AES-128-CBC +
//! HMAC-SHA256 of the same bytes in the same run, so the envelope's overhead (Fernet's
//! token layout, a fresh IV from the OS, two base64 layers) can be read as a ratio.

use std::hint::black_box;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use authnz_proto::{FernetEnvelope, FernetKey};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SIZES: [usize; 5] = [100, 1024, 4096, 16 * 1024, 64 * 1024];

/// A JSON object of exactly `len` bytes, shaped like a request body.
fn json_body(len: usize) -> Vec<u8> {
    let head = br#"{"request":"echo","body":{"data":""#;
    let tail = br#""}}"#;
    let fill = len.saturating_sub(head.len() + tail.len());
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(head);
    body.extend((0..fill).map(|i| b'a' + (i % 26) as u8));
    body.extend_from_slice(tail);
    assert_eq!(body.len(), len, "body has the requested size");
    serde_json::from_slice::<serde_json::Value>(&body).expect("the body is JSON");
    body
}

/// What the envelope does at its core: encrypt, MAC, verify, decrypt (fixed IV, no
/// timestamp, no base64).
fn bare_seal_open(plain: &[u8], enc_key: &[u8; 16], mac_key: &[u8; 16], iv: &[u8; 16]) -> Vec<u8> {
    let ct = cbc::Encryptor::<aes::Aes128>::new(enc_key.into(), iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain);
    let mut mac = <Hmac<Sha256>>::new_from_slice(mac_key).expect("key");
    mac.update(iv);
    mac.update(&ct);
    let tag = mac.finalize().into_bytes();
    let mut check = <Hmac<Sha256>>::new_from_slice(mac_key).expect("key");
    check.update(iv);
    check.update(black_box(&ct));
    check.verify_slice(&tag).expect("tag");
    cbc::Decryptor::<aes::Aes128>::new(enc_key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ct)
        .expect("decrypt")
}

fn sizes(c: &mut Criterion) {
    let key = FernetKey::from_text(FernetKey::generate().expose_secret()).expect("a fresh key");
    let env = FernetEnvelope::new(key);
    let enc_key = [7u8; 16];
    let mac_key = [9u8; 16];
    let iv = [3u8; 16];
    let mut group = c.benchmark_group("authnz_sizes");
    for size in SIZES {
        let plain = json_body(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("envelope", size), &plain, |b, plain| {
            b.iter(|| {
                let sealed = env.seal(black_box(plain));
                black_box(env.open(black_box(&sealed)).expect("open"))
            });
        });
        group.bench_with_input(BenchmarkId::new("bare", size), &plain, |b, plain| {
            b.iter(|| black_box(bare_seal_open(black_box(plain), &enc_key, &mac_key, &iv)));
        });
    }
    group.finish();
}

criterion_group!(benches, sizes);
criterion_main!(benches);
