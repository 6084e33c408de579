//! The minified image as a multi-stage Dockerfile, for teams that want the
//! method in their own pipeline:
//!
//! ```text
//! FROM <source> AS source
//! FROM source AS pick          # the kept paths, symlinks as symlinks
//! COPY <context>/keep.list …   # one NUL-separated list, not a long line
//! RUN tar … --no-recursion …   # exact entries: no link followed, no folder filled
//! COPY <context>/root/ …       # files pare writes (dpkg status.d, passwd)
//! FROM scratch
//! COPY --from=pick /pare-kept/ /
//! ENV / WORKDIR / USER / EXPOSE / VOLUME / LABEL / STOPSIGNAL / ENTRYPOINT / CMD
//! ```
//!
//! Why not one `COPY --from=source` a path: `COPY` follows a symlink it is
//! given, so `COPY --from=source /lib /lib` on a merged-/usr image would
//! copy all of `/usr/lib`. `tar --no-recursion` in the source stage copies
//! each listed entry as it is (it needs `tar` and `sh` in the source image,
//! which every image worth minifying has).

use std::collections::BTreeMap;

use serde_json::json;

/// Where the pick stage gathers the kept paths.
const PICKED: &str = "/pare-kept";

/// What the Dockerfile is made from.
pub struct DockerfileInput<'a> {
    /// The source image as `FROM` names it.
    pub from: &'a str,
    /// The folder with the generated files, relative to the build context.
    pub context_dir: &'a str,
    /// The image configuration to set in the final stage.
    pub config: &'a oci_spec::image::Config,
    /// Whether files pare wrote (under `<context_dir>/root/`) are copied in.
    pub has_new_files: bool,
    /// The command line that made it, for the header.
    pub made_by: &'a str,
}

/// The NUL-separated list of paths (relative to `/`) the pick stage
/// copies; folders before what is inside them.
pub fn keep_list<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for path in paths {
        out.extend_from_slice(path.trim_start_matches('/').as_bytes());
        out.push(0);
    }
    out
}

/// The Dockerfile text.
pub fn dockerfile(input: &DockerfileInput<'_>) -> String {
    let DockerfileInput {
        from,
        context_dir,
        config,
        has_new_files,
        made_by,
    } = input;
    let mut out = format!(
        "# Written by `{made_by}`.\n\
         # Build with the folder holding {context_dir}/ as the context:\n\
         #   docker build -f <this file> <that folder>\n"
    );
    if from.ends_with(":latest") {
        out.push_str(
            "# A local image cannot be pinned by digest here; tag it to pin it.\n\
             # hadolint ignore=DL3007\n",
        );
    }
    out.push_str(&format!("FROM {from} AS source\n\n"));
    out.push_str("FROM source AS pick\n");
    if config
        .user()
        .as_deref()
        .is_some_and(|u| !u.is_empty() && u != "root" && u != "0" && !u.starts_with("0:"))
    {
        // Reading every kept file and keeping owners needs root here; the
        // final stage sets the image's own USER again.
        out.push_str("# hadolint ignore=DL3002\nUSER 0\n");
    }
    out.push_str(&format!("COPY {context_dir}/keep.list /pare-keep.list\n"));
    out.push_str(&format!(
        "RUN mkdir {PICKED} \\\n    \
         && tar -cf /pare-kept.tar -C / --no-recursion --null -T /pare-keep.list \\\n    \
         && tar -xpf /pare-kept.tar -C {PICKED} --same-owner \\\n    \
         && rm /pare-kept.tar /pare-keep.list\n"
    ));
    if *has_new_files {
        out.push_str(&format!("COPY {context_dir}/root/ {PICKED}/\n"));
    }
    out.push_str("\nFROM scratch\n");
    out.push_str(&format!("COPY --from=pick {PICKED}/ /\n"));
    for line in config_lines(config) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A value in double quotes as the Dockerfile parser reads it: `\`, `"`
/// and `$` (which `ENV` and `LABEL` would expand) escaped.
fn quoted(value: &str) -> String {
    let mut out = String::from('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        if c == '\n' {
            out.push_str("\\n");
            continue;
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The final stage's instructions for `config`.
fn config_lines(config: &oci_spec::image::Config) -> Vec<String> {
    let mut lines = Vec::new();
    for var in config.env().iter().flatten() {
        let (name, value) = var.split_once('=').unwrap_or((var, ""));
        lines.push(format!("ENV {name}={}", quoted(value)));
    }
    let labels: BTreeMap<_, _> = config.labels().iter().flatten().collect();
    for (key, value) in labels {
        lines.push(format!("LABEL {}={}", quoted(key), quoted(value)));
    }
    for port in config.exposed_ports().iter().flatten() {
        lines.push(format!("EXPOSE {port}"));
    }
    let volumes: Vec<&String> = config.volumes().iter().flatten().collect();
    if !volumes.is_empty() {
        lines.push(format!("VOLUME {}", json!(volumes)));
    }
    if let Some(dir) = config.working_dir().as_deref().filter(|d| !d.is_empty()) {
        lines.push(format!("WORKDIR {dir}"));
    }
    if let Some(user) = config.user().as_deref().filter(|u| !u.is_empty()) {
        lines.push(format!("USER {user}"));
    }
    if let Some(signal) = config.stop_signal().as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("STOPSIGNAL {signal}"));
    }
    if let Some(entrypoint) = config.entrypoint() {
        lines.push(format!("ENTRYPOINT {}", json!(entrypoint)));
    }
    if let Some(cmd) = config.cmd() {
        lines.push(format!("CMD {}", json!(cmd)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_as_the_dockerfile_parser_reads_them() {
        let cases = [
            ("plain", r#""plain""#),
            ("a b", r#""a b""#),
            ("$HOME/x", r#""\$HOME/x""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r"C:\dir", r#""C:\\dir""#),
            ("two\nlines", r#""two\nlines""#),
        ];
        for (value, want) in cases {
            assert_eq!(quoted(value), want, "{value:?}");
        }
    }

    #[test]
    fn the_final_stage_carries_the_config() {
        let config: oci_spec::image::Config = serde_json::from_value(json!({
            "Env": ["PATH=/usr/bin:/bin", "GREETING=hello $USER"],
            "Entrypoint": ["/usr/bin/redis-server"],
            "Cmd": ["--port", "6379"],
            "WorkingDir": "/data",
            "User": "redis",
            "ExposedPorts": {"6379/tcp": {}},
            "Volumes": {"/data": {}},
            "Labels": {"org.example.a": "1"},
            "StopSignal": "SIGTERM",
        }))
        .unwrap();
        let text = dockerfile(&DockerfileInput {
            from: "pare-test/redis:bookworm",
            context_dir: "redis.context",
            config: &config,
            has_new_files: true,
            made_by: "pare minify",
        });
        let after_scratch = text.split("FROM scratch\n").nth(1).unwrap();
        assert_eq!(
            after_scratch,
            "COPY --from=pick /pare-kept/ /\n\
             ENV PATH=\"/usr/bin:/bin\"\n\
             ENV GREETING=\"hello \\$USER\"\n\
             LABEL \"org.example.a\"=\"1\"\n\
             EXPOSE 6379/tcp\n\
             VOLUME [\"/data\"]\n\
             WORKDIR /data\n\
             USER redis\n\
             STOPSIGNAL SIGTERM\n\
             ENTRYPOINT [\"/usr/bin/redis-server\"]\n\
             CMD [\"--port\",\"6379\"]\n"
        );
        assert!(text.contains("FROM pare-test/redis:bookworm AS source\n"));
        assert!(text.contains("COPY redis.context/root/ /pare-kept/\n"));
        assert!(text.contains("FROM source AS pick\n# hadolint ignore=DL3002\nUSER 0\n"));
        assert!(!text.contains("DL3007"));
    }

    #[test]
    fn keep_list_is_relative_and_nul_separated() {
        assert_eq!(
            keep_list(["/usr", "/usr/bin", "/lib"]),
            b"usr\0usr/bin\0lib\0"
        );
    }
}
