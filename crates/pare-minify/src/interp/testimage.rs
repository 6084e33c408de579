//! Synthetic images for the interpreter rules' tests: a file tree built in
//! memory with the bytes a rule reads captured and ELF files known to the
//! loader, as flattening with pare's scanners would leave them.

use std::collections::HashMap;

use pare_elf::ElfInfo;
use pare_elf::image::{ElfFinding, ImageRoot};
use pare_elf::search::Loader;
use pare_image::flatten::Captured;
use pare_image::rootfs::RootWarnings;
use pare_image::scan::Finding;
use pare_image::{Content, DataSource, FileTree, Flattened, Node, NodeKind};

use crate::interp::{AddRule, Context, Invocation, Undecided};
use crate::plan::{Plan, RunConfig};

/// One path of a synthetic image (paths relative, as in a layer).
pub(crate) enum F {
    Dir(&'static str),
    /// A regular file whose bytes are captured.
    File(&'static str, &'static [u8]),
    /// An x86-64 ELF object needing these libraries.
    Elf(&'static str, &'static [&'static str]),
    Link(&'static str, &'static str),
}

/// The image `entries` describe.
pub(crate) fn image(entries: &[F]) -> Flattened {
    let mut tree = FileTree::new();
    let mut captured = HashMap::new();
    let mut found: HashMap<usize, Vec<Finding>> = HashMap::new();
    let node = |kind, mode| Node {
        kind,
        mode,
        uid: 0,
        gid: 0,
        mtime: 0,
        xattrs: Vec::new(),
    };
    let file = |tree: &mut FileTree, path: &str, size: usize| {
        let id = tree.add_content(Content {
            source: DataSource::Layer {
                layer: 0,
                offset: 0,
            },
            size: size as u64,
        });
        tree.insert(path.to_string(), node(NodeKind::File(id), 0o755));
        id
    };
    for entry in entries {
        match entry {
            F::Dir(path) => tree.insert(path.to_string(), node(NodeKind::Dir, 0o755)),
            F::File(path, bytes) => {
                let id = file(&mut tree, path, bytes.len());
                let path = path.to_string();
                let bytes = bytes.to_vec();
                captured.insert(
                    id,
                    Captured {
                        path,
                        layer: 0,
                        bytes,
                    },
                );
            }
            F::Elf(path, needed) => {
                let id = file(&mut tree, path, 64);
                let info = ElfInfo {
                    is_64: true,
                    machine: 62,
                    needed: needed.iter().map(|s| s.to_string()).collect(),
                    dynamic: true,
                    ..ElfInfo::default()
                };
                found.insert(id, vec![Box::new(ElfFinding(Ok(info)))]);
            }
            F::Link(path, target) => tree.insert(
                path.to_string(),
                node(NodeKind::Symlink(target.to_string()), 0o777),
            ),
        }
    }
    Flattened {
        tree,
        layers: Vec::new(),
        warnings: RootWarnings::default(),
        captured,
        found,
    }
}

/// Adds what a scanner found in the file at `path` (relative).
pub(crate) fn with_finding(flat: &mut Flattened, path: &str, finding: Finding) {
    let Some(NodeKind::File(id)) = flat.tree.get(path).map(|n| n.kind.clone()) else {
        panic!("{path} is no file of the test image");
    };
    flat.found.entry(id).or_default().push(finding);
}

/// Runs `rule` for `argv` (the program as found and its words) in `flat`
/// with `env` and `workdir`, after the loader's closure of the program as
/// `plan` builds it; the plan and what the rule left undecided.
pub(crate) fn run(
    flat: &Flattened,
    env: &[&str],
    workdir: &str,
    argv: &[&str],
    rule: AddRule,
) -> (Plan, Vec<Undecided>) {
    let root = ImageRoot { flat };
    let loader = Loader::new(&root, None, Vec::new(), Vec::new());
    let config = RunConfig {
        env: env.iter().map(|e| e.to_string()).collect(),
        working_dir: Some(workdir.to_string()),
        ..RunConfig::default()
    };
    let path = argv[0].to_string();
    let real = flat
        .tree
        .resolve(path.trim_start_matches('/'), true)
        .map(|r| format!("/{r}"))
        .unwrap_or_else(|_| path.clone());
    let mut plan = Plan::default();
    for (kept, reasons) in loader.closure(std::slice::from_ref(&path)).keep {
        for reason in &reasons {
            plan.add(&kept, crate::why::Why::from(reason));
        }
    }
    let invocation = Invocation {
        path,
        real,
        args: argv[1..].iter().map(|a| a.to_string()).collect(),
    };
    let cx = Context {
        flat,
        root: &root,
        config: &config,
        path: crate::entry::DEFAULT_PATH,
        workdir,
        loader: &loader,
        keep_shell: false,
    };
    let undecided = rule(&cx, &invocation, &mut plan);
    (plan, undecided)
}

/// Checks a rule's outcome against a table row named `name`: every path
/// of `keep` kept with a reason, none of `drop` kept, and something left
/// undecided exactly when `undecided` lists words, each said.
pub(crate) fn assert_outcome<S: AsRef<str>>(
    name: &str,
    plan: &Plan,
    undecided: &[Undecided],
    keep: &[S],
    drop: &[S],
    expected: &[&str],
) {
    for path in keep.iter().map(AsRef::as_ref) {
        assert!(plan.keep.contains_key(path), "{name}: {path} not kept");
        assert!(!plan.explain(path).is_empty(), "{name}: {path}");
    }
    for path in drop.iter().map(AsRef::as_ref) {
        assert!(!plan.keep.contains_key(path), "{name}: {path} kept");
    }
    let said: Vec<String> = undecided.iter().map(|u| u.to_string()).collect();
    assert_eq!(said.is_empty(), expected.is_empty(), "{name}: {said:?}");
    for words in expected {
        assert!(said.iter().any(|s| s.contains(words)), "{name}: {said:?}");
    }
}
