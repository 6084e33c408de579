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

/// A configuration value the Dockerfile syntax cannot carry safely: written
/// as is, a line break in it would start an instruction of the image's
/// choosing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the image's {field} \"{value}\" cannot be written to a Dockerfile safely")]
pub struct UnsafeValue {
    pub field: &'static str,
    pub value: String,
}

/// `value` for an instruction that takes the rest of the line: refused if
/// it holds a control character (or, with `no_blanks`, white space).
fn bare<'a>(field: &'static str, value: &'a str, no_blanks: bool) -> Result<&'a str, UnsafeValue> {
    let bad = |c: char| c.is_control() || (no_blanks && c.is_whitespace());
    if value.is_empty() || value.chars().any(bad) {
        return Err(UnsafeValue {
            field,
            value: value.to_string(),
        });
    }
    Ok(value)
}

/// An `EXPOSE` port as Docker writes them: `PORT[-PORT][/tcp|udp|sctp]`.
fn port(value: &str) -> Result<&str, UnsafeValue> {
    let (ports, protocol) = value.split_once('/').unwrap_or((value, "tcp"));
    let numbers_ok = ports
        .split('-')
        .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if numbers_ok && ["tcp", "udp", "sctp"].contains(&protocol) {
        Ok(value)
    } else {
        Err(UnsafeValue {
            field: "exposed port",
            value: value.to_string(),
        })
    }
}

/// The Dockerfile text, or the configuration value that would have let the
/// image write instructions of its own into it.
pub fn dockerfile(input: &DockerfileInput<'_>) -> Result<String, UnsafeValue> {
    let DockerfileInput {
        from,
        context_dir,
        config,
        has_new_files,
        made_by,
    } = input;
    // A comment ends at a line break: none may come from the command line.
    let made_by: String = made_by
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let from = bare("name", from, true)?;
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
    for line in config_lines(config)? {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
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
fn config_lines(config: &oci_spec::image::Config) -> Result<Vec<String>, UnsafeValue> {
    let mut lines = Vec::new();
    for var in config.env().iter().flatten() {
        let (name, value) = var.split_once('=').unwrap_or((var, ""));
        let name = bare("environment variable name", name, true)?;
        if name.contains(['"', '\'', '\\', '$']) {
            return Err(UnsafeValue {
                field: "environment variable name",
                value: name.to_string(),
            });
        }
        lines.push(format!("ENV {name}={}", quoted(value)));
    }
    let labels: BTreeMap<_, _> = config.labels().iter().flatten().collect();
    for (key, value) in labels {
        lines.push(format!("LABEL {}={}", quoted(key), quoted(value)));
    }
    for exposed in config.exposed_ports().iter().flatten() {
        lines.push(format!("EXPOSE {}", port(exposed)?));
    }
    let volumes: Vec<&String> = config.volumes().iter().flatten().collect();
    if !volumes.is_empty() {
        lines.push(format!("VOLUME {}", json!(volumes)));
    }
    if let Some(dir) = config.working_dir().as_deref().filter(|d| !d.is_empty()) {
        lines.push(format!(
            "WORKDIR {}",
            bare("working directory", dir, false)?
        ));
    }
    if let Some(user) = config.user().as_deref().filter(|u| !u.is_empty()) {
        lines.push(format!("USER {}", bare("user", user, true)?));
    }
    if let Some(signal) = config.stop_signal().as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("STOPSIGNAL {}", bare("stop signal", signal, true)?));
    }
    // JSON arrays: serde_json escapes every control character.
    if let Some(entrypoint) = config.entrypoint() {
        lines.push(format!("ENTRYPOINT {}", json!(entrypoint)));
    }
    if let Some(cmd) = config.cmd() {
        lines.push(format!("CMD {}", json!(cmd)));
    }
    Ok(lines)
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
        })
        .unwrap();
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
    fn an_image_cannot_write_instructions_into_the_dockerfile() {
        let injected = "x\nCOPY --from=source /etc/shadow /";
        let cases: Vec<(&str, serde_json::Value)> = vec![
            (
                "working directory",
                json!({"WorkingDir": format!("/data{injected}")}),
            ),
            ("user", json!({"User": format!("redis{injected}")})),
            ("user", json!({"User": "two words"})),
            (
                "stop signal",
                json!({"StopSignal": format!("SIGTERM{injected}")}),
            ),
            (
                "exposed port",
                json!({"ExposedPorts": {format!("80/tcp{injected}"): {}}}),
            ),
            ("exposed port", json!({"ExposedPorts": {"http": {}}})),
            (
                "environment variable name",
                json!({"Env": [format!("A{injected}=1")]}),
            ),
            ("environment variable name", json!({"Env": ["A\"B=1"]})),
        ];
        for (field, config) in cases {
            let config: oci_spec::image::Config = serde_json::from_value(config).unwrap();
            let input = DockerfileInput {
                from: "pare-test/redis:bookworm",
                context_dir: "ctx",
                config: &config,
                has_new_files: false,
                made_by: "pare minify",
            };
            assert_eq!(dockerfile(&input).unwrap_err().field, field);
        }
        // What the JSON and quoted forms carry stays inside them.
        let config: oci_spec::image::Config = serde_json::from_value(json!({
            "Env": [format!("A=1{injected}")],
            "Cmd": [injected],
            "Labels": {injected: injected},
            "ExposedPorts": {"8000-8010/udp": {}},
        }))
        .unwrap();
        let input = DockerfileInput {
            from: "pare-test/redis:bookworm",
            context_dir: "ctx",
            config: &config,
            has_new_files: false,
            made_by: "pare minify image\nRUN evil",
        };
        let text = dockerfile(&input).unwrap();
        assert!(
            !text.lines().any(|l| l.starts_with("COPY --from=source")),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("RUN evil")), "{text}");
        assert!(text.contains("EXPOSE 8000-8010/udp\n"));
        let bad_name = DockerfileInput {
            from: "name\nRUN evil",
            ..input
        };
        assert_eq!(dockerfile(&bad_name).unwrap_err().field, "name");
    }

    #[test]
    fn keep_list_is_relative_and_nul_separated() {
        assert_eq!(
            keep_list(["/usr", "/usr/bin", "/lib"]),
            b"usr\0usr/bin\0lib\0"
        );
    }
}
