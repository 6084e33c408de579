//! The loader rules on real binaries: the test images built from Debian
//! packages by tests/images/build.sh (skipped locally when they are
//! missing, a failure under CI=true).

use pare_elf::image::{ElfScanner, ImageRoot};
use pare_elf::{LdCache, Loader, Reason};
use pare_image::source::FlattenOptions;
use pare_image::{Flattened, ImageRef, Platform, Source};
use pare_testkit::test_image;

fn flatten(name: &str) -> Option<Flattened> {
    let path = test_image(name)?;
    let reference = ImageRef::parse(&format!("docker-archive:{}", path.display())).unwrap();
    let source = Source::open(&reference, &Platform::default()).unwrap();
    let options = FlattenOptions {
        capture: Some(Box::new(|path: &str, _| {
            path == "etc/ld.so.cache" || path.starts_with("etc/ld.so.conf")
        })),
        scanners: vec![Box::new(ElfScanner)],
    };
    Some(source.flatten_with(options).unwrap())
}

fn loader(flat: &Flattened) -> (ImageRoot<'_>, Option<LdCache>) {
    let cache = flat
        .read("etc/ld.so.cache")
        .unwrap()
        .map(|bytes| LdCache::parse(&bytes).unwrap());
    (ImageRoot { flat }, cache)
}

#[test]
fn redis_server_closure_follows_the_cache_and_keeps_every_link() {
    let Some(flat) = flatten("redis") else { return };
    let (root, cache) = loader(&flat);
    assert!(cache.is_some(), "Debian images have an ld.so.cache");
    let closure = Loader::new(&root, cache, Vec::new(), Vec::new())
        .closure(&["/usr/bin/redis-server".to_string()]);
    assert!(closure.missing.is_empty(), "{:?}", closure.missing);
    let kept: Vec<&str> = closure.keep.keys().map(String::as_str).collect();
    for want in [
        // Debian's redis-server is a symlink to redis-check-rdb.
        "/usr/bin/redis-server",
        "/usr/bin/redis-check-rdb",
        // PT_INTERP through /lib64 and the loader's own symlink (merged /usr).
        "/lib64",
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libssl.so.3",
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
    ] {
        assert!(kept.contains(&want), "{want} not kept: {kept:?}");
    }
    // Libraries came from ld.so.cache, and nothing from outside lib folders.
    let libc = &closure.keep["/usr/lib/x86_64-linux-gnu/libc.so.6"];
    assert!(
        libc.iter().any(|r| matches!(
            r,
            Reason::Needed {
                how: "ld.so.cache",
                ..
            }
        )),
        "{libc:?}"
    );
    assert!(kept.len() < 40, "a small closure: {kept:?}");
}

#[test]
fn python_closure_is_the_interpreter_and_its_libraries() {
    let Some(flat) = flatten("python") else {
        return;
    };
    let (root, cache) = loader(&flat);
    let closure = Loader::new(&root, cache, Vec::new(), Vec::new())
        .closure(&["/usr/bin/python3".to_string()]);
    assert!(closure.missing.is_empty(), "{:?}", closure.missing);
    let kept: Vec<&str> = closure.keep.keys().map(String::as_str).collect();
    // python3 -> python3.11, a chain of one symlink, both kept.
    assert!(kept.contains(&"/usr/bin/python3"), "{kept:?}");
    assert!(kept.contains(&"/usr/bin/python3.11"), "{kept:?}");
    assert!(
        kept.iter().any(|k| k.ends_with("/libexpat.so.1")),
        "{kept:?}"
    );
}

#[test]
fn a_missing_library_is_reported_with_who_needs_it() {
    // busybox-static needs nothing; a made-up entry point is missing.
    let Some(flat) = flatten("busybox") else {
        return;
    };
    let (root, cache) = loader(&flat);
    let closure = Loader::new(&root, cache, Vec::new(), Vec::new())
        .closure(&["/bin/busybox".to_string(), "/bin/not-here".to_string()]);
    let kept: Vec<&str> = closure.keep.keys().map(String::as_str).collect();
    assert_eq!(kept, ["/bin/busybox"], "a static binary loads nothing");
    assert_eq!(closure.missing.len(), 1);
    assert_eq!(closure.missing[0].name, "/bin/not-here");
}

#[test]
fn ld_so_conf_of_debian_names_its_multiarch_and_local_folders() {
    let Some(flat) = flatten("debian") else {
        return;
    };
    let read = |path: &str| {
        let bytes = flat.read(path.trim_start_matches('/')).unwrap()?;
        Some(String::from_utf8(bytes.into_owned()).unwrap())
    };
    let list = |dir: &str| -> Vec<String> {
        flat.tree
            .children(dir.trim_start_matches('/'))
            .map(|(p, _)| p.rsplit('/').next().unwrap().to_string())
            .collect()
    };
    // Debian's libc.conf, then x86_64-linux-gnu.conf, as ldconfig reads them.
    assert_eq!(
        pare_elf::ldconf::conf_dirs(&read, &list),
        [
            "/usr/local/lib",
            "/usr/local/lib/x86_64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
        ]
    );
}
