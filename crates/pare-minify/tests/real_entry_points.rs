//! Entry points of the real test images, resolved and closed over by the
//! loader's rules (the images come from tests/images/build.sh; skipped
//! locally when missing, a failure under CI=true).

use pare_elf::image::{ElfScanner, ImageRoot};
use pare_elf::{LdCache, Loader};
use pare_image::source::FlattenOptions;
use pare_image::{ImageRef, Platform, Source};
use pare_minify::entry::DEFAULT_PATH;
use pare_minify::{Request, RunConfig, resolve_entry};
use pare_testkit::test_image;

fn image(name: &str) -> Option<Source> {
    let path = test_image(name)?;
    let reference = ImageRef::parse(&format!("docker-archive:{}", path.display())).unwrap();
    Some(Source::open(&reference, &Platform::default()).unwrap())
}

/// The programs the image's own Entrypoint + Cmd run, and their closure.
fn entry_closure(name: &str) -> Option<(Vec<String>, Vec<String>)> {
    let source = image(name)?;
    let config = RunConfig::of(source.config());
    let argv = config.argv(&Request::default());
    let path = config.var("PATH").unwrap_or(DEFAULT_PATH);
    let workdir = config.workdir();
    let flat = source
        .flatten_with(FlattenOptions {
            capture: Some(Box::new(|p: &str, _| p == "etc/ld.so.cache")),
            scanners: vec![Box::new(ElfScanner)],
        })
        .unwrap();
    let root = ImageRoot { flat: &flat };
    let programs: Vec<String> = resolve_entry(&root, &argv, path, &workdir, false)
        .unwrap()
        .into_iter()
        .map(|p| p.path)
        .collect();
    let cache = flat
        .read("etc/ld.so.cache")
        .unwrap()
        .map(|b| LdCache::parse(&b).unwrap());
    let closure = Loader::new(&root, cache, Vec::new(), Vec::new()).closure(&programs);
    assert!(closure.missing.is_empty(), "{name}: {:?}", closure.missing);
    Some((programs, closure.keep.into_keys().collect()))
}

#[test]
fn every_test_image_entry_point_resolves_and_loads_from_inside_the_image() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "redis",
            "/usr/bin/redis-server",
            &["/usr/lib/x86_64-linux-gnu/libssl.so.3"],
        ),
        (
            "nginx",
            "/usr/sbin/nginx",
            &["/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0"],
        ),
        ("python", "/usr/bin/python3", &["/usr/bin/python3.11"]),
        (
            "apps",
            "/usr/bin/docker-registry",
            &["/usr/lib/x86_64-linux-gnu/libc.so.6"],
        ),
    ];
    for (name, program, needs) in cases {
        let Some((programs, kept)) = entry_closure(name) else {
            continue;
        };
        assert_eq!(programs, [program.to_string()], "{name}");
        for need in *needs {
            assert!(
                kept.iter().any(|k| k == need),
                "{name}: {need} not in {kept:?}"
            );
        }
        // Nothing an attacker wants: no shell or package manager is loaded.
        for tool in [
            "/usr/bin/bash",
            "/usr/bin/dash",
            "/usr/bin/dpkg",
            "/usr/bin/apt",
        ] {
            assert!(!kept.iter().any(|k| k == tool), "{name}: {tool} kept");
        }
    }
}
