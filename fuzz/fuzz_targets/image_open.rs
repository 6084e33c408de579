#![no_main]
//! Opening an image: index, manifests, config (and then its layers) read
//! through pare-image's public API from an `oci:` layout or a
//! `docker-archive:` built from the input.
//!
//! Input: a mode byte (even: OCI layout, odd: docker archive), then parts
//! separated by `pare_fuzz::SEP`. Part 0 is `index.json` (OCI) or
//! `manifest.json` (docker). Part i ≥ 1 is stored as blob
//! `sha256:<its digest>` (OCI) or member `i` (docker). In a part, `@j`
//! stands for part j's digest (`sha256:…`) and `#j` for its size, for
//! j > i (parts are resolved from the last), so the fuzzer can write
//! descriptors that match without computing hashes.

use libfuzzer_sys::fuzz_target;
use pare_image::{Image, ImageRef, Platform};
use sha2::{Digest as _, Sha256};

/// The parts with every `@j`/`#j` of a later part replaced.
fn resolve(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![Vec::new(); parts.len()];
    let mut digests = vec![String::new(); parts.len()];
    for i in (0..parts.len()).rev() {
        let mut bytes = Vec::with_capacity(parts[i].len());
        let mut k = 0;
        while k < parts[i].len() {
            let b = parts[i][k];
            let j = parts[i].get(k + 1).and_then(|d| d.checked_sub(b'0'));
            match j {
                Some(j)
                    if (b == b'@' || b == b'#')
                        && (j as usize) > i
                        && (j as usize) < parts.len() =>
                {
                    let j = j as usize;
                    if b == b'@' {
                        bytes.extend_from_slice(digests[j].as_bytes());
                    } else {
                        bytes.extend_from_slice(out[j].len().to_string().as_bytes());
                    }
                    k += 2;
                }
                _ => {
                    bytes.push(b);
                    k += 1;
                }
            }
        }
        digests[i] = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        out[i] = bytes;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let parts = resolve(&pare_fuzz::split(rest, 10));
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let reference = if mode % 2 == 0 {
        let blobs = dir.path().join("blobs/sha256");
        if std::fs::create_dir_all(&blobs).is_err() {
            return;
        }
        let _ = std::fs::write(
            dir.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );
        let _ = std::fs::write(dir.path().join("index.json"), &parts[0]);
        for part in &parts[1..] {
            let hex = hex::encode(Sha256::digest(part));
            let _ = std::fs::write(blobs.join(hex), part);
        }
        ImageRef::Oci {
            dir: dir.path().to_path_buf(),
            name: None,
        }
    } else {
        let mut builder = tar::Builder::new(Vec::new());
        for (i, part) in parts.iter().enumerate() {
            let name = if i == 0 {
                "manifest.json".to_string()
            } else {
                i.to_string()
            };
            let mut header = tar::Header::new_gnu();
            header.set_size(part.len() as u64);
            header.set_mode(0o644);
            let _ = builder.append_data(&mut header, name, &part[..]);
        }
        let Ok(tar) = builder.into_inner() else {
            return;
        };
        let path = dir.path().join("image.tar");
        if std::fs::write(&path, tar).is_err() {
            return;
        }
        ImageRef::DockerArchive { path, name: None }
    };
    if let Ok(image) = Image::open(&reference, &Platform::default()) {
        let _ = image.flatten();
    }
});
