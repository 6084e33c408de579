//! Issue 12 done: runtimes minified with `--static-only` and no
//! `--include`, from what pare knows of the interpreter alone, start and
//! answer real requests. Each test prints the image's size before and
//! after (`docker save` archives) for BENCHMARKS.md.

use sha2::{Digest, Sha256};

use crate::common::*;
use crate::require;

/// Prints `image`'s archive size before and after minifying.
fn sizes(image: &str, served: &ServedImage) {
    let before = test_image(image).map_or(0, |p| std::fs::metadata(p).unwrap().len());
    eprintln!("{image}: {before} -> {} bytes", served.bytes);
}

#[test]
fn static_node_app_finds_its_externalised_builtins_and_full_icu() {
    // Debian's node: libnode loads acorn, undici and cjs-module-lexer from
    // /usr/share/nodejs (it refuses to start without them) and links the
    // system ICU, whose data makes the German and Japanese answers.
    let served = require!(serve_static_minified(
        "node",
        "pare-test/node-static:it",
        8085,
        &[],
        &[],
    ));
    let answer = served.get("/");
    assert!(answer.contains(" 200 "), "{answer}");
    assert!(answer.contains("März"), "{answer}");
    assert!(answer.contains("2024年3月1日金曜日"), "{answer}");
    let builtin = served.explained("/usr/share/nodejs/acorn/dist/acorn.js");
    assert!(
        builtin.contains("externalised built-in module"),
        "{builtin}"
    );
    let script = served.explained("/app/server.js");
    assert!(
        script.contains("named by the argument /app/server.js"),
        "{script}"
    );
    sizes("node", &served);
}

#[test]
fn static_java_app_run_with_a_class_path_answers() {
    // `java -cp /app Main` on Debian's openjdk-17-jre-headless: the JRE
    // home, its conf/ and cacerts links into /etc, and the class path.
    let served = require!(serve_static_minified(
        "java",
        "pare-test/java-static:it",
        8088,
        &[],
        &[],
    ));
    let answer = served.get("/");
    assert!(answer.contains(" 200 "), "{answer}");
    let primes = (2..100_000u32)
        .filter(|n| (2..).take_while(|d| d * d <= *n).all(|d| n % d != 0))
        .count();
    assert!(
        answer.contains(&format!("primes below 100000: {primes}\n")),
        "{answer}"
    );
    let digest: String = Sha256::digest(b"pare")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        answer.contains(&format!("sha256(pare): {digest}\n")),
        "{answer}"
    );
    assert!(answer.contains("month: März\n"), "{answer}");
    let home = "/usr/lib/jvm/java-17-openjdk-amd64";
    let vm = served.explained(&format!("{home}/lib/server/libjvm.so"));
    assert!(vm.contains("the VM lib/jvm.cfg chooses (server)"), "{vm}");
    let security = served.explained("/etc/java-17-openjdk/security/java.security");
    assert!(security.contains("in the JRE home"), "{security}");
    let class = served.explained("/app/Main.class");
    assert!(class.contains("named by the argument -cp /app"), "{class}");
    sizes("java", &served);
}
